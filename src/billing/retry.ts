import { eq } from 'drizzle-orm';
import { DomainError } from '../domain/errors.ts';
import { findScheduleById } from '../schedules/repository.ts';
import { type Caller, requireMilestone } from '../schedules/service.ts';
import { applyTransition } from '../schedules/transition.ts';
import { milestoneView } from '../schedules/view.ts';
import { invoicePushes } from '../store/schema.ts';
import type { BillingDeps } from './deps.ts';

/**
 * After the cause of a refused invoice is fixed (in QuickBooks or the settings): invoice_failed →
 * invoicing, with the push reset to go again (its DocNumber stays; the requestid takes the retry's
 * number, so Intuit does not answer with the stored refusal), and queued.
 */
export async function retryInvoice(deps: Pick<BillingDeps, 'jobs'>, caller: Caller, milestoneId: string) {
  const { pushId, retry, milestone } = await caller.db.transaction(async (tx) => {
    const row = await requireMilestone(tx, caller.tenant.id, milestoneId);
    const [push] = await tx.select().from(invoicePushes).where(eq(invoicePushes.milestoneId, row.id));
    if (!push) throw new DomainError('illegal_transition', `"${row.name}" has no invoice to retry`);
    const moved = await applyTransition(tx, row, 'retry', {
      actor: caller.actor,
      reason: 'retry after a refused invoice',
    });
    await tx
      .update(invoicePushes)
      .set({
        status: 'pending',
        retries: push.retries + 1,
        errorCode: null,
        errorMessage: null,
        updatedAt: new Date(),
      })
      .where(eq(invoicePushes.id, push.id));
    const schedule = (await findScheduleById(tx, row.scheduleId))!;
    return {
      pushId: push.id,
      retry: push.retries + 1,
      milestone: { dealId: schedule.dealId, ...milestoneView(moved, schedule.currency) },
    };
  });
  await deps.jobs.invoicePush(pushId, `retry-${retry}`);
  return milestone;
}
