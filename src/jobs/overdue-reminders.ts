import { z } from 'zod';
import { remindOverdue } from '../billing/reminders.ts';
import { CalendarDate } from '../domain/values.ts';
import { findTenant } from '../tenants/repository.ts';
import { defineJob, jobKey } from './define.ts';

/**
 * Sends the overdue reminders due on `asOf` for one tenant. One job per tenant and day; a rerun
 * (or a second worker) finds the steps already claimed and sends nothing again.
 */
export const overdueReminders = defineJob({
  id: 'overdue-reminders',
  version: 1,
  schema: z.object({ tenantId: z.string().min(1), asOf: CalendarDate, round: z.string().min(1).optional() }),
  jobId: ({ tenantId, asOf, round }) => jobKey('overdue-reminders', `${tenantId}:${asOf}`, round),
  attempts: 3,
  async handler({ tenantId, asOf }, ctx) {
    const tenant = await findTenant(ctx.db, tenantId);
    if (!tenant) return;
    const outcomes = await remindOverdue(ctx, tenant, asOf);
    if (outcomes.length) ctx.logger.info({ tenantId, asOf, outcomes }, 'overdue reminders');
  },
});
