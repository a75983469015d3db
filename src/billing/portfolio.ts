import { and, asc, eq, inArray, lt, ne, or, type SQL, sql } from 'drizzle-orm';
import type { CalendarDate } from '../domain/dates.ts';
import { displayMoney } from '../domain/money.ts';
import { moneyView } from '../schedules/view.ts';
import type { Queryable } from '../store/db.ts';
import { invoicePushes, milestones, schedules } from '../store/schema.ts';
import { owedOn } from './ledger.ts';
import {
  balanceInQuickBooks,
  billedInQuickBooks,
  filterConditions,
  type PortfolioFilters,
} from './portfolio-filters.ts';

export type { PortfolioFilters } from './portfolio-filters.ts';

const ATTENTION_LIMIT = 200;

/**
 * Where the tenant's milestone billing stands across deals, answered by grouped, indexed queries
 * (never by loading every schedule): milestones by status per currency (amounts are never summed
 * across currencies), what was received and is still owed, and what needs a person.
 */
export async function portfolio(
  db: Queryable,
  tenantId: string,
  filters: PortfolioFilters,
  asOf: CalendarDate,
) {
  const filtered = filterConditions(filters);

  // Three queries at once: on a pool, each takes its own connection.
  const byStatusQuery = db
    .select({
      currency: schedules.currency,
      status: milestones.status,
      count: sql<number>`count(*)::int`,
      amount: sql<string>`sum(${milestones.amount})::text`,
    })
    .from(milestones)
    .innerJoin(schedules, eq(schedules.id, milestones.scheduleId))
    .leftJoin(invoicePushes, eq(invoicePushes.milestoneId, milestones.id))
    .where(and(eq(milestones.tenantId, tenantId), ne(milestones.status, 'cancelled'), filtered))
    .groupBy(schedules.currency, milestones.status)
    .orderBy(asc(schedules.currency), asc(milestones.status));

  // QuickBooks' figures, tax included: billed is its total, owed its balance, received the rest.
  const open = balanceInQuickBooks;
  const moneyQuery = db
    .select({
      currency: invoicePushes.currency,
      invoiced: sql<string>`sum(${billedInQuickBooks})::text`,
      paid: sql<string>`sum(${billedInQuickBooks} - ${open})::text`,
      outstanding: sql<string>`sum(${open})::text`,
      overdue: sql<string>`coalesce(sum(${open}) filter (where ${invoicePushes.dueDate} < ${asOf}), 0)::text`,
    })
    .from(invoicePushes)
    .innerJoin(milestones, eq(milestones.id, invoicePushes.milestoneId))
    .innerJoin(schedules, eq(schedules.id, milestones.scheduleId))
    .where(and(eq(invoicePushes.tenantId, tenantId), eq(invoicePushes.status, 'created'), filtered))
    .groupBy(invoicePushes.currency)
    .orderBy(asc(invoicePushes.currency));

  const [byStatus, money, attention] = await Promise.all([
    byStatusQuery,
    moneyQuery,
    needsAttention(db, tenantId, asOf, filtered),
  ]);
  const minor = (text: string | null) => Number(text ?? 0);
  return {
    asOf,
    byStatus: byStatus.map((r) => ({ ...r, amount: moneyView(minor(r.amount), r.currency) })),
    received: money.map((r) => ({
      currency: r.currency,
      invoiced: moneyView(minor(r.invoiced), r.currency),
      paid: moneyView(minor(r.paid), r.currency),
      outstanding: moneyView(minor(r.outstanding), r.currency),
      overdue: moneyView(minor(r.overdue), r.currency),
    })),
    needsAttention: attention,
  };
}

export type AttentionKind =
  | 'earned_not_billed'
  | 'invoice_failed'
  | 'disputed'
  | 'discrepancy'
  | 'flagged'
  | 'overdue'
  | 'planned_date_passed';

/** Each milestone that needs a person, with why, oldest first. */
async function needsAttention(
  db: Queryable,
  tenantId: string,
  asOf: CalendarDate,
  filtered: SQL | undefined,
) {
  const rows = await db
    .select({
      milestone: {
        id: milestones.id,
        name: milestones.name,
        status: milestones.status,
        amount: milestones.amount,
        plannedDate: milestones.plannedDate,
        needsAttention: milestones.needsAttention,
        attentionReason: milestones.attentionReason,
      },
      dealId: schedules.dealId,
      dealName: schedules.dealName,
      currency: schedules.currency,
      push: {
        id: invoicePushes.id,
        status: invoicePushes.status,
        docNumber: invoicePushes.docNumber,
        dueDate: invoicePushes.dueDate,
        amount: invoicePushes.amount,
        paidAmount: invoicePushes.paidAmount,
        qboBalance: invoicePushes.qboBalance,
        currency: invoicePushes.currency,
        discrepancy: invoicePushes.discrepancy,
        errorMessage: invoicePushes.errorMessage,
      },
    })
    .from(milestones)
    .innerJoin(schedules, eq(schedules.id, milestones.scheduleId))
    .leftJoin(invoicePushes, eq(invoicePushes.milestoneId, milestones.id))
    .where(
      and(
        eq(milestones.tenantId, tenantId),
        filtered,
        or(
          inArray(milestones.status, ['accepted', 'invoicing', 'invoice_failed', 'disputed']),
          eq(milestones.needsAttention, true),
          and(eq(milestones.status, 'planned'), lt(milestones.plannedDate, asOf)),
          and(
            eq(invoicePushes.status, 'created'),
            lt(invoicePushes.dueDate, asOf),
            sql`${balanceInQuickBooks} > 0`,
          ),
        ),
      ),
    )
    .orderBy(asc(milestones.plannedDate), asc(milestones.id))
    .limit(ATTENTION_LIMIT);
  return rows.map(({ milestone: m, dealId, dealName, currency, push }) => {
    const { kind, reason } = why(m, push, asOf);
    return {
      kind,
      reason,
      dealId,
      dealName,
      milestoneId: m.id,
      milestone: m.name,
      status: m.status,
      amount: moneyView(m.amount, currency),
      plannedDate: m.plannedDate,
      docNumber: push?.docNumber ?? null,
      dueDate: push?.dueDate ?? null,
    };
  });
}

type AttentionMilestone = Pick<
  typeof milestones.$inferSelect,
  'id' | 'name' | 'status' | 'amount' | 'plannedDate' | 'needsAttention' | 'attentionReason'
>;
type AttentionPush = Pick<
  typeof invoicePushes.$inferSelect,
  | 'id'
  | 'status'
  | 'docNumber'
  | 'dueDate'
  | 'amount'
  | 'paidAmount'
  | 'qboBalance'
  | 'currency'
  | 'discrepancy'
  | 'errorMessage'
>;

function why(
  m: AttentionMilestone,
  push: AttentionPush | null,
  asOf: CalendarDate,
): { kind: AttentionKind; reason: string } {
  if (m.status === 'invoice_failed')
    return {
      kind: 'invoice_failed',
      reason: m.attentionReason ?? push?.errorMessage ?? 'QuickBooks refused the invoice',
    };
  if (m.status === 'disputed') return { kind: 'disputed', reason: 'The client disputes the deliverable' };
  if (push?.discrepancy) return { kind: 'discrepancy', reason: push.discrepancy };
  if (m.needsAttention && m.attentionReason) return { kind: 'flagged', reason: m.attentionReason };
  if (m.status === 'accepted' || m.status === 'invoicing')
    return { kind: 'earned_not_billed', reason: 'Accepted by the client, not yet invoiced' };
  if (push?.status === 'created' && push.dueDate && push.dueDate < asOf) {
    const open = owedOn(push);
    return {
      kind: 'overdue',
      reason: `Invoice ${push.docNumber} was due on ${push.dueDate}; ${displayMoney(open, push.currency)} still open`,
    };
  }
  return { kind: 'planned_date_passed', reason: `Planned for ${m.plannedDate}, not accepted yet` };
}

/** What the portfolio can be filtered by: the values the tenant's schedules and invoices hold. */
export async function filterChoices(db: Queryable, tenantId: string) {
  const [facts, customers] = await Promise.all([
    db
      .selectDistinct({
        currency: schedules.currency,
        ownerId: schedules.ownerId,
        pipelineId: schedules.pipelineId,
      })
      .from(schedules)
      .where(eq(schedules.tenantId, tenantId)),
    db
      .select({
        id: invoicePushes.qboCustomerId,
        name: sql<string | null>`max(${invoicePushes.customerName})`,
      })
      .from(invoicePushes)
      .where(and(eq(invoicePushes.tenantId, tenantId), sql`${invoicePushes.qboCustomerId} is not null`))
      .groupBy(invoicePushes.qboCustomerId),
  ]);
  const distinct = (values: (string | null)[]) =>
    [...new Set(values.filter((v): v is string => v !== null))].sort();
  return {
    currencies: distinct(facts.map((f) => f.currency)),
    ownerIds: distinct(facts.map((f) => f.ownerId)),
    pipelineIds: distinct(facts.map((f) => f.pipelineId)),
    customers: customers
      .map((c) => ({ id: c.id!, name: c.name ?? `QuickBooks customer ${c.id}` }))
      .sort((a, b) => a.name.localeCompare(b.name)),
  };
}
