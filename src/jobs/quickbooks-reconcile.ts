import { z } from 'zod';
import { reconcileCompany } from '../billing/reconcile.ts';
import { withLock } from '../redis/lock.ts';
import { findTenant } from '../tenants/repository.ts';
import { defineJob, jobKey } from './define.ts';

/** How often each connected company's changes are read, whether or not webhooks came. */
export const RECONCILE_EVERY_MS = 5 * 60_000;

/**
 * Reads a company's changes since its last reconciliation (CDC, or queries for an old or full
 * window) and settles its invoices: payments reach the milestones even when a webhook was lost.
 * One id per company and period, so the sweepers of several workers queue it once.
 */
export const quickbooksReconcile = defineJob({
  id: 'quickbooks-reconcile',
  version: 1,
  schema: z.object({ tenantId: z.string().min(1), round: z.string().min(1) }),
  jobId: ({ tenantId, round }) => jobKey('quickbooks-reconcile', tenantId, round),
  attempts: 3,
  async handler({ tenantId }, ctx) {
    const tenant = await findTenant(ctx.db, tenantId);
    if (!tenant) return;
    let entered = false;
    const key = `lock:quickbooks-reconcile:${tenantId}`;
    const run = () => {
      entered = true;
      return reconcileCompany(ctx, tenant);
    };
    const done = await withLock(ctx.redis, key, run, { ttlMs: 60_000, waitMs: 0, renew: true }).catch(
      (error: unknown) => {
        if (!entered) return undefined; // another worker is reconciling this company right now
        throw error;
      },
    );
    if (done)
      ctx.logger.info({ tenantId, ...done, outcomes: done.outcomes.length }, 'QuickBooks company reconciled');
  },
});
