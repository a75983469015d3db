import { and, eq, inArray, lt } from 'drizzle-orm';
import { DomainError } from '../domain/errors.ts';
import { transition } from '../domain/lifecycle.ts';
import { findMilestone, findScheduleById, type MilestoneRow } from '../schedules/repository.ts';
import { type Caller, requireMilestone } from '../schedules/service.ts';
import { applyTransition } from '../schedules/transition.ts';
import { milestoneView } from '../schedules/view.ts';
import type { Queryable } from '../store/db.ts';
import { invoicePushes } from '../store/schema.ts';
import type { BillingDeps } from './deps.ts';
import type { Push } from './ledger.ts';

/**
 * invoice_failed → invoicing, with the push reset to go again: its DocNumber stays; the requestid
 * takes the retry's number, so Intuit does not answer with the stored refusal. Answers the round
 * for the job id, or nothing when the milestone is not waiting for a retry (any more).
 */
async function resume(tx: Queryable, push: Push, row: MilestoneRow, actor: string, reason: string) {
  if (row.status !== 'invoice_failed' || push.status !== 'failed') return undefined;
  const moved = await applyTransition(
    tx,
    row,
    'retry',
    { actor, reason },
    { needsAttention: false, attentionReason: null },
  );
  await tx
    .update(invoicePushes)
    .set({
      status: 'pending',
      retries: push.retries + 1,
      tries: 0,
      errorCode: null,
      errorMessage: null,
      updatedAt: new Date(),
    })
    .where(and(eq(invoicePushes.id, push.id), eq(invoicePushes.status, 'failed')));
  return { moved, round: `retry-${push.retries + 1}` };
}

/** A person retries a refused invoice after fixing the cause (in QuickBooks or the settings). */
export async function retryInvoice(deps: Pick<BillingDeps, 'jobs'>, caller: Caller, milestoneId: string) {
  const { pushId, round, milestone } = await caller.db.transaction(async (tx) => {
    const row = await requireMilestone(tx, caller.tenant.id, milestoneId);
    const [push] = await tx.select().from(invoicePushes).where(eq(invoicePushes.milestoneId, row.id));
    if (!push) throw new DomainError('illegal_transition', `"${row.name}" has no invoice to retry`);
    const resumed = await resume(tx, push, row, caller.actor, 'retry after a refused invoice');
    if (!resumed) {
      // The lifecycle says why ("cannot retry the invoice of a milestone that is invoiced").
      transition(row.status, 'retry');
      throw new DomainError(
        'illegal_transition',
        `the invoice of "${row.name}" is ${push.status}, not refused`,
      );
    }
    const schedule = (await findScheduleById(tx, row.scheduleId))!;
    return {
      pushId: push.id,
      round: resumed.round,
      milestone: { dealId: schedule.dealId, ...milestoneView(resumed.moved, schedule.currency) },
    };
  });
  await deps.jobs.invoicePush(pushId, round);
  return milestone;
}

/** What makes a push wait for a person, by the fix that ends the wait. */
export const WAITING_FOR = {
  quickbooks: ['quickbooks_not_connected', 'quickbooks_reconnect_required'],
  hubspot: ['hubspot_reauth_required', 'hubspot_not_installed'],
  /** Nobody: QuickBooks or HubSpot did not answer for a while; the sweeper tries again later. */
  time: ['quickbooks_unavailable', 'hubspot_unavailable', 'rate_limited', 'unavailable'],
} as const;

/**
 * Resumes the tenant's pushes that failed for one of `codes` (QuickBooks reconnected, HubSpot
 * reinstalled, or, from the sweeper, time passed), each queued once. Answers how many.
 */
export async function resumeWaiting(
  deps: Pick<BillingDeps, 'db' | 'jobs'>,
  codes: readonly string[],
  opts: { tenantId?: string; failedBefore?: Date; actor: string; reason: string },
): Promise<number> {
  const waiting = await deps.db
    .select()
    .from(invoicePushes)
    .where(
      and(
        eq(invoicePushes.status, 'failed'),
        inArray(invoicePushes.errorCode, [...codes]),
        opts.tenantId ? eq(invoicePushes.tenantId, opts.tenantId) : undefined,
        opts.failedBefore ? lt(invoicePushes.updatedAt, opts.failedBefore) : undefined,
      ),
    )
    .limit(1000);
  let resumed = 0;
  for (const push of waiting) {
    const round = await deps.db.transaction(async (tx) => {
      const row = await findMilestone(tx, push.tenantId, push.milestoneId);
      return row && (await resume(tx, push, row, opts.actor, opts.reason))?.round;
    });
    if (!round) continue;
    resumed++;
    await deps.jobs.invoicePush(push.id, round);
  }
  return resumed;
}
