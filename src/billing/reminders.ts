import { and, count, eq, inArray, isNotNull, lt, max, sql } from 'drizzle-orm';
import { addDays, type CalendarDate } from '../domain/dates.ts';
import { displayMoney } from '../domain/money.ts';
import { remindersSent } from '../metrics.ts';
import { escapeHtml } from '../security/html.ts';
import {
  invoicePushes,
  invoiceReminders,
  milestones,
  type ReminderPolicy,
  schedules,
} from '../store/schema.ts';
import { portalOf, type Tenant } from '../tenants/repository.ts';
import type { BillingDeps } from './deps.ts';
import { settleInvoice } from './payments.ts';
import { balanceInQuickBooks } from './portfolio-filters.ts';

export const DEFAULT_REMINDERS: ReminderPolicy = {
  enabled: false,
  firstAfterDays: 3,
  everyDays: 7,
  maxReminders: 3,
  excludedCustomerIds: [],
};

/**
 * The step due on `asOf` for an invoice reminded `sent` times, the last on `last`: the first
 * `firstAfterDays` after the due date, then every `everyDays`, never closer together than that
 * even when a run was missed.
 */
export function dueStep(
  policy: ReminderPolicy,
  dueDate: CalendarDate,
  sent: number,
  last: CalendarDate | null,
  asOf: CalendarDate,
): number | undefined {
  if (sent >= policy.maxReminders) return undefined;
  const planned = addDays(dueDate, policy.firstAfterDays + sent * policy.everyDays);
  const spaced = last ? addDays(last, policy.everyDays) : planned;
  return planned <= asOf && spaced <= asOf ? sent : undefined;
}

/**
 * Reminds what is overdue on `asOf` by the tenant's policy: QuickBooks sends the invoice again and
 * the deal owner gets a HubSpot task. Each step of each invoice is claimed by inserting its row
 * first, so several workers never send it twice; the invoice is read from QuickBooks just before,
 * so one paid meanwhile is never reminded.
 */
export async function remindOverdue(
  deps: BillingDeps,
  tenant: Tenant,
  asOf: CalendarDate,
): Promise<string[]> {
  const policy = { ...DEFAULT_REMINDERS, ...tenant.settings.reminders };
  if (!policy.enabled) return [];
  const open = await deps.db
    .select({ push: invoicePushes, dealId: schedules.dealId, milestone: milestones.name })
    .from(invoicePushes)
    .innerJoin(milestones, eq(milestones.id, invoicePushes.milestoneId))
    .innerJoin(schedules, eq(schedules.id, milestones.scheduleId))
    .where(
      and(
        eq(invoicePushes.tenantId, tenant.id),
        eq(invoicePushes.status, 'created'),
        isNotNull(invoicePushes.dueDate),
        lt(invoicePushes.dueDate, asOf),
        // Still owed in QuickBooks, tax included (a net amount paid leaves the tax owed).
        sql`${balanceInQuickBooks} > 0`,
        inArray(milestones.status, ['invoiced', 'partially_paid']),
      ),
    );
  const outcomes: string[] = [];
  for (const { push, dealId, milestone } of open) {
    if (push.qboCustomerId && policy.excludedCustomerIds.includes(push.qboCustomerId)) continue;
    const [{ sent, last } = { sent: 0, last: null }] = await deps.db
      .select({ sent: count(), last: max(invoiceReminders.asOf) })
      .from(invoiceReminders)
      .where(eq(invoiceReminders.pushId, push.id));
    const step = dueStep(policy, push.dueDate!, sent, last, asOf);
    if (step === undefined) continue;
    const [claimed] = await deps.db
      .insert(invoiceReminders)
      .values({ pushId: push.id, step, tenantId: tenant.id, status: 'sending', asOf })
      .onConflictDoNothing()
      .returning();
    if (!claimed) continue; // another worker has this step
    outcomes.push(
      `${push.docNumber} step ${step + 1}: ${await sendReminder(deps, tenant, push, dealId, milestone, step)}`,
    );
  }
  return outcomes;
}

async function sendReminder(
  deps: BillingDeps,
  tenant: Tenant,
  push: typeof invoicePushes.$inferSelect,
  dealId: string,
  milestone: string,
  step: number,
): Promise<string> {
  const mark = (
    status: 'sent' | 'skipped' | 'failed',
    more: { hubspotTaskId?: string; error?: string } = {},
  ) =>
    deps.db
      .update(invoiceReminders)
      .set({ status, ...more, updatedAt: new Date() })
      .where(and(eq(invoiceReminders.pushId, push.id), eq(invoiceReminders.step, step)));
  try {
    const company = await deps.quickbooks.company(tenant.id);
    const state = await company.readInvoice(push.qboInvoiceId!);
    if (!state || state.voided || state.balance <= 0) {
      await settleInvoice(deps, push, state, `reminder-check:${push.id}:${step}`);
      await mark('skipped');
      return 'skipped: no longer owed';
    }
    await company.sendInvoice(push.qboInvoiceId!);
    const owed = displayMoney(state.balance, push.currency);
    const deal = await deps.hubspot.recentDeal(portalOf(tenant), dealId).catch(() => undefined);
    const taskId = await deps.hubspot.createTask(portalOf(tenant), {
      dealId,
      ownerId: deal?.ownerId ?? null,
      subject: `Overdue: invoice ${push.docNumber} (${owed})`,
      body: escapeHtml(
        `Invoice ${push.docNumber} for "${milestone}" was due on ${push.dueDate}; ${owed} is still open. QuickBooks has emailed it again (reminder ${step + 1}). Follow up with the client.`,
      ),
      dueAt: new Date(),
    });
    await mark('sent', { hubspotTaskId: taskId });
    remindersSent.inc({ outcome: 'sent' });
    deps.logger.info({ pushId: push.id, step, docNumber: push.docNumber }, 'overdue reminder sent');
    return 'sent';
  } catch (error) {
    // Not tried again by itself: a second try could email the client twice.
    await mark('failed', { error: (error as Error).message.slice(0, 500) });
    remindersSent.inc({ outcome: 'failed' });
    deps.logger.warn({ pushId: push.id, step, err: (error as Error).message }, 'overdue reminder failed');
    return `failed: ${(error as Error).message}`;
  }
}
