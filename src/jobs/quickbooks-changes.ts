import { eq } from 'drizzle-orm';
import { z } from 'zod';
import { applyQuickBooksChanges } from '../billing/payments.ts';
import { parseQboChange, type QboChange } from '../quickbooks/index.ts';
import { noteAttempt, pendingEntries, settleEntry } from '../store/inbox.ts';
import { qboConnections } from '../store/schema.ts';
import { findTenant } from '../tenants/repository.ts';
import { defineJob, jobKey } from './define.ts';

/**
 * Processes inbox rows of QuickBooks webhook events: each invoice they touch is read afresh and
 * its milestone follows. Rows already processed are skipped, so a rerun changes nothing.
 */
export const quickbooksChanges = defineJob({
  id: 'quickbooks-changes',
  version: 1,
  schema: z.object({ inboxIds: z.array(z.string()).min(1).max(100), round: z.string().min(1).optional() }),
  jobId: ({ inboxIds, round }) => jobKey('quickbooks-changes', inboxIds[0]!, round),
  async handler({ inboxIds }, ctx) {
    const { db } = ctx;
    // The rows of one company are settled together: their invoices are read in one query.
    const byRealm = new Map<
      string,
      { row: Awaited<ReturnType<typeof pendingEntries>>[number]; change: QboChange }[]
    >();
    for (const row of await pendingEntries(db, inboxIds)) {
      const parsed = parseQboChange(row.payload);
      if (!parsed.ok) {
        await settleEntry(db, row.id, 'ignored', `malformed: ${parsed.why}`);
        continue;
      }
      const list = byRealm.get(parsed.change.realmId) ?? [];
      list.push({ row, change: parsed.change });
      byRealm.set(parsed.change.realmId, list);
    }
    let failure: unknown;
    for (const [realmId, entries] of byRealm) {
      try {
        // The company may have been connected to this tenant, or disconnected, since it was received.
        const [connection] = await db
          .select({ tenantId: qboConnections.tenantId })
          .from(qboConnections)
          .where(eq(qboConnections.realmId, realmId));
        const tenant = connection ? await findTenant(db, connection.tenantId) : undefined;
        const outcomes = tenant
          ? await applyQuickBooksChanges(
              ctx,
              tenant,
              entries.map(({ change }) => ({ ...change, cause: change.dedupeKey })),
            )
          : entries.map(() => `ignored: QuickBooks company ${realmId} is not connected`);
        for (const [i, { row }] of entries.entries()) {
          const outcome = outcomes[i]!;
          await settleEntry(db, row.id, outcome.startsWith('ignored') ? 'ignored' : 'processed', outcome);
        }
      } catch (error) {
        failure ??= error;
        ctx.logger.warn({ realmId, err: (error as Error).message }, 'quickbooks events failed; will retry');
        for (const { row } of entries) await noteAttempt(db, row, error as Error);
      }
    }
    if (failure) throw failure;
  },
});
