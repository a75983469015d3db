import { and, eq } from 'drizzle-orm';
import { DomainError } from '../domain/errors.ts';
import { type MilestoneEvent, type MilestoneStatus, transition } from '../domain/lifecycle.ts';
import type { Queryable } from '../store/db.ts';
import { milestones, transitions } from '../store/schema.ts';
import type { MilestoneRow } from './repository.ts';

export interface TransitionCause {
  /** Who or what: `api_key:…`, `webhook:<event id>`, `hubspot:<event key>`, `job:…`, `cli`. */
  actor: string;
  reason?: string | null | undefined;
  data?: Record<string, unknown> | undefined;
}

/**
 * Moves a milestone through the lifecycle and writes the audit row in the same transaction.
 * The update is conditional on the status read, so two writers can never both move it.
 */
export async function applyTransition(
  tx: Queryable,
  row: MilestoneRow,
  event: MilestoneEvent,
  cause: TransitionCause,
  changes: Partial<Pick<MilestoneRow, 'amount' | 'percent' | 'needsAttention' | 'attentionReason'>> = {},
): Promise<MilestoneRow> {
  const to = transition(row.status, event);
  const [updated] = await tx
    .update(milestones)
    .set({ ...changes, status: to, updatedAt: new Date() })
    .where(and(eq(milestones.id, row.id), eq(milestones.status, row.status)))
    .returning();
  if (!updated) {
    throw new DomainError(
      'concurrent_change',
      `milestone ${row.id} changed while this request ran; try again`,
    );
  }
  await recordTransition(tx, row, row.status, to, event, cause);
  return updated;
}

export async function recordTransition(
  tx: Queryable,
  row: Pick<MilestoneRow, 'id' | 'tenantId'>,
  from: MilestoneStatus | null,
  to: MilestoneStatus,
  event: string,
  cause: TransitionCause,
): Promise<void> {
  await tx.insert(transitions).values({
    tenantId: row.tenantId,
    milestoneId: row.id,
    fromStatus: from,
    toStatus: to,
    event,
    actor: cause.actor,
    reason: cause.reason ?? null,
    data: cause.data ?? null,
  });
}
