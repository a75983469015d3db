import { and, asc, eq } from 'drizzle-orm';
import type { ContractTerms, Milestone } from '../domain/schedule.ts';
import type { Queryable } from '../store/db.ts';
import { milestones, schedules } from '../store/schema.ts';

export type ScheduleRow = typeof schedules.$inferSelect;
export type MilestoneRow = typeof milestones.$inferSelect;

export async function findSchedule(
  db: Queryable,
  tenantId: string,
  dealId: string,
  opts: { lock?: boolean } = {},
): Promise<ScheduleRow | undefined> {
  const query = db
    .select()
    .from(schedules)
    .where(and(eq(schedules.tenantId, tenantId), eq(schedules.dealId, dealId)));
  const [row] = opts.lock ? await query.for('update') : await query;
  return row;
}

export async function findScheduleById(db: Queryable, scheduleId: string, opts: { lock?: boolean } = {}) {
  const query = db.select().from(schedules).where(eq(schedules.id, scheduleId));
  const [row] = opts.lock ? await query.for('update') : await query;
  return row;
}

export function milestonesOf(db: Queryable, scheduleId: string): Promise<MilestoneRow[]> {
  return db
    .select()
    .from(milestones)
    .where(eq(milestones.scheduleId, scheduleId))
    .orderBy(asc(milestones.position), asc(milestones.createdAt));
}

export async function findMilestone(
  db: Queryable,
  tenantId: string,
  id: string,
): Promise<MilestoneRow | undefined> {
  const [row] = await db
    .select()
    .from(milestones)
    .where(and(eq(milestones.tenantId, tenantId), eq(milestones.id, id)));
  return row;
}

export function termsOf(schedule: ScheduleRow): ContractTerms {
  return {
    contractValue: schedule.contractValue,
    currency: schedule.currency,
    retainagePercent: schedule.retainagePercent,
  };
}

export function toDomain(row: MilestoneRow): Milestone {
  return {
    id: row.id,
    key: row.key,
    name: row.name,
    deliverable: row.deliverable,
    acceptanceCriteria: row.acceptanceCriteria,
    percent: row.percent,
    amount: row.amount,
    plannedDate: row.plannedDate,
    triggerStage: row.triggerStage,
    paymentTerms: row.paymentTerms,
    kind: row.kind,
    status: row.status,
    splitFromId: row.splitFromId,
  };
}
