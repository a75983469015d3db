import { z } from 'zod';
import { rollUpDeal } from '../billing/roll-up.ts';
import { defineJob, jobKey } from './define.ts';

/** Changes within one window of this length share one roll-up, run when the window closes. */
export const DEAL_ROLL_UP_WINDOW = 1_000;

/**
 * Writes a deal's money roll-up to HubSpot after payments changed. The job id names the window
 * the change fell in, so every change of a window is one job, run after the window ends (and so
 * after every change of it was committed); a change in the next window makes the next job.
 */
export const dealRollUp = defineJob({
  id: 'deal-roll-up',
  version: 1,
  schema: z.object({ tenantId: z.string().min(1), dealId: z.string().min(1), window: z.int().nonnegative() }),
  jobId: ({ tenantId, dealId, window }) => jobKey('deal-roll-up', `${tenantId}:${dealId}:${window}`),
  delayMs: ({ window }) => Math.max(0, (window + 1) * DEAL_ROLL_UP_WINDOW - Date.now()),
  attempts: 10,
  async handler({ tenantId, dealId }, ctx) {
    const outcome = await rollUpDeal(ctx, tenantId, dealId);
    ctx.logger.info({ tenantId, dealId, outcome }, 'deal billing roll-up written to HubSpot');
  },
});
