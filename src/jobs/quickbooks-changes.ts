import { eq } from 'drizzle-orm';
import { z } from 'zod';
import { applyQuickBooksChanges } from '../billing/payments.ts';
import { parseQboChange, type QboChange } from '../quickbooks/index.ts';
import { noteAttempt, pendingOfRealm, settleEntries, settleEntry } from '../store/inbox.ts';
import { qboConnections } from '../store/schema.ts';
import { findTenant } from '../tenants/repository.ts';
import { defineJob, jobKey } from './define.ts';

/**
 * A company's events within one window of this length share one job, run when the window closes:
 * however many arrive (a flood, forged or not), a company costs at most one round of reads per
 * window, 30 a minute (README, "QuickBooks webhooks").
 */
export const QBO_CHANGES_WINDOW = 2_000;

/** Events one round takes; more wait for the next event's round or the inbox sweep (30 s). */
export const QBO_EVENTS_PER_ROUND = 10_000;

/**
 * Processes a company's pending QuickBooks webhook events together: each payment and invoice they
 * name is read afresh (or, for many payments, learnt from one Change Data Capture call) and the
 * milestones follow what QuickBooks holds now. Nothing an event says is taken on its word: a
 * "payment deleted" for a payment QuickBooks still has changes nothing.
 */
export const quickbooksChanges = defineJob({
  id: 'quickbooks-changes',
  version: 2,
  schema: z.object({
    realmId: z.string().min(1).max(64),
    window: z.int().nonnegative(),
    round: z.string().min(1).optional(),
  }),
  jobId: ({ realmId, window, round }) => jobKey('quickbooks-changes', `${realmId}:${window}`, round),
  delayMs: ({ window }) => Math.max(0, (window + 1) * QBO_CHANGES_WINDOW - Date.now()),
  concurrency: 2,
  async handler({ realmId }, ctx) {
    const { db } = ctx;
    const rows = await pendingOfRealm(db, realmId, QBO_EVENTS_PER_ROUND);
    if (!rows.length) return;
    const entries: { row: (typeof rows)[number]; change: QboChange }[] = [];
    for (const row of rows) {
      const parsed = parseQboChange(row.payload);
      if (parsed.ok) entries.push({ row, change: parsed.change });
      else await settleEntry(db, row.id, 'ignored', `malformed: ${parsed.why}`);
    }
    try {
      // The company may have been connected to a tenant, or disconnected, since it was received.
      const [connection] = await db
        .select({ tenantId: qboConnections.tenantId })
        .from(qboConnections)
        .where(eq(qboConnections.realmId, realmId));
      const tenant = connection ? await findTenant(db, connection.tenantId) : undefined;
      const outcomes = tenant
        ? await applyQuickBooksChanges(
            ctx,
            tenant,
            entries.map(({ change, row }) => ({
              ...change,
              cause: change.dedupeKey,
              receivedAt: row.receivedAt,
            })),
          )
        : entries.map(() => `ignored: QuickBooks company ${realmId} is not connected`);
      const byOutcome = new Map<string, string[]>();
      for (const [i, { row }] of entries.entries())
        byOutcome.set(outcomes[i]!, [...(byOutcome.get(outcomes[i]!) ?? []), row.id]);
      for (const [outcome, ids] of byOutcome)
        await settleEntries(db, ids, outcome.startsWith('ignored') ? 'ignored' : 'processed', outcome);
    } catch (error) {
      ctx.logger.warn({ realmId, err: (error as Error).message }, 'quickbooks events failed; will retry');
      for (const { row } of entries) await noteAttempt(db, row, error as Error);
      throw error;
    }
  },
});
