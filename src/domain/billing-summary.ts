import type { CalendarDate } from './dates.ts';
import { isEarned, type MilestoneStatus } from './lifecycle.ts';
import { toSafe } from './money.ts';

/** Where a deal's milestone billing stands, as one word for people and filters. */
export const SCHEDULE_STATUSES = ['none', 'draft', 'active', 'attention', 'complete'] as const;
export type ScheduleStatus = (typeof SCHEDULE_STATUSES)[number];

export interface SummaryMilestone {
  id: string;
  status: MilestoneStatus;
  amount: number;
  plannedDate: CalendarDate;
  needsAttention: boolean;
}

/** A deal's money roll-up, in minor units of its currency. */
export interface BillingSummary {
  status: ScheduleStatus;
  currency: string | null;
  invoiced: number;
  paid: number;
  outstanding: number;
  /** Outstanding on invoices whose due date has passed. */
  overdue: number;
  /** The earliest planned date of a milestone not yet accepted. */
  nextMilestoneDate: CalendarDate | null;
}

const INVOICED = new Set<MilestoneStatus>(['invoiced', 'partially_paid', 'paid']);

/**
 * The roll-up of a schedule, its milestones and its created invoices (the amount each invoice
 * billed, and what QuickBooks says was received on it; `paid: null` until it was reconciled, when a
 * milestone marked paid counts its invoice as received in full).
 */
export function billingSummary(
  schedule: { currency: string; attention: string[] } | undefined,
  milestones: SummaryMilestone[],
  invoices: { milestoneId: string; amount: number; paid?: number | null; dueDate?: CalendarDate | null }[],
  asOf?: CalendarDate,
): BillingSummary {
  const live = milestones.filter((m) => m.status !== 'cancelled');
  const status = scheduleStatus(schedule, live);
  if (!schedule || status === 'none') {
    return {
      status: 'none',
      currency: null,
      invoiced: 0,
      paid: 0,
      outstanding: 0,
      overdue: 0,
      nextMilestoneDate: null,
    };
  }
  const statusOf = new Map(live.map((m) => [m.id, m.status]));
  const invoiced = sum(invoices.map((i) => i.amount));
  const paidOf = (i: (typeof invoices)[number]) =>
    i.paid !== null && i.paid !== undefined
      ? Math.min(i.paid, i.amount)
      : statusOf.get(i.milestoneId) === 'paid'
        ? i.amount
        : 0;
  const paid = sum(invoices.map(paidOf));
  const overdue = sum(
    invoices.filter((i) => asOf && i.dueDate && i.dueDate < asOf).map((i) => i.amount - paidOf(i)),
  );
  return {
    status,
    currency: schedule.currency,
    invoiced: toSafe(invoiced, 'the invoiced amount'),
    paid: toSafe(paid, 'the paid amount'),
    outstanding: toSafe(invoiced - paid, 'the outstanding amount'),
    overdue: toSafe(overdue, 'the overdue amount'),
    nextMilestoneDate: nextMilestoneDate(live),
  };
}

/** Exact whatever the count: bigint, back to a safe integer once at the end. */
const sum = (amounts: number[]): bigint => amounts.reduce((s, a) => s + BigInt(a), 0n);

/** `YYYY-MM-DD` sorts as text. */
function nextMilestoneDate(live: SummaryMilestone[]): CalendarDate | null {
  return (
    live
      .filter((m) => m.status === 'planned')
      .map((m) => m.plannedDate)
      .sort()[0] ?? null
  );
}

function scheduleStatus(
  schedule: { attention: string[] } | undefined,
  live: SummaryMilestone[],
): ScheduleStatus {
  if (!schedule || live.length === 0) return 'none';
  const troubled = live.some((m) => m.status === 'invoice_failed' || m.needsAttention);
  if (schedule.attention.length > 0 || troubled) return 'attention';
  if (live.every((m) => INVOICED.has(m.status))) return 'complete';
  if (!live.some((m) => isEarned(m.status))) return 'draft';
  return 'active';
}
