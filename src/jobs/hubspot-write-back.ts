import { z } from 'zod';
import { writeBack } from '../billing/write-back.ts';
import { defineJob, jobKey } from './define.ts';

/**
 * How long a write-back waits for the tenant's next invoices, so that a backlog goes to HubSpot
 * in batches (a few calls per hundred invoices) instead of two calls per invoice.
 */
export const WRITE_BACK_GATHER_MS = 1_000;

/**
 * Writes a created QuickBooks invoice back to its HubSpot deal (note and billing properties),
 * with the tenant's other invoices waiting. Safe to run again: a push already written back is
 * skipped, and the note is created once.
 */
export const hubspotWriteBack = defineJob({
  id: 'hubspot-write-back',
  version: 1,
  schema: z.object({ pushId: z.string().min(1), round: z.string().min(1).optional() }),
  jobId: ({ pushId, round }) => jobKey('hubspot-write-back', pushId, round),
  // Backoff doubles from one second: ten tries ride out about seventeen minutes of HubSpot trouble.
  delayMs: () => WRITE_BACK_GATHER_MS,
  attempts: 10,
  async handler({ pushId }, ctx) {
    await writeBack(ctx, pushId);
  },
});
