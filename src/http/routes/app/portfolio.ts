import express, { Router } from 'express';
import { z } from 'zod';
import { portfolio } from '../../../billing/portfolio.ts';
import { retryInvoice } from '../../../billing/retry.ts';
import type { AppContext } from '../../../context.ts';
import { requireCsrf } from '../../csrf.ts';
import { sameOriginOnly } from '../../security.ts';
import { requireSession, requireWritableSession, sessionOf } from '../../session.ts';
import { appPage, exportLink, grouped, h, type PageContext, pageContext, shown, tenantOf } from './layout.ts';

type Portfolio = Awaited<ReturnType<typeof portfolio>>;

const Id = z.object({ id: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/) });

export const STATUS_WORDS: Record<string, string> = {
  planned: 'Planned',
  accepted: 'Accepted, not invoiced',
  invoicing: 'Being invoiced',
  invoiced: 'Invoiced',
  invoice_failed: 'Invoice refused',
  partially_paid: 'Partially paid',
  paid: 'Paid',
  disputed: 'Disputed',
  cancelled: 'Cancelled',
};

/**
 * What a page may say in its banner: the server's own words, picked by a code in the URL (text
 * taken from the URL would let anyone's link put words in the app's mouth).
 */
const NOTICES: Record<string, string> = {
  retried: 'The invoice is on its way to QuickBooks again.',
};

/** The bookkeeper's and owner's overview across deals, and Retry for refused invoices. */
export function portfolioPageRoutes(ctx: AppContext): Router {
  const router = Router();
  const session = requireSession(ctx.db);

  router.get('/app/portfolio', session, async (req, res) => {
    const page = await pageContext(ctx, req, res);
    const data = await portfolio(ctx.db, page.tenant.id, page.filters, ctx.clock.today());
    const done = typeof req.query.done === 'string' ? NOTICES[req.query.done] : undefined;
    const csrf = page.session.shareLinkId ? undefined : page.csrf;
    res.type('html').send(
      appPage(page, {
        title: 'Portfolio',
        path: '/app/portfolio',
        notice: done,
        body: portfolioBody(data, page, csrf),
      }),
    );
  });

  router.post(
    '/app/milestones/:id/retry',
    sameOriginOnly(ctx.config.publicUrl),
    session,
    requireWritableSession,
    express.urlencoded({ extended: false, limit: '10kb' }),
    requireCsrf(ctx.encryptionKey),
    async (req, res) => {
      const tenant = await tenantOf(ctx, res);
      const who = `session:${sessionOf(res).userEmail ?? tenant.portalId}`;
      const milestone = await retryInvoice(ctx, { db: ctx.db, tenant, actor: who }, Id.parse(req.params).id);
      res.redirect(303, `/app/portfolio?done=retried&milestone=${encodeURIComponent(milestone.id)}`);
    },
  );
  return router;
}

function portfolioBody(data: Portfolio, page: PageContext, csrf: string | undefined): string {
  const attention = data.needsAttention.length
    ? `<table><caption class="sr">Milestones that need a person</caption><thead><tr><th scope="col">Deal</th><th scope="col">Milestone</th><th scope="col" class="n">Amount</th><th scope="col">Why</th><th scope="col"><span class="sr">Action</span></th></tr></thead><tbody>${data.needsAttention
        .map(
          (a) =>
            `<tr data-kind="${h(a.kind)}"><td><a href="/app/deals/${encodeURIComponent(a.dealId)}">${h(a.dealName ?? `Deal ${a.dealId}`)}</a></td><td>${h(a.milestone)}</td><td class="n">${shown(a.amount)}</td><td>${h(a.reason)}</td><td>${
              a.kind === 'invoice_failed' && csrf
                ? `<form method="post" action="/app/milestones/${h(a.milestoneId)}/retry"><input type="hidden" name="_csrf" value="${h(csrf)}"><button type="submit" aria-label="${h(`Retry the invoice of ${a.milestone}`)}">Retry</button></form>`
                : ''
            }</td></tr>`,
        )
        .join('')}</tbody></table>${exportLink('attention', page.filters, 'what needs attention')}`
    : '<p>Nothing needs a person right now.</p>';
  const received = data.received.length
    ? `<table><caption class="sr">Invoiced in QuickBooks, by currency</caption><thead><tr><th scope="col">Currency</th><th scope="col" class="n">Invoiced</th><th scope="col" class="n">Paid</th><th scope="col" class="n">Outstanding</th><th scope="col" class="n">Overdue</th></tr></thead><tbody>${data.received
        .map(
          (r) =>
            `<tr><th scope="row">${h(r.currency)}</th><td class="n">${h(grouped(r.invoiced.amount))}</td><td class="n">${h(grouped(r.paid.amount))}</td><td class="n">${h(grouped(r.outstanding.amount))}</td><td class="n">${h(grouped(r.overdue.amount))}</td></tr>`,
        )
        .join('')}</tbody></table>${exportLink('receivables', page.filters, 'receivables')}`
    : '<p>No invoice has reached QuickBooks yet.</p>';
  const currencies = [...new Set(data.byStatus.map((r) => r.currency))];
  const byStatus = currencies.length
    ? `${currencies
        .map((currency) => {
          const rows = data.byStatus.filter((r) => r.currency === currency);
          return `<table><caption>Milestones in ${h(currency)}</caption><thead><tr><th scope="col">Status</th><th scope="col" class="n">Milestones</th><th scope="col" class="n">Amount (${h(currency)})</th></tr></thead><tbody>${rows
            .map(
              (r) =>
                `<tr><th scope="row">${h(STATUS_WORDS[r.status] ?? r.status)}</th><td class="n">${r.count}</td><td class="n">${h(grouped(r.amount.amount))}</td></tr>`,
            )
            .join('')}</tbody></table>`;
        })
        .join('')}${exportLink('status', page.filters, 'milestones by status')}`
    : '<p>No billing schedule yet.</p>';
  return `<p>As of ${h(data.asOf)}. Amounts are never added up across currencies.</p>
<section aria-labelledby="attention"><h2 id="attention">Needs attention${data.needsAttention.length ? ` (${data.needsAttention.length})` : ''}</h2>${attention}</section>
<section aria-labelledby="receivables"><h2 id="receivables">Invoiced in QuickBooks</h2>${received}</section>
<section aria-labelledby="status"><h2 id="status">Milestones by status</h2>${byStatus}</section>`;
}
