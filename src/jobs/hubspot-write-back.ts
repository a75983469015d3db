import { z } from 'zod';
import { writeBack } from '../hubspot/write-back.ts';
import { defineJob } from './define.ts';

/**
 * Writes a created QuickBooks invoice back to its HubSpot deal (note and billing properties).
 * Safe to run again: a push already written back is skipped, and the note is created once.
 */
export const hubspotWriteBack = defineJob({
  id: 'hubspot-write-back',
  version: 1,
  schema: z.object({ pushId: z.string().min(1) }),
  // Backoff doubles from one second: ten tries ride out about seventeen minutes of HubSpot trouble.
  attempts: 10,
  async handler({ pushId }, ctx) {
    await writeBack(ctx, pushId);
  },
});

/** One job per invoice: enqueueing the same push again while the job is kept changes nothing. */
export const writeBackJobId = (pushId: string) => `hubspot-write-back:${pushId}`;
