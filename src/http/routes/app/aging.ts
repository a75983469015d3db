import { Router } from 'express';
import { receivablesAging } from '../../../billing/aging.ts';
import type { AppContext } from '../../../context.ts';
import type { AgingBucket } from '../../../domain/forecast.ts';
import { requireSession } from '../../session.ts';
import { appPage, exportLink, grouped, h, pageContext } from './layout.ts';

export const BUCKET_WORDS: Record<AgingBucket, string> = {
  current: 'Current',
  days_1_30: '1–30 days',
  days_31_60: '31–60 days',
  days_61_90: '61–90 days',
  days_over_90: 'Over 90 days',
};

export function agingPageRoutes(ctx: AppContext): Router {
  const router = Router();
  router.get('/app/aging', requireSession(ctx.db), async (req, res) => {
    const page = await pageContext(ctx, req, res);
    const data = await receivablesAging(ctx.db, page.tenant.id, page.filters, ctx.clock.today());
    const head = `<tr><th scope="col">Customer</th>${data.buckets
      .map((b) => `<th scope="col" class="n">${BUCKET_WORDS[b]}</th>`)
      .join('')}<th scope="col" class="n">Total</th></tr>`;
    const cells = (r: Record<AgingBucket | 'total', { amount: string }>) =>
      `${data.buckets.map((b) => `<td class="n" data-bucket="${b}">${h(grouped(r[b].amount))}</td>`).join('')}<td class="n" data-bucket="total">${h(grouped(r.total.amount))}</td>`;
    const tables = data.totals
      .map((t) => {
        const rows = data.customers
          .filter((c) => c.currency === t.currency)
          .map(
            (c) =>
              `<tr data-customer="${h(c.customerId ?? '')}"><th scope="row">${h(c.customerName)}</th>${cells(c)}</tr>`,
          )
          .join('');
        return `<table data-currency="${h(t.currency)}"><caption>Outstanding in ${h(t.currency)}, by days past due</caption><thead>${head}</thead><tbody>${rows}</tbody><tfoot><tr><th scope="row">All customers</th>${cells(t)}</tr></tfoot></table>`;
      })
      .join('');
    const body = data.totals.length
      ? `<p>As of ${h(data.asOf)}: what is still owed on the app's invoices, as QuickBooks' balances show it (tax included), by days past the due date.</p>${tables}${exportLink('aging', page.filters, 'the aging')}`
      : '<p>Nothing is owed on the invoices the app made.</p>';
    res.type('html').send(appPage(page, { title: 'Receivables aging', path: '/app/aging', body }));
  });
  return router;
}
