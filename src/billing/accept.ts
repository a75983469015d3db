import { and, eq, inArray } from 'drizzle-orm';
import { DomainError } from '../domain/errors.ts';
import { type Portion, splitPortion } from '../domain/partial.ts';
import { newId } from '../ids.ts';
import {
  findMilestone,
  findScheduleById,
  type MilestoneRow,
  milestonesOf,
  type ScheduleRow,
  termsOf,
} from '../schedules/repository.ts';
import { assertWritable, bump, requireSchedule, snapshot } from '../schedules/service.ts';
import { applyTransition, recordTransition } from '../schedules/transition.ts';
import { milestoneView } from '../schedules/view.ts';
import type { Db, Tx } from '../store/db.ts';
import { isUniqueViolation } from '../store/db.ts';
import { type AcceptanceSource, acceptances, milestones } from '../store/schema.ts';
import type { BillingDeps } from './deps.ts';
import { recordPush } from './ledger.ts';

/** How a report names the milestone: its id, its key, or its name (within the deal). */
export type MilestoneRef = { id: string } | { key: string } | { name: string };

export interface AcceptanceReport {
  tenantId: string;
  source: AcceptanceSource;
  /** The reporter's id for this acceptance; a second report with it changes nothing. */
  sourceEventId: string;
  dealId?: string | undefined;
  milestone: MilestoneRef;
  /** A share of the whole milestone or an amount; null accepts everything still open. */
  portion: Portion | null;
  acceptedAt: Date;
  acceptedBy: { name?: string | undefined; email?: string | undefined };
  evidence: { name: string; url: string }[];
  note?: string | undefined;
  /** Who or what reported it, for the audit log. */
  actor: string;
}

export type AcceptanceOutcome = Awaited<ReturnType<typeof acceptMilestone>>;

/**
 * The one way a milestone becomes accepted, whatever reported it (HubSpot stage change, the
 * signed acceptance webhook, a person). Validates, splits a partial portion off exactly, records
 * who/what/when/evidence, transitions the milestone once and writes its invoice's push ledger
 * row, all in one transaction; then queues the push. From the commit on, the invoice cannot be
 * lost: a push the queue did not take is swept from the ledger.
 */
export async function acceptMilestone(
  deps: Pick<BillingDeps, 'db' | 'jobs' | 'clock'>,
  report: AcceptanceReport,
) {
  const result = await record(deps.db, report, deps.clock.now());
  if (result.pushId) await deps.jobs.invoicePush(result.pushId);
  return result;
}

async function record(db: Db, report: AcceptanceReport, now: Date) {
  try {
    return await db.transaction((tx) => accept(tx, report, now));
  } catch (error) {
    // Two deliveries of one report raced: the loser's insert hit the unique key.
    if (isUniqueViolation(error)) {
      const again = await previous(db, report);
      if (again) return again;
    }
    throw error;
  }
}

async function accept(tx: Tx, report: AcceptanceReport, now: Date) {
  const repeated = await previous(tx, report);
  if (repeated) return repeated;

  const schedule = await lockScheduleOf(tx, report);
  // A concurrent delivery of the same report may have committed while we waited for the lock.
  const raced = await previous(tx, report);
  if (raced) return raced;
  assertWritable(schedule, undefined);
  const rows = await milestonesOf(tx, schedule.id);
  const family = familyOf(rows, report.milestone);
  const open = family.find((m) => m.status === 'planned');
  if (!open) {
    const disputed = family.find((m) => m.status === 'disputed');
    if (disputed)
      throw new DomainError(
        'milestone_disputed',
        `"${disputed.name}" is disputed; resolve the dispute first`,
      );
    throw new DomainError('already_accepted', `"${family[0]!.name}" is already fully accepted`);
  }
  const whole = family.filter((m) => m.status !== 'cancelled').reduce((sum, m) => sum + m.amount, 0);
  const { accepted, remainder } = splitPortion(
    whole,
    open.amount,
    report.portion ?? { amount: open.amount },
    schedule.currency,
    await acceptedPercentOf(tx, family),
  );
  const cause = {
    actor: report.actor,
    reason: report.note ?? null,
    data: { source: report.source, sourceEventId: report.sourceEventId },
  };

  let remainderRow: MilestoneRow | undefined;
  let current = schedule;
  if (remainder > 0) {
    remainderRow = await splitOff(tx, open, remainder, cause);
    current = await bump(tx, schedule, termsOf(schedule), {});
  }
  const milestone = await applyTransition(
    tx,
    open,
    'accept',
    cause,
    remainder > 0 ? { amount: accepted, percent: null } : {},
  );
  const [acceptance] = await tx
    .insert(acceptances)
    .values({
      id: newId('acc'),
      tenantId: report.tenantId,
      milestoneId: milestone.id,
      source: report.source,
      sourceEventId: report.sourceEventId,
      amount: accepted,
      percent: report.portion && 'percent' in report.portion ? report.portion.percent : null,
      acceptedAt: report.acceptedAt,
      acceptedBy: report.acceptedBy,
      evidence: report.evidence,
      note: report.note ?? null,
    })
    .returning();
  if (remainderRow) await snapshot(tx, current, { ...cause, reason: `partial acceptance of "${open.name}"` });
  const pushId = await recordPush(tx, schedule, milestone, acceptance!.id, report.acceptedAt, now);
  return {
    outcome: 'accepted' as const,
    acceptanceId: acceptance!.id,
    pushId,
    dealId: schedule.dealId,
    milestone: milestoneView(milestone, schedule.currency),
    remainder: remainderRow ? milestoneView(remainderRow, schedule.currency) : null,
  };
}

/** The remainder of a partial acceptance: a planned milestone right after the accepted part. */
async function splitOff(
  tx: Tx,
  open: MilestoneRow,
  amount: number,
  cause: { actor: string; reason: string | null; data: Record<string, unknown> },
): Promise<MilestoneRow> {
  const { id: _id, createdAt: _c, updatedAt: _u, ...rest } = open;
  const [row] = await tx
    .insert(milestones)
    .values({
      ...rest,
      id: newId('ms'),
      amount,
      percent: null,
      position: open.position,
      status: 'planned',
      splitFromId: open.splitFromId ?? open.id,
    })
    .returning();
  await recordTransition(tx, row!, null, 'planned', 'split', {
    ...cause,
    data: { ...cause.data, splitFrom: open.id },
  });
  return row!;
}

/** Sum of the family's earlier percentage portions; null once any portion was an amount. */
async function acceptedPercentOf(tx: Tx, family: MilestoneRow[]): Promise<number | null> {
  const rows = await tx
    .select({ percent: acceptances.percent })
    .from(acceptances)
    .where(
      inArray(
        acceptances.milestoneId,
        family.map((m) => m.id),
      ),
    );
  return rows.reduce<number | null>(
    (sum, r) => (sum === null || r.percent === null ? null : sum + r.percent),
    0,
  );
}

async function previous(db: Db | Tx, report: AcceptanceReport) {
  const [row] = await db
    .select()
    .from(acceptances)
    .where(
      and(
        eq(acceptances.tenantId, report.tenantId),
        eq(acceptances.source, report.source),
        eq(acceptances.sourceEventId, report.sourceEventId),
      ),
    );
  if (!row) return undefined;
  const milestone = (await findMilestone(db, report.tenantId, row.milestoneId))!;
  const schedule = (await findScheduleById(db, milestone.scheduleId))!;
  if (!(await sameMilestone(db, report, milestone, schedule))) {
    const what = report.source === 'manual' ? 'Idempotency-Key' : 'event id';
    throw new DomainError(
      'idempotency_key_reused',
      `${what} "${report.sourceEventId}" was already used to accept "${milestone.name}" (${milestone.id}) on deal ${schedule.dealId}; use a new one for another milestone`,
    );
  }
  return {
    outcome: 'duplicate' as const,
    acceptanceId: row.id,
    pushId: null,
    dealId: schedule.dealId,
    milestone: milestoneView(milestone, schedule.currency),
    remainder: null,
  };
}

async function lockScheduleOf(tx: Tx, report: AcceptanceReport): Promise<ScheduleRow> {
  if ('id' in report.milestone) {
    const row = await findMilestone(tx, report.tenantId, report.milestone.id);
    const schedule = row && (await findScheduleById(tx, row.scheduleId, { lock: true }));
    if (!schedule || (report.dealId !== undefined && schedule.dealId !== report.dealId)) {
      throw new DomainError(
        'unknown_milestone',
        `no milestone ${report.milestone.id}${report.dealId ? ` on deal ${report.dealId}` : ''}`,
      );
    }
    return schedule;
  }
  if (report.dealId === undefined)
    throw new DomainError('unknown_milestone', 'a milestone named by key or name needs the deal id');
  return requireSchedule(tx, report.tenantId, report.dealId, { lock: true });
}

/** The milestone and the portions split from it, oldest first. */
function familyOf(rows: MilestoneRow[], ref: MilestoneRef): MilestoneRow[] {
  const roots = rows.filter((m) => m.splitFromId === null && m.status !== 'cancelled');
  let root: MilestoneRow | undefined;
  if ('id' in ref) {
    const hit = rows.find((m) => m.id === ref.id);
    root = hit && (hit.splitFromId ? rows.find((m) => m.id === hit.splitFromId) : hit);
  } else if ('key' in ref) {
    root = roots.find((m) => m.key === ref.key);
  } else {
    const wanted = ref.name.trim().toLowerCase();
    const named = roots.filter((m) => m.name.toLowerCase() === wanted);
    if (named.length > 1) {
      throw new DomainError(
        'ambiguous_milestone',
        `${named.length} milestones are named "${ref.name}"; address it by id or key`,
      );
    }
    root = named[0];
  }
  if (!root) {
    const what = 'id' in ref ? ref.id : 'key' in ref ? `key "${ref.key}"` : `name "${ref.name}"`;
    throw new DomainError('unknown_milestone', `no milestone with ${what} on this deal`);
  }
  return rows.filter((m) => m.id === root.id || m.splitFromId === root.id);
}

/** Whether a repeated report names the milestone (or the family split from it) it named first. */
async function sameMilestone(
  db: Db | Tx,
  report: AcceptanceReport,
  first: MilestoneRow,
  schedule: ScheduleRow,
) {
  if (report.dealId !== undefined && report.dealId !== schedule.dealId) return false;
  const ref = report.milestone;
  const root = (m: MilestoneRow) => m.splitFromId ?? m.id;
  if ('id' in ref) {
    const named = await findMilestone(db, report.tenantId, ref.id);
    return named !== undefined && root(named) === root(first);
  }
  if ('key' in ref) return first.key === ref.key;
  return first.name.toLowerCase() === ref.name.trim().toLowerCase();
}
