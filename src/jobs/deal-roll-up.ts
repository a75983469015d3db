import { z } from 'zod';
import { rollUpPending } from '../billing/roll-up.ts';
import { defineJob, jobKey } from './define.ts';

/** Changes within one window of this length share one roll-up job, run when the window closes. */
export const DEAL_ROLL_UP_WINDOW = 1_000;

/**
 * Writes the money roll-ups of a tenant's deals that changed, to HubSpot, 100 deals per call. The
 * job id names the window the change fell in, so every change of a window is one job, run after
 * the window ends (and so after its changes were committed); a later change makes the next job.
 */
export const dealRollUp = defineJob({
  id: 'deal-roll-up',
  version: 2,
  schema: z.object({ tenantId: z.string().min(1), window: z.int().nonnegative() }),
  jobId: ({ tenantId, window }) => jobKey('deal-roll-up', `${tenantId}:${window}`),
  delayMs: ({ window }) => Math.max(0, (window + 1) * DEAL_ROLL_UP_WINDOW - Date.now()),
  attempts: 10,
  concurrency: 1,
  async handler({ tenantId }, ctx) {
    const outcome = await rollUpPending(ctx, tenantId);
    if (outcome.written || outcome.gone)
      ctx.logger.info({ tenantId, ...outcome }, 'deal roll-ups written to HubSpot');
  },
});
