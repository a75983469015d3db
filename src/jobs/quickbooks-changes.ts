import { eq } from 'drizzle-orm';
import { z } from 'zod';
import { applyQuickBooksChange } from '../billing/payments.ts';
import { parseQboChange } from '../quickbooks/index.ts';
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
    let failure: unknown;
    for (const row of await pendingEntries(db, inboxIds)) {
      try {
        const parsed = parseQboChange(row.payload);
        if (!parsed.ok) {
          await settleEntry(db, row.id, 'ignored', `malformed: ${parsed.why}`);
          continue;
        }
        const change = parsed.change;
        // The company may have been connected to this tenant, or disconnected, since it was received.
        const [connection] = await db
          .select({ tenantId: qboConnections.tenantId })
          .from(qboConnections)
          .where(eq(qboConnections.realmId, change.realmId));
        const tenant = connection ? await findTenant(db, connection.tenantId) : undefined;
        const outcome = tenant
          ? await applyQuickBooksChange(ctx, tenant, change, change.dedupeKey)
          : `ignored: QuickBooks company ${change.realmId} is not connected`;
        await settleEntry(db, row.id, outcome.startsWith('ignored') ? 'ignored' : 'processed', outcome);
      } catch (error) {
        failure ??= error;
        ctx.logger.warn(
          { inboxId: row.id, err: (error as Error).message },
          'quickbooks event failed; will retry',
        );
        await noteAttempt(db, row, error as Error);
      }
    }
    if (failure) throw failure;
  },
});
