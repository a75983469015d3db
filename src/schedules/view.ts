import { isEarned } from '../domain/lifecycle.ts';
import { formatAmount } from '../domain/money.ts';
import { formatPercent } from '../domain/percent.ts';
import { scheduledTotal } from '../domain/schedule.ts';
import { type MilestoneRow, type ScheduleRow, toDomain } from './repository.ts';

export const moneyView = (minor: number, currency: string) => ({
  amount: formatAmount(minor, currency),
  currency,
});

export function milestoneView(row: MilestoneRow, currency: string) {
  return {
    id: row.id,
    key: row.key,
    position: row.position,
    name: row.name,
    deliverable: row.deliverable,
    acceptanceCriteria: row.acceptanceCriteria,
    amount: moneyView(row.amount, currency),
    percent: row.percent === null ? null : formatPercent(row.percent),
    plannedDate: row.plannedDate,
    triggerStage: row.triggerStage,
    paymentTerms: row.paymentTerms,
    kind: row.kind,
    status: row.status,
    splitFromId: row.splitFromId,
    needsAttention: row.needsAttention,
    attentionReason: row.attentionReason,
  };
}

const INVOICED = new Set(['invoiced', 'partially_paid', 'paid']);

/** The schedule as the API, the card and the version history show it. */
export function scheduleView(schedule: ScheduleRow, rows: MilestoneRow[]) {
  const money = (minor: number) => moneyView(minor, schedule.currency);
  const live = rows.filter((r) => r.status !== 'cancelled');
  const sum = (pick: (r: MilestoneRow) => boolean) => live.filter(pick).reduce((s, r) => s + r.amount, 0);
  const scheduled = scheduledTotal(rows.map(toDomain));
  return {
    id: schedule.id,
    dealId: schedule.dealId,
    dealName: schedule.dealName,
    version: schedule.version,
    state: schedule.state,
    contractValue: money(schedule.contractValue),
    paymentTerms: schedule.paymentTerms,
    retainagePercent: formatPercent(schedule.retainagePercent),
    attention: schedule.attention,
    totals: {
      scheduled: money(scheduled),
      unallocated: money(schedule.contractValue - scheduled),
      earned: money(sum((r) => isEarned(r.status))),
      earnedNotInvoiced: money(sum((r) => isEarned(r.status) && !INVOICED.has(r.status))),
      invoiced: money(sum((r) => INVOICED.has(r.status))),
    },
    milestones: live.map((r) => milestoneView(r, schedule.currency)),
    cancelledMilestones: rows
      .filter((r) => r.status === 'cancelled')
      .map((r) => ({ id: r.id, key: r.key, name: r.name, amount: money(r.amount) })),
    updatedAt: schedule.updatedAt,
  };
}
