import { Router } from 'express';
import { z } from 'zod';
import { dealCard } from '../../../billing/deal-card.ts';
import type { AppContext } from '../../../context.ts';
import { HttpProblem } from '../../problem.ts';
import { requireSession, sessionOf } from '../../session.ts';
import { appPage, dealUrl, h, pageContext, shown } from './layout.ts';
import { STATUS_WORDS } from './portfolio.ts';

const DealParams = z.object({ dealId: z.string().regex(/^\d{1,20}$/, 'must be a HubSpot deal id') });

/** One deal's schedule, read-only, with the deal in HubSpot and each invoice in QuickBooks a click away. */
export function dealPageRoutes(ctx: AppContext): Router {
  const router = Router();
  router.get('/app/deals/:dealId', requireSession(ctx.db), async (req, res) => {
    const { dealId } = DealParams.parse(req.params);
    const page = await pageContext(ctx, req, res);
    const actor = `session:${sessionOf(res).userEmail ?? page.tenant.portalId}`;
    const card = await dealCard(ctx, { db: ctx.db, tenant: page.tenant, actor }, dealId, { waitMs: 2000 });
    const schedule = card.schedule;
    if (!schedule) throw new HttpProblem('not_found', `deal ${dealId} has no billing schedule`);
    const rows = schedule.milestones
      .map((m) => {
        const invoice = card.invoices[m.id];
        const link = invoice?.url
          ? `<a href="${h(invoice.url)}" rel="noopener" target="_blank">${h(invoice.docNumber)}<span class="sr"> (opens QuickBooks)</span></a>`
          : invoice
            ? h(invoice.docNumber)
            : '—';
        return `<tr data-status="${h(m.status)}"><th scope="row">${h(m.name)}</th><td>${h(m.deliverable)}</td><td class="n">${shown(m.amount)}</td><td>${h(m.plannedDate)}</td><td>${h(STATUS_WORDS[m.status] ?? m.status)}${invoice?.error ? `: ${h(invoice.error)}` : ''}</td><td>${link}</td><td class="n">${invoice ? shown(invoice.paid) : '—'}</td><td>${invoice?.dueDate ? h(invoice.dueDate) : '—'}${invoice?.overdue ? ' <span class="tag cluster">Overdue</span>' : ''}</td></tr>`;
      })
      .join('');
    const attention = card.attention.length
      ? `<section aria-labelledby="deal-attention"><h2 id="deal-attention">Needs attention</h2><ul>${card.attention.map((a) => `<li>${h(a.message)}</li>`).join('')}</ul></section>`
      : '';
    const body = `<p><a href="${h(dealUrl(page.tenant, dealId))}" rel="noopener" target="_blank">Open the deal in HubSpot<span class="sr"> (new tab)</span></a> · <a href="/app/portfolio">Back to the portfolio</a></p>
<p>Contract ${shown(schedule.contractValue)} · scheduled ${shown(schedule.totals.scheduled)} · invoiced ${shown(schedule.totals.invoiced)} · version ${schedule.version}${schedule.state === 'frozen' ? ' · frozen (deal deleted)' : ''}</p>
${attention}
<section aria-labelledby="milestones"><h2 id="milestones">Milestones</h2><table><thead><tr><th scope="col">Milestone</th><th scope="col">Deliverable</th><th scope="col" class="n">Amount</th><th scope="col">Planned</th><th scope="col">Status</th><th scope="col">Invoice</th><th scope="col" class="n">Paid</th><th scope="col">Due</th></tr></thead><tbody>${rows}</tbody></table></section>`;
    res.type('html').send(
      appPage(page, {
        title: schedule.dealName ?? card.deal?.name ?? `Deal ${dealId}`,
        path: `/app/deals/${dealId}`,
        body,
        filters: false,
      }),
    );
  });
  return router;
}
