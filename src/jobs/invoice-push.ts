import { z } from 'zod';
import type { AppContext } from '../context.ts';
import { deliverInvoice, pushInvoice } from '../quickbooks/push.ts';
import { defineJob } from './define.ts';
import { hubspotWriteBack, writeBackJobId } from './hubspot-write-back.ts';

/** Pushes one accepted milestone portion's invoice into QuickBooks (see quickbooks/push.ts). */
export const invoicePush = defineJob({
  id: 'invoice-push',
  version: 1,
  schema: z.object({ pushId: z.string().min(1) }),
  attempts: 15,
  concurrency: 10,
  async handler({ pushId }, ctx) {
    const outcome = await pushInvoice(ctx, pushId);
    if (outcome !== 'created' && outcome !== 'adopted') return;
    await deliverInvoice(ctx, pushId);
    await ctx.queues
      .enqueue(hubspotWriteBack, { pushId }, writeBackJobId(pushId))
      .catch((error: Error) =>
        ctx.logger.warn({ pushId, err: error.message }, 'write-back not queued; the sweeper will'),
      );
  },
});

/**
 * Queues a recorded push under its deterministic id. When Redis is away the push stays in the
 * ledger and the sweeper queues it later, so an acceptance is never lost.
 */
export async function queuePush(ctx: AppContext, pushId: string | null, attempt = 0): Promise<void> {
  if (!pushId) return;
  const jobId = attempt ? `invoice-push:${pushId}:retry-${attempt}` : `invoice-push:${pushId}`;
  await ctx.queues
    .enqueue(invoicePush, { pushId }, jobId)
    .catch((error: Error) =>
      ctx.logger.warn({ pushId, err: error.message }, 'push not queued; the sweeper will'),
    );
}
