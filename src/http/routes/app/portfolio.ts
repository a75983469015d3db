import express, { Router } from 'express';
import { z } from 'zod';
import { portfolio } from '../../../billing/portfolio.ts';
import { retryInvoice } from '../../../billing/retry.ts';
import type { AppContext } from '../../../context.ts';
import { escapeHtml } from '../../../security/html.ts';
import { findTenant, type Tenant } from '../../../tenants/repository.ts';
import { csrfToken, requireCsrf } from '../../csrf.ts';
import { HttpProblem } from '../../problem.ts';
import { sameOriginOnly } from '../../security.ts';
import { requireSession, sessionOf } from '../../session.ts';

type Portfolio = Awaited<ReturnType<typeof portfolio>>;

const Id = z.object({ id: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/) });

/** The bookkeeper's and owner's pages: the portfolio across deals, and Retry for refused invoices. */
export function portfolioPageRoutes(ctx: AppContext): Router {
  const router = Router();
  const session = requireSession(ctx.db);
  const tenantOf = async (res: express.Response): Promise<Tenant> => {
    const tenant = await findTenant(ctx.db, sessionOf(res).tenantId);
    if (!tenant) throw new HttpProblem('unauthorized', 'sign in again from HubSpot');
    return tenant;
  };

  router.get('/app/portfolio', session, async (req, res) => {
    const tenant = await tenantOf(res);
    const data = await portfolio(ctx.db, tenant.id);
    const done = typeof req.query.done === 'string' ? req.query.done.slice(0, 200) : undefined;
    res
      .type('html')
      .send(portfolioPage(data, { tenant, csrf: csrfToken(ctx.encryptionKey, req.header('cookie')), done }));
  });

  router.post(
    '/app/milestones/:id/retry',
    sameOriginOnly(ctx.config.publicUrl),
    session,
    express.urlencoded({ extended: false, limit: '10kb' }),
    requireCsrf(ctx.encryptionKey),
    async (req, res) => {
      const tenant = await tenantOf(res);
      const who = `session:${sessionOf(res).userEmail ?? tenant.portalId}`;
      const milestone = await retryInvoice(ctx, { db: ctx.db, tenant, actor: who }, Id.parse(req.params).id);
      res.redirect(
        303,
        `/app/portfolio?done=${encodeURIComponent(`"${milestone.name}" is on its way to QuickBooks again`)}`,
      );
    },
  );
  return router;
}

const h = escapeHtml;
const STATUS_WORDS: Record<string, string> = {
  planned: 'Planned',
  accepted: 'Accepted, not invoiced',
  invoicing: 'Being invoiced',
  invoiced: 'Invoiced',
  invoice_failed: 'Invoice refused',
  partially_paid: 'Partially paid',
  paid: 'Paid',
  disputed: 'Disputed',
};

function portfolioPage(
  data: Portfolio,
  opts: { tenant: Tenant; csrf: string; done: string | undefined },
): string {
  const currencies = [...new Set(data.byStatus.map((r) => r.currency))];
  const byCurrency = currencies
    .map((currency) => {
      const rows = data.byStatus
        .filter((r) => r.currency === currency)
        .map(
          (r) =>
            `<tr><th scope="row">${h(STATUS_WORDS[r.status] ?? r.status)}</th><td>${r.count}</td><td class="n">${h(r.amount.amount)}</td></tr>`,
        )
        .join('');
      return `<table><caption>Milestones in ${h(currency)}</caption><thead><tr><th scope="col">Status</th><th scope="col">Milestones</th><th scope="col">Amount (${h(currency)})</th></tr></thead><tbody>${rows}</tbody></table>`;
    })
    .join('');
  const received = data.received.length
    ? `<table><caption>Receivables</caption><thead><tr><th scope="col">Currency</th><th scope="col">Invoiced</th><th scope="col">Paid</th><th scope="col">Outstanding</th><th scope="col">Overdue</th></tr></thead><tbody>${data.received
        .map(
          (r) =>
            `<tr><th scope="row">${h(r.currency)}</th><td class="n">${h(r.invoiced.amount)}</td><td class="n">${h(r.paid.amount)}</td><td class="n">${h(r.outstanding.amount)}</td><td class="n">${h(r.overdue.amount)}</td></tr>`,
        )
        .join('')}</tbody></table>`
    : '<p>No invoice has reached QuickBooks yet.</p>';
  const dealUrl = (dealId: string) =>
    `https://app.hubspot.com/contacts/${encodeURIComponent(opts.tenant.portalId)}/record/0-3/${encodeURIComponent(dealId)}`;
  const attention = data.needsAttention.length
    ? `<table><caption>Needs attention</caption><thead><tr><th scope="col">Deal</th><th scope="col">Milestone</th><th scope="col">Amount</th><th scope="col">Why</th><th scope="col"><span class="sr">Action</span></th></tr></thead><tbody>${data.needsAttention
        .map(
          (a) =>
            `<tr data-kind="${h(a.kind)}"><td><a href="${h(dealUrl(a.dealId))}">${h(a.dealName ?? `Deal ${a.dealId}`)}</a></td><td>${h(a.milestone)}</td><td class="n">${h(`${a.amount.currency} ${a.amount.amount}`)}</td><td>${h(a.reason)}</td><td>${
              a.kind === 'invoice_failed'
                ? `<form method="post" action="/app/milestones/${h(a.milestoneId)}/retry"><input type="hidden" name="_csrf" value="${h(opts.csrf)}"><button type="submit" aria-label="${h(`Retry the invoice of ${a.milestone}`)}">Retry</button></form>`
                : ''
            }</td></tr>`,
        )
        .join('')}</tbody></table>`
    : '<p>Nothing needs a person right now.</p>';
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><title>Portfolio · Milestone Billing</title>
<style>body{font:15px/1.5 system-ui,sans-serif;margin:2rem auto;max-width:64rem;padding:0 1rem;color:#213343}
h1{font-size:1.5rem}table{border-collapse:collapse;width:100%;margin:1.5rem 0}caption{text-align:left;font-weight:600;font-size:1.1rem;padding:.25rem 0}
th,td{border-bottom:1px solid #cbd6e2;padding:.4rem .6rem;text-align:left}td.n{text-align:right;font-variant-numeric:tabular-nums}
a{color:#0b5e86}button{font:inherit;padding:.25rem .8rem;border:1px solid #0b5e86;background:#0b5e86;color:#fff;border-radius:3px;cursor:pointer}
button:focus-visible,a:focus-visible{outline:3px solid #f5a623;outline-offset:2px}.done{background:#e5f5f8;padding:.5rem 1rem;border-left:4px solid #00a4bd}
.sr{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0)}</style></head><body>
<main><h1>Portfolio of ${h(opts.tenant.name)}</h1><p>As of ${h(data.asOf)}. Amounts are never added up across currencies.</p>
${opts.done ? `<p class="done" role="status">${h(opts.done)}</p>` : ''}
${attention}${received}${byCurrency || '<p>No billing schedule yet.</p>'}
</main></body></html>`;
}
