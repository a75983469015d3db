import { and, eq, inArray, isNull, lt, sql } from 'drizzle-orm';
import { resumeWaiting, WAITING_FOR } from '../billing/retry.ts';
import type { Clock } from '../domain/dates.ts';
import type { Db } from '../store/db.ts';
import { stalePending, stalePendingRealms } from '../store/inbox.ts';
import { invoicePushes, tenants } from '../store/schema.ts';
import type { Jobs } from './index.ts';
import { RECONCILE_EVERY_MS } from './quickbooks-reconcile.ts';

/**
 * Queues inbox rows still pending after `olderThanMs`: events stored while Redis was away, or
 * whose job was lost with it. Handlers skip processed rows, so a second queueing is harmless.
 */
export async function sweepInbox(deps: { db: Db; jobs: Jobs }, olderThanMs = 30_000): Promise<number> {
  const before = new Date(Date.now() - olderThanMs);
  const round = `sweep-${Math.floor(Date.now() / 60_000)}`;
  const hubspot = await stalePending(deps.db, 'hubspot', before);
  await deps.jobs.strict.hubspotEvents(
    hubspot.map((r) => r.id),
    round,
  );
  const realms = await stalePendingRealms(deps.db, before);
  await deps.jobs.strict.quickbooksChanges(realms, round);
  return hubspot.length + realms.length;
}

/** Queues each connected company's reconciliation once per period, whichever worker sweeps first. */
export async function sweepReconciliation(
  deps: { jobs: Jobs; quickbooks: { connectedTenants(): Promise<string[]> } },
  everyMs = RECONCILE_EVERY_MS,
): Promise<number> {
  const round = `every-${Math.floor(Date.now() / everyMs)}`;
  const tenants = await deps.quickbooks.connectedTenants();
  for (const tenantId of tenants) await deps.jobs.strict.reconcile(tenantId, round);
  return tenants.length;
}

/**
 * Queues pushes still unfinished after `olderThanMs` (recorded while Redis was away, or whose job
 * was lost with it or ran out of attempts), and write-backs not yet done. The push reads its
 * ledger first, so a second queueing never creates a second invoice.
 */
export async function sweepPushes(deps: { db: Db; jobs: Jobs }, olderThanMs = 60_000): Promise<number> {
  const { db } = deps;
  const before = new Date(Date.now() - olderThanMs);
  const round = `sweep-${Math.floor(Date.now() / Math.max(1, olderThanMs))}`;
  const unfinished = await db
    .select({ id: invoicePushes.id })
    .from(invoicePushes)
    .where(and(inArray(invoicePushes.status, ['pending', 'sending']), lt(invoicePushes.updatedAt, before)))
    .limit(1000);
  for (const { id } of unfinished) await deps.jobs.strict.invoicePush(id, round);
  const unwritten = await db
    .select({ id: invoicePushes.id })
    .from(invoicePushes)
    .where(
      and(
        eq(invoicePushes.status, 'created'),
        isNull(invoicePushes.writtenBackAt),
        lt(invoicePushes.updatedAt, before),
      ),
    )
    .limit(1000);
  for (const { id } of unwritten) await deps.jobs.strict.writeBack(id, round);
  // Failed only because a platform did not answer for a while: worth another round by now.
  const resumed = await resumeWaiting(deps, WAITING_FOR.time, {
    failedBefore: new Date(Date.now() - RESUME_UNAVAILABLE_AFTER_MS),
    actor: 'sweeper',
    reason: 'the platform did not answer earlier; trying again',
  });
  return unfinished.length + unwritten.length + resumed;
}

const RESUME_UNAVAILABLE_AFTER_MS = 15 * 60_000;

/** Queues today's overdue reminders of each tenant whose policy is on; one job per tenant and day. */
export async function sweepReminders(deps: { db: Db; jobs: Jobs; clock: Clock }): Promise<number> {
  const asOf = deps.clock.today();
  const rows = await deps.db
    .select({ id: tenants.id })
    .from(tenants)
    .where(sql`(${tenants.settings} -> 'reminders' ->> 'enabled')::boolean is true`);
  for (const { id } of rows) await deps.jobs.strict.remind(id, asOf);
  return rows.length;
}
