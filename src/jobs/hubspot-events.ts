import { and, eq, inArray } from 'drizzle-orm';
import { z } from 'zod';
import { HubSpotEvent, processEvent } from '../hubspot/events.ts';
import { inbox, tenants } from '../store/schema.ts';
import { defineJob } from './define.ts';

/**
 * Processes inbox rows of HubSpot webhook events, oldest `occurredAt` first. Rows already
 * processed are skipped, so a rerun (retry, stalled job, sweep) changes nothing.
 */
export const hubspotEvents = defineJob({
  id: 'hubspot-events',
  version: 1,
  schema: z.object({ inboxIds: z.array(z.string()).min(1).max(100) }),
  async handler({ inboxIds }, ctx) {
    const { db } = ctx.database;
    const rows = await db
      .select()
      .from(inbox)
      .where(and(inArray(inbox.id, inboxIds), eq(inbox.status, 'pending')));
    const events = rows
      .map((row) => ({ row, event: HubSpotEvent.parse(row.payload) }))
      .sort((a, b) => a.event.occurredAt - b.event.occurredAt);
    let failure: unknown;
    for (const { row, event } of events) {
      try {
        const [tenant] = row.tenantId
          ? await db.select().from(tenants).where(eq(tenants.id, row.tenantId))
          : [];
        const outcome = tenant
          ? await processEvent(ctx, tenant, event)
          : 'ignored: no tenant for this portal';
        await db
          .update(inbox)
          .set({
            status: outcome.startsWith('ignored') ? 'ignored' : 'processed',
            outcome,
            processedAt: new Date(),
          })
          .where(eq(inbox.id, row.id));
      } catch (error) {
        failure ??= error;
        ctx.logger.warn(
          { inboxId: row.id, err: (error as Error).message },
          'hubspot event failed; will retry',
        );
        await db
          .update(inbox)
          .set({ attempts: row.attempts + 1, outcome: `error: ${(error as Error).message}` })
          .where(eq(inbox.id, row.id));
      }
    }
    if (failure) throw failure;
  },
});
