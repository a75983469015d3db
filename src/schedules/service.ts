import { and, asc, desc, eq, lte } from 'drizzle-orm';
import { applyChangeOrder, type ChangeOrder } from '../domain/change-order.ts';
import type { CalendarDate } from '../domain/dates.ts';
import { DomainError } from '../domain/errors.ts';
import { isEarned } from '../domain/lifecycle.ts';
import { buildSchedule, type ContractTerms, type Milestone, type MilestoneSpec } from '../domain/schedule.ts';
import { specsFromTemplate, triggerStagesFor } from '../domain/templates.ts';
import type { PaymentTerms } from '../domain/terms.ts';
import { newId } from '../ids.ts';
import type { Db, Queryable } from '../store/db.ts';
import { isUniqueViolation } from '../store/db.ts';
import { milestones, schedules, scheduleVersions, transitions } from '../store/schema.ts';
import type { Tenant } from '../tenants/repository.ts';
import {
  findMilestone,
  findSchedule,
  findScheduleById,
  type MilestoneRow,
  milestonesOf,
  type ScheduleRow,
  termsOf,
  toDomain,
} from './repository.ts';
import { findTemplate } from './templates.ts';
import { applyTransition, recordTransition, type TransitionCause } from './transition.ts';
import { milestoneView, scheduleView } from './view.ts';

/** Who is asking, for which tenant: every query below is scoped by it. */
export interface Caller {
  db: Db;
  tenant: Tenant;
  actor: string;
}

export interface ScheduleInput {
  baseVersion?: number | undefined;
  dealName?: string | undefined;
  /** The deal's owner and pipeline as HubSpot showed them when the schedule was made. */
  dealFacts?: DealFacts | undefined;
  contract: ContractTerms;
  paymentTerms?: PaymentTerms | undefined;
  specs: MilestoneSpec[];
  reason?: string | undefined;
}

export interface DealFacts {
  ownerId: string | null;
  pipelineId: string | null;
}

export async function getSchedule(caller: Caller, dealId: string) {
  const schedule = await requireSchedule(caller.db, caller.tenant.id, dealId);
  return scheduleView(schedule, await milestonesOf(caller.db, schedule.id));
}

/** Creates the deal's schedule or replaces it while nothing in it has been accepted. */
export async function putSchedule(caller: Caller, dealId: string, input: ScheduleInput) {
  const planned = buildSchedule(input.contract, input.specs);
  const paymentTerms = input.paymentTerms ?? caller.tenant.settings.defaultPaymentTerms ?? 'net_30';
  try {
    return await caller.db.transaction(async (tx) => {
      const existing = await findSchedule(tx, caller.tenant.id, dealId, { lock: true });
      const cause = {
        actor: caller.actor,
        reason: input.reason ?? (existing ? 'schedule replaced' : 'schedule created'),
      };
      if (!existing) {
        const [created] = await tx
          .insert(schedules)
          .values({
            id: newId('sch'),
            tenantId: caller.tenant.id,
            dealId,
            dealName: input.dealName ?? null,
            ownerId: input.dealFacts?.ownerId ?? null,
            pipelineId: input.dealFacts?.pipelineId ?? null,
            currency: input.contract.currency,
            contractValue: input.contract.contractValue,
            retainagePercent: input.contract.retainagePercent,
            paymentTerms,
          })
          .returning();
        await writeMilestones(tx, created!, [], planned, cause);
        return snapshot(tx, created!, cause);
      }
      assertWritable(existing, input.baseVersion);
      const current = await milestonesOf(tx, existing.id);
      const earned = current.filter((m) => isEarned(m.status));
      if (earned.length > 0) {
        throw new DomainError(
          'schedule_locked',
          `"${earned[0]!.name}" is already ${earned[0]!.status}; change this schedule with a change order instead`,
        );
      }
      const cancelled = current.map((m) => ({ ...toDomain(m), status: 'cancelled' as const }));
      const bumped = await bump(tx, existing, input.contract, {
        paymentTerms,
        dealName: input.dealName,
        dealFacts: input.dealFacts,
      });
      await writeMilestones(tx, bumped, current, [...cancelled, ...planned], cause);
      return snapshot(tx, bumped, cause);
    });
  } catch (error) {
    if (isUniqueViolation(error)) {
      throw new DomainError(
        'version_conflict',
        'the schedule was created by another request at the same time; reload it',
      );
    }
    throw error;
  }
}

export async function applyTemplate(
  caller: Caller,
  dealId: string,
  input: Omit<ScheduleInput, 'specs'> & {
    templateKey: string;
    startDate: CalendarDate;
    /** The deal pipeline's stages, where the template's trigger stages are to be used. */
    triggerStages?: readonly { id: string; label: string }[] | undefined;
  },
) {
  const template = await findTemplate(caller.db, caller.tenant.id, input.templateKey);
  const contract = {
    ...input.contract,
    retainagePercent: input.contract.retainagePercent || template.retainagePercent,
  };
  return putSchedule(caller, dealId, {
    ...input,
    contract,
    paymentTerms: input.paymentTerms ?? template.paymentTerms,
    specs: specsFromTemplate(
      template,
      input.startDate,
      contract.retainagePercent,
      triggerStagesFor(template, input.triggerStages ?? []),
    ),
    reason: input.reason ?? `template ${template.key} applied`,
  });
}

export async function changeSchedule(
  caller: Caller,
  dealId: string,
  order: ChangeOrder & { baseVersion: number; reason: string },
) {
  return caller.db.transaction(async (tx) => {
    const schedule = await requireSchedule(tx, caller.tenant.id, dealId, { lock: true });
    assertWritable(schedule, order.baseVersion);
    const current = await milestonesOf(tx, schedule.id);
    const next = applyChangeOrder(termsOf(schedule), current.map(toDomain), order);
    const bumped = await bump(tx, schedule, next.terms, {});
    const cause = { actor: caller.actor, reason: `change order: ${order.reason}` };
    await writeMilestones(tx, bumped, current, next.milestones, cause);
    return snapshot(tx, bumped, cause);
  });
}

export async function listVersions(caller: Caller, dealId: string) {
  const schedule = await requireSchedule(caller.db, caller.tenant.id, dealId);
  const rows = await caller.db
    .select({
      version: scheduleVersions.version,
      reason: scheduleVersions.reason,
      actor: scheduleVersions.actor,
      createdAt: scheduleVersions.createdAt,
    })
    .from(scheduleVersions)
    .where(eq(scheduleVersions.scheduleId, schedule.id))
    .orderBy(desc(scheduleVersions.version));
  return { dealId, versions: rows };
}

export async function getVersion(caller: Caller, dealId: string, version: number) {
  const schedule = await requireSchedule(caller.db, caller.tenant.id, dealId);
  const [row] = await caller.db
    .select()
    .from(scheduleVersions)
    .where(and(eq(scheduleVersions.scheduleId, schedule.id), eq(scheduleVersions.version, version)));
  if (!row)
    throw new DomainError(
      'not_found',
      version > 0 && version <= schedule.version - VERSIONS_KEPT
        ? `schedule version ${version} of deal ${dealId} is no longer kept (the latest ${VERSIONS_KEPT} are)`
        : `deal ${dealId} has no schedule version ${version}`,
    );
  return {
    version: row.version,
    reason: row.reason,
    actor: row.actor,
    createdAt: row.createdAt,
    schedule: row.snapshot,
  };
}

export async function getMilestone(caller: Caller, id: string) {
  const row = await requireMilestone(caller.db, caller.tenant.id, id);
  const schedule = (await findScheduleById(caller.db, row.scheduleId))!;
  return { dealId: schedule.dealId, ...milestoneView(row, schedule.currency) };
}

export async function milestoneHistory(caller: Caller, id: string) {
  const row = await requireMilestone(caller.db, caller.tenant.id, id);
  const events = await caller.db
    .select()
    .from(transitions)
    .where(eq(transitions.milestoneId, row.id))
    .orderBy(asc(transitions.id));
  return {
    milestoneId: row.id,
    status: row.status,
    transitions: events.map((e) => ({
      from: e.fromStatus,
      to: e.toStatus,
      event: e.event,
      actor: e.actor,
      reason: e.reason,
      data: e.data,
      at: e.at,
    })),
  };
}

/** Dispute and resolve: the client contests a deliverable before accepting it, then settles. */
export async function moveMilestone(
  caller: Caller,
  id: string,
  event: 'dispute' | 'resolve',
  reason: string | undefined,
) {
  return caller.db.transaction(async (tx) => {
    const found = await requireMilestone(tx, caller.tenant.id, id);
    const schedule = (await findScheduleById(tx, found.scheduleId, { lock: true }))!;
    assertWritable(schedule, undefined);
    const row = (await findMilestone(tx, caller.tenant.id, id))!;
    const moved = await applyTransition(tx, row, event, { actor: caller.actor, reason });
    return { dealId: schedule.dealId, ...milestoneView(moved, schedule.currency) };
  });
}

export async function requireSchedule(
  db: Queryable,
  tenantId: string,
  dealId: string,
  opts: { lock?: boolean } = {},
) {
  const schedule = await findSchedule(db, tenantId, dealId, opts);
  if (!schedule) throw new DomainError('not_found', `deal ${dealId} has no billing schedule`);
  return schedule;
}

export async function requireMilestone(db: Queryable, tenantId: string, id: string) {
  const row = await findMilestone(db, tenantId, id);
  if (!row) throw new DomainError('not_found', `no milestone ${id}`);
  return row;
}

export function assertWritable(schedule: ScheduleRow, baseVersion: number | undefined): void {
  if (schedule.state === 'frozen') {
    throw new DomainError(
      'schedule_frozen',
      `the deal ${schedule.dealId} was deleted in HubSpot; its schedule is frozen`,
    );
  }
  if (baseVersion === undefined) return;
  if (baseVersion !== schedule.version) {
    throw new DomainError(
      'version_conflict',
      `the schedule is at version ${schedule.version} but this change was made to version ${baseVersion}; reload and apply it again`,
    );
  }
}

/** Moves the schedule to its next version; the row lock taken by the caller makes this safe. */
export async function bump(
  tx: Queryable,
  schedule: ScheduleRow,
  terms: ContractTerms,
  extra: { paymentTerms?: PaymentTerms; dealName?: string | undefined; dealFacts?: DealFacts | undefined },
): Promise<ScheduleRow> {
  const [row] = await tx
    .update(schedules)
    .set({
      version: schedule.version + 1,
      contractValue: terms.contractValue,
      retainagePercent: terms.retainagePercent,
      ...(extra.paymentTerms ? { paymentTerms: extra.paymentTerms } : {}),
      ...(extra.dealName ? { dealName: extra.dealName } : {}),
      ...(extra.dealFacts ?? {}),
      updatedAt: new Date(),
    })
    .where(and(eq(schedules.id, schedule.id), eq(schedules.version, schedule.version)))
    .returning();
  if (!row)
    throw new DomainError('version_conflict', 'the schedule changed while this request ran; reload it');
  return row;
}

/** Writes the next milestone list: inserts new ones, updates the rest, audits what was planned or cancelled. */
export async function writeMilestones(
  tx: Queryable,
  schedule: ScheduleRow,
  before: MilestoneRow[],
  next: Milestone[],
  cause: TransitionCause,
): Promise<void> {
  const previous = new Map(before.map((m) => [m.id, m]));
  for (const [position, m] of next.entries()) {
    const fields = {
      position,
      key: m.key,
      name: m.name,
      deliverable: m.deliverable,
      acceptanceCriteria: m.acceptanceCriteria,
      percent: m.percent,
      amount: m.amount,
      plannedDate: m.plannedDate,
      triggerStage: m.triggerStage,
      paymentTerms: m.paymentTerms,
      kind: m.kind,
      status: m.status,
      splitFromId: m.splitFromId,
    };
    if (m.id === null) {
      const id = newId('ms');
      await tx
        .insert(milestones)
        .values({ id, tenantId: schedule.tenantId, scheduleId: schedule.id, ...fields });
      await recordTransition(tx, { id, tenantId: schedule.tenantId }, null, m.status, 'plan', cause);
      continue;
    }
    const old = previous.get(m.id)!;
    await tx
      .update(milestones)
      .set({ ...fields, updatedAt: new Date() })
      .where(eq(milestones.id, m.id));
    if (old.status !== m.status) await recordTransition(tx, old, old.status, m.status, 'cancel', cause);
  }
}

/**
 * Whole snapshots kept per schedule: the latest this many. A snapshot can be hundreds of kilobytes
 * (100 milestones of long texts), and an unbounded list let one tenant's loop of saves grow the
 * database for everyone. Every change stays in the milestones' history (transitions) all the same.
 */
export const VERSIONS_KEPT = 20;

/** Keeps the whole schedule as it now stands under its version number, and returns it. */
export async function snapshot(tx: Queryable, schedule: ScheduleRow, cause: TransitionCause) {
  const view = scheduleView(schedule, await milestonesOf(tx, schedule.id));
  await tx.insert(scheduleVersions).values({
    scheduleId: schedule.id,
    version: schedule.version,
    reason: cause.reason ?? 'changed',
    actor: cause.actor,
    snapshot: view,
  });
  await tx
    .delete(scheduleVersions)
    .where(
      and(
        eq(scheduleVersions.scheduleId, schedule.id),
        lte(scheduleVersions.version, schedule.version - VERSIONS_KEPT),
      ),
    );
  return view;
}
