import { stringify } from 'csv-stringify/sync';
import { Router } from 'express';
import { z } from 'zod';
import { receivablesAging } from '../../../billing/aging.ts';
import { cashForecast } from '../../../billing/forecast.ts';
import { portfolio } from '../../../billing/portfolio.ts';
import type { AppContext } from '../../../context.ts';
import { AGING_BUCKETS } from '../../../domain/forecast.ts';
import { requireSession } from '../../session.ts';
import { portfolioFilters } from '../api/portfolio.ts';
import { BUCKET_WORDS } from './aging.ts';
import { tenantOf } from './layout.ts';

const Table = z.object({ table: z.enum(['attention', 'receivables', 'status', 'forecast', 'aging']) });

/**
 * A spreadsheet opens a cell starting with = + - @ (or a tab or return) as a formula: in names and
 * reasons such a character gets an apostrophe before it, at the start and after every `,` `;` or tab,
 * since a spreadsheet whose list separator is `;` (most of Europe) splits a field there when it
 * ignores the quotes (OWASP, "CSV Injection"). Every field is quoted as well. Amounts stay plain
 * decimals in the currency's minor-unit precision.
 */
const text = (value: string | null | undefined) =>
  (value ?? '').replace(/(^|[,;\t]\s*)([=+\-@\t\r])/g, "$1'$2");

type Rows = (string | number)[][];

/** Every table of the pages as CSV, with the same filters. */
export function exportRoutes(ctx: AppContext): Router {
  const router = Router();
  router.get('/app/export/:table.csv', requireSession(ctx.db), async (req, res) => {
    const { table } = Table.parse(req.params);
    const tenant = await tenantOf(ctx, res);
    const filters = portfolioFilters(req);
    const rows = await tables[table](ctx, tenant.id, filters);
    res
      .type('text/csv; charset=utf-8')
      .attachment(`${table}-${new Date().toISOString().slice(0, 10)}.csv`)
      .send(stringify(rows, { quoted: true, quoted_empty: true }));
  });
  return router;
}

type Filters = ReturnType<typeof portfolioFilters>;

const tables: Record<
  z.infer<typeof Table>['table'],
  (ctx: AppContext, tenantId: string, f: Filters) => Promise<Rows>
> = {
  async attention(ctx, tenantId, f) {
    const { needsAttention } = await portfolio(ctx.db, tenantId, f, ctx.clock.today());
    return [
      [
        'Deal ID',
        'Deal',
        'Milestone',
        'Status',
        'Why',
        'Kind',
        'Currency',
        'Amount',
        'Planned date',
        'Invoice',
        'Due date',
      ],
      ...needsAttention.map((a) => [
        a.dealId,
        text(a.dealName),
        text(a.milestone),
        a.status,
        text(a.reason),
        a.kind,
        a.amount.currency,
        a.amount.amount,
        a.plannedDate,
        text(a.docNumber),
        a.dueDate ?? '',
      ]),
    ];
  },
  async receivables(ctx, tenantId, f) {
    const { received } = await portfolio(ctx.db, tenantId, f, ctx.clock.today());
    return [
      ['Currency', 'Invoiced', 'Paid', 'Outstanding', 'Overdue'],
      ...received.map((r) => [
        r.currency,
        r.invoiced.amount,
        r.paid.amount,
        r.outstanding.amount,
        r.overdue.amount,
      ]),
    ];
  },
  async status(ctx, tenantId, f) {
    const { byStatus } = await portfolio(ctx.db, tenantId, f, ctx.clock.today());
    return [
      ['Currency', 'Status', 'Milestones', 'Amount'],
      ...byStatus.map((r) => [r.currency, r.status, r.count, r.amount.amount]),
    ];
  },
  async forecast(ctx, tenantId, f) {
    const { currencies } = await cashForecast(ctx.db, tenantId, f, ctx.clock.today());
    return [
      ['Currency', 'Week of', 'Kind', 'Mark', 'Amount'],
      ...currencies.flatMap((c) =>
        c.weeks.map((w) => [c.currency, w.week, w.kind, w.mark ?? '', w.amount.amount]),
      ),
    ];
  },
  async aging(ctx, tenantId, f) {
    const { customers } = await receivablesAging(ctx.db, tenantId, f, ctx.clock.today());
    return [
      [
        'Currency',
        'Customer',
        'QuickBooks customer ID',
        ...AGING_BUCKETS.map((b) => BUCKET_WORDS[b]),
        'Total',
      ],
      ...customers.map((c) => [
        c.currency,
        text(c.customerName),
        c.customerId ?? '',
        ...AGING_BUCKETS.map((b) => c[b].amount),
        c.total.amount,
      ]),
    ];
  },
};
