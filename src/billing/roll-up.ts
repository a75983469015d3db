import { and, eq, inArray } from 'drizzle-orm';
import type { BillingSummary } from '../domain/billing-summary.ts';
import { dealNotes } from '../store/schema.ts';
import { portalOf, requireTenant, type Tenant } from '../tenants/repository.ts';
import type { BillingDeps } from './deps.ts';
import { dealBillingSummary } from './write-back.ts';

const pendingKey = (tenantId: string) => `rollup:pending:${tenantId}`;
const PER_CALL = 100;

/**
 * Marks the deal's money roll-up as due and queues the tenant's roll-up job: every deal that
 * changed in the same moment is written by one job, a hundred deals per HubSpot call.
 */
export async function rollUpLater(
  deps: Pick<BillingDeps, 'redis' | 'jobs' | 'logger'>,
  tenantId: string,
  dealId: string,
) {
  try {
    await deps.redis.sadd(pendingKey(tenantId), dealId);
  } catch (error) {
    // The money is settled in the database; the deal's next change or reconciliation writes it.
    deps.logger.warn({ tenantId, dealId, err: (error as Error).message }, 'roll-up not marked');
    return;
  }
  await deps.jobs.rollUp(tenantId);
}

/**
 * Writes the roll-ups of the tenant's pending deals from the database as it stands when this
 * runs. A deal whose write fails is marked pending again before the job fails, so a retry has it.
 */
export async function rollUpPending(
  deps: BillingDeps,
  tenantId: string,
): Promise<{ written: number; gone: number; notes: number }> {
  const tenant = await requireTenant(deps.db, tenantId);
  let written = 0;
  let gone = 0;
  for (;;) {
    const dealIds = await deps.redis.spop(pendingKey(tenantId), PER_CALL);
    if (dealIds.length === 0) return { written, gone, notes: await sendPendingNotes(deps, tenant) };
    try {
      const deals: { dealId: string; summary: BillingSummary }[] = [];
      for (const dealId of dealIds)
        deals.push({
          dealId,
          summary: await dealBillingSummary(deps.db, tenantId, dealId, deps.clock.today()),
        });
      const result = await deps.hubspot.writeBillingSummaries(portalOf(tenant), deals);
      written += result.written.length;
      gone += result.notFound.length;
    } catch (error) {
      await deps.redis.sadd(pendingKey(tenantId), ...dealIds);
      throw error;
    }
  }
}

/**
 * The tenant's deal notes waiting to go, 100 per HubSpot call. Claimed first (so two jobs never
 * send one twice); a batch whose answer was lost is marked uncertain and not sent again.
 */
async function sendPendingNotes(deps: BillingDeps, tenant: Tenant): Promise<number> {
  let sent = 0;
  for (;;) {
    const claimed = await deps.db
      .update(dealNotes)
      .set({ status: 'sending' })
      .where(
        inArray(
          dealNotes.id,
          deps.db
            .select({ id: dealNotes.id })
            .from(dealNotes)
            .where(and(eq(dealNotes.tenantId, tenant.id), eq(dealNotes.status, 'pending')))
            .orderBy(dealNotes.createdAt)
            .limit(PER_CALL)
            .for('update', { skipLocked: true }),
        ),
      )
      .returning();
    if (claimed.length === 0) return sent;
    let answer: { ids: (string | null)[] };
    try {
      answer = await deps.hubspot.addNotes(portalOf(tenant), claimed);
    } catch (error) {
      await deps.db
        .update(dealNotes)
        .set({ status: 'pending' })
        .where(
          inArray(
            dealNotes.id,
            claimed.map((n) => n.id),
          ),
        );
      throw error;
    }
    for (const [i, note] of claimed.entries()) {
      const id = answer.ids[i] ?? null;
      await deps.db
        .update(dealNotes)
        .set(id ? { status: 'sent', hubspotNoteId: id, sentAt: new Date() } : { status: 'uncertain' })
        .where(eq(dealNotes.id, note.id));
    }
    sent += claimed.length;
  }
}
