import { z } from 'zod';
import { applyDealChange } from '../billing/deal-events.ts';
import { dealChange, HubSpotEvent } from '../hubspot/index.ts';
import { noteAttempt, pendingEntries, settleEntry } from '../store/inbox.ts';
import { findTenant } from '../tenants/repository.ts';
import { defineJob, jobKey } from './define.ts';

/**
 * Processes inbox rows of HubSpot webhook events, oldest `occurredAt` first. Rows already
 * processed are skipped, so a rerun (retry, stalled job, sweep) changes nothing.
 */
export const hubspotEvents = defineJob({
  id: 'hubspot-events',
  version: 1,
  schema: z.object({ inboxIds: z.array(z.string()).min(1).max(100), round: z.string().min(1).optional() }),
  jobId: ({ inboxIds, round }) => jobKey('hubspot-events', inboxIds[0]!, round),
  async handler({ inboxIds }, ctx) {
    const { db } = ctx;
    // Events that happened at the same instant keep the order HubSpot sent them in.
    const sent = new Map(inboxIds.map((id, i) => [id, i]));
    const events = (await pendingEntries(db, inboxIds))
      .map((row) => ({ row, event: HubSpotEvent.parse(row.payload) }))
      .sort((a, b) => a.event.occurredAt - b.event.occurredAt || sent.get(a.row.id)! - sent.get(b.row.id)!);
    let failure: unknown;
    for (const { row, event } of events) {
      try {
        const tenant = row.tenantId ? await findTenant(db, row.tenantId) : undefined;
        const outcome = tenant
          ? await applyDealChange(ctx, tenant, event, dealChange(event))
          : 'ignored: no tenant for this portal';
        await settleEntry(db, row.id, outcome.startsWith('ignored') ? 'ignored' : 'processed', outcome);
      } catch (error) {
        failure ??= error;
        ctx.logger.warn(
          { inboxId: row.id, err: (error as Error).message },
          'hubspot event failed; will retry',
        );
        await noteAttempt(db, row, error as Error);
      }
    }
    if (failure) throw failure;
  },
});
