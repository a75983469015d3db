import { z } from 'zod';
import { pushInvoice } from '../billing/push.ts';
import { defineJob, jobKey } from './define.ts';

/** Pushes one accepted milestone portion's invoice into QuickBooks (see billing/push.ts). */
export const invoicePush = defineJob({
  id: 'invoice-push',
  version: 1,
  schema: z.object({ pushId: z.string().min(1), round: z.string().min(1).optional() }),
  jobId: ({ pushId, round }) => jobKey('invoice-push', pushId, round),
  attempts: 15,
  concurrency: 10,
  async handler({ pushId }, ctx) {
    await pushInvoice(ctx, pushId);
  },
});
