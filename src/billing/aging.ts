import { and, asc, eq, sql } from 'drizzle-orm';
import type { CalendarDate } from '../domain/dates.ts';
import { AGING_BUCKETS, type AgingBucket } from '../domain/forecast.ts';
import { moneyView } from '../schedules/view.ts';
import type { Queryable } from '../store/db.ts';
import { invoicePushes, milestones, schedules } from '../store/schema.ts';
import {
  balanceInQuickBooks,
  filterConditions,
  openInvoice,
  type PortfolioFilters,
} from './portfolio-filters.ts';

const bucketSums = (asOf: CalendarDate) => {
  const late = sql`(${asOf}::date - ${invoicePushes.dueDate})`;
  const sum = (when: ReturnType<typeof sql>) =>
    sql<string>`coalesce(sum(${balanceInQuickBooks}) filter (where ${when}), 0)::text`;
  return {
    current: sum(sql`${late} <= 0 or ${invoicePushes.dueDate} is null`),
    days_1_30: sum(sql`${late} between 1 and 30`),
    days_31_60: sum(sql`${late} between 31 and 60`),
    days_61_90: sum(sql`${late} between 61 and 90`),
    days_over_90: sum(sql`${late} > 90`),
  } satisfies Record<AgingBucket, unknown>;
};

/**
 * Receivables aging per QuickBooks customer and currency: what is still owed on the app's invoices
 * (QuickBooks' balance), by days past due: current, 1–30, 31–60, 61–90, over 90.
 */
export async function receivablesAging(
  db: Queryable,
  tenantId: string,
  filters: PortfolioFilters,
  asOf: CalendarDate,
) {
  const rows = await db
    .select({
      currency: invoicePushes.currency,
      customerId: invoicePushes.qboCustomerId,
      customerName: sql<string | null>`max(${invoicePushes.customerName})`,
      invoices: sql<number>`count(*)::int`,
      total: sql<string>`sum(${balanceInQuickBooks})::text`,
      ...bucketSums(asOf),
    })
    .from(invoicePushes)
    .innerJoin(milestones, eq(milestones.id, invoicePushes.milestoneId))
    .innerJoin(schedules, eq(schedules.id, milestones.scheduleId))
    .where(and(eq(invoicePushes.tenantId, tenantId), openInvoice, filterConditions(filters)))
    .groupBy(invoicePushes.currency, invoicePushes.qboCustomerId)
    .orderBy(
      asc(invoicePushes.currency),
      sql`max(${invoicePushes.customerName})`,
      asc(invoicePushes.qboCustomerId),
    );

  const view = (r: (typeof rows)[number]) =>
    Object.fromEntries(AGING_BUCKETS.map((b) => [b, moneyView(Number(r[b]), r.currency)])) as Record<
      AgingBucket,
      ReturnType<typeof moneyView>
    >;
  const currencies = [...new Set(rows.map((r) => r.currency))];
  return {
    asOf,
    buckets: AGING_BUCKETS,
    customers: rows.map((r) => ({
      currency: r.currency,
      customerId: r.customerId,
      customerName: r.customerName ?? `QuickBooks customer ${r.customerId}`,
      invoices: r.invoices,
      total: moneyView(Number(r.total), r.currency),
      ...view(r),
    })),
    totals: currencies.map((currency) => {
      const mine = rows.filter((r) => r.currency === currency);
      const add = (k: AgingBucket | 'total') => mine.reduce((sum, r) => sum + Number(r[k]), 0);
      return {
        currency,
        total: moneyView(add('total'), currency),
        ...(Object.fromEntries(AGING_BUCKETS.map((b) => [b, moneyView(add(b), currency)])) as Record<
          AgingBucket,
          ReturnType<typeof moneyView>
        >),
      };
    }),
  };
}
