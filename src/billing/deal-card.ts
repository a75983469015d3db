import { and, eq, inArray } from 'drizzle-orm';
import { billingSummary } from '../domain/billing-summary.ts';
import type { CalendarDate } from '../domain/dates.ts';
import { DomainError } from '../domain/errors.ts';
import { displayMoney } from '../domain/money.ts';
import { triggerStagesFor } from '../domain/templates.ts';
import type { Deal } from '../hubspot/index.ts';
import { findSchedule, milestonesOf } from '../schedules/repository.ts';
import type { Caller } from '../schedules/service.ts';
import { listTemplates } from '../schedules/templates.ts';
import { moneyView, scheduleView } from '../schedules/view.ts';
import { invoicePushes } from '../store/schema.ts';
import { portalOf } from '../tenants/repository.ts';
import type { BillingDeps } from './deps.ts';
import { owedOn } from './ledger.ts';
import { summaryInvoice } from './write-back.ts';

/** Something on the deal that needs a person, in words they can act on. */
export interface Attention {
  code: string;
  message: string;
  milestoneId?: string;
}

/**
 * Everything the deal card shows in one answer: the deal as HubSpot has it, its schedule, each
 * milestone's invoice (number, QuickBooks link, refusal), the QuickBooks connection, what needs a
 * person, and the templates to start from.
 */
export async function dealCard(
  deps: BillingDeps,
  caller: Caller,
  dealId: string,
  opts: { waitMs?: number } = {},
) {
  const { db, tenant } = caller;
  const asOf = deps.clock.today();
  const deal = await dealOrNothing(deps, caller, dealId, opts.waitMs);
  const schedule = await findSchedule(db, tenant.id, dealId);
  const rows = schedule ? await milestonesOf(db, schedule.id) : [];
  const pushes = rows.length
    ? await db
        .select()
        .from(invoicePushes)
        .where(
          and(
            eq(invoicePushes.tenantId, tenant.id),
            inArray(
              invoicePushes.milestoneId,
              rows.map((m) => m.id),
            ),
          ),
        )
    : [];
  const byMilestone = new Map(pushes.map((p) => [p.milestoneId, p]));
  const view = schedule ? scheduleView(schedule, rows) : null;
  const quickbooks = await deps.quickbooks.connectionState(tenant.id);
  const invoices = Object.fromEntries(
    rows.flatMap((m) => {
      const push = byMilestone.get(m.id);
      if (!push) return [];
      return [
        [
          m.id,
          {
            docNumber: push.docNumber,
            status: push.status,
            amount: moneyView(push.amount, push.currency),
            url: push.qboInvoiceId ? deps.quickbooks.invoiceUrl(push.qboInvoiceId) : null,
            error: push.status === 'failed' ? push.errorMessage : null,
            paid: moneyView(push.paidAmount, push.currency),
            dueDate: push.dueDate,
            overdue: overdue(push, asOf),
            discrepancy: push.discrepancy,
          },
        ],
      ];
    }),
  );

  const attention: Attention[] = [];
  if (quickbooks !== 'connected') {
    attention.push({
      code: `quickbooks_${quickbooks}`,
      message:
        quickbooks === 'needs_reconnect'
          ? 'QuickBooks refused the stored authorisation: reconnect QuickBooks in the app settings'
          : 'No QuickBooks company is connected: connect one in the app settings',
    });
  }
  if (schedule && view) {
    const money = (minor: number) => displayMoney(minor, schedule.currency);
    if (schedule.state === 'frozen')
      attention.push({
        code: 'deal_deleted',
        message: 'The deal was deleted in HubSpot: its schedule is frozen',
      });
    if (deal?.amount !== null && deal?.amount !== undefined && deal.amount !== schedule.contractValue) {
      attention.push({
        code: 'amount_mismatch',
        message: `The schedule's contract (${money(schedule.contractValue)}) differs from the deal amount (${money(deal.amount)})`,
      });
    }
    const scheduled = rows.filter((m) => m.status !== 'cancelled').reduce((sum, m) => sum + m.amount, 0);
    if (scheduled < schedule.contractValue) {
      attention.push({
        code: 'unscheduled',
        message: `${money(schedule.contractValue - scheduled)} of the contract is not in any milestone`,
      });
    }
    for (const m of rows) {
      if (m.status === 'invoice_failed')
        attention.push({
          code: 'invoice_failed',
          milestoneId: m.id,
          message: `"${m.name}" was not invoiced: ${m.attentionReason ?? byMilestone.get(m.id)?.errorMessage ?? 'QuickBooks refused it'}`,
        });
      const reason = m.needsAttention && m.status !== 'invoice_failed' ? m.attentionReason : null;
      if (reason)
        attention.push({ code: 'needs_attention', milestoneId: m.id, message: `"${m.name}": ${reason}` });
      else if (m.status === 'accepted' || m.status === 'invoicing')
        attention.push({
          code: 'not_invoiced',
          milestoneId: m.id,
          message: `"${m.name}" is accepted, not yet invoiced`,
        });
      const push = byMilestone.get(m.id);
      if (push && overdue(push, asOf))
        attention.push({
          code: 'overdue',
          milestoneId: m.id,
          message: `Invoice ${push.docNumber} was due on ${push.dueDate}: ${money(outstandingOf(push))} still open`,
        });
      if (m.status === 'disputed')
        attention.push({ code: 'disputed', milestoneId: m.id, message: `"${m.name}" is disputed` });
    }
  }
  // The stages a milestone can be accepted by; a template's trigger stages are offered by label.
  const stages = deal?.pipeline
    ? await deps.hubspot.dealStages(portalOf(tenant), deal.pipeline, { waitMs: opts.waitMs })
    : [];
  const templates = (await listTemplates(db, tenant.id)).map((t) => ({
    key: t.key,
    name: t.name,
    triggerStages: [...triggerStagesFor(t, stages).keys()],
  }));
  // The same roll-up HubSpot's deal properties get.
  const summary = billingSummary(
    schedule,
    rows,
    pushes.filter((p) => p.status === 'created').map(summaryInvoice),
    asOf,
  );
  const currency = schedule?.currency ?? deal?.currency ?? 'USD';
  const received = {
    paid: moneyView(summary.paid, currency),
    outstanding: moneyView(summary.outstanding, currency),
    overdue: moneyView(summary.overdue, currency),
  };
  return {
    received,
    deal: deal && {
      id: deal.id,
      name: deal.name,
      amount: deal.amount === null ? null : moneyView(deal.amount, deal.currency),
      stage: deal.stage,
      pipeline: deal.pipeline,
    },
    schedule: view,
    stages,
    invoices,
    quickbooks,
    attention,
    templates,
  };
}

/** The deal as HubSpot has it; a tenant without an install sees its schedule all the same. */
async function dealOrNothing(
  deps: BillingDeps,
  caller: Caller,
  dealId: string,
  waitMs: number | undefined,
): Promise<Deal | null> {
  try {
    return await deps.hubspot.deal(portalOf(caller.tenant), dealId, { waitMs });
  } catch (error) {
    if (error instanceof DomainError && error.code === 'hubspot_not_installed') return null;
    throw error;
  }
}

type PushRow = typeof invoicePushes.$inferSelect;

/** What is still owed of the milestone's money on its invoice. */
const outstandingOf = (p: PushRow) => owedOn(p);

/** Due before today and not paid in full. */
const overdue = (p: PushRow, asOf: CalendarDate) =>
  p.status === 'created' && p.dueDate !== null && p.dueDate < asOf && outstandingOf(p) > 0;
