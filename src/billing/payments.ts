import { and, eq, inArray } from 'drizzle-orm';
import type { MilestoneEvent, MilestoneStatus } from '../domain/lifecycle.ts';
import { displayMoney } from '../domain/money.ts';
import type { InvoiceState, QboChange, QuickBooksCompany } from '../quickbooks/index.ts';
import { requireMilestone } from '../schedules/service.ts';
import { applyTransition, recordTransition } from '../schedules/transition.ts';
import { invoicePushes, milestones, qboPaymentLinks, schedules } from '../store/schema.ts';
import type { Tenant } from '../tenants/repository.ts';
import type { BillingDeps } from './deps.ts';

type Push = typeof invoicePushes.$inferSelect;

/**
 * What QuickBooks' balance says of a milestone's invoice: nothing received, part, all. An
 * overpayment never shows here (QuickBooks keeps it as the customer's credit, balance 0).
 */
export function paymentStatus(state: Pick<InvoiceState, 'total' | 'balance'>): MilestoneStatus {
  if (state.balance <= 0 && state.total > 0) return 'paid';
  if (state.balance < state.total) return 'partially_paid';
  return 'invoiced';
}

const PAYMENT_EVENT: Record<string, MilestoneEvent> = {
  paid: 'full_payment',
  partially_paid: 'partial_payment',
  invoiced: 'payment_reversed',
};

/**
 * A change in a connected QuickBooks company, as webhook or reconciliation reports it: the invoices
 * it touches are read afresh and each milestone follows what QuickBooks shows now. Re-reading
 * makes redeliveries, reorderings and both webhook formats of one change land on the same state.
 */
export async function applyQuickBooksChange(
  deps: BillingDeps,
  tenant: Tenant,
  change: Pick<QboChange, 'entity' | 'entityId' | 'operation'>,
  cause: string,
): Promise<string> {
  if (change.entity !== 'Payment' && change.entity !== 'Invoice') return `ignored: ${change.entity} changes`;
  const company = await deps.quickbooks.company(tenant.id);
  const invoiceIds =
    change.entity === 'Invoice'
      ? [change.entityId]
      : await paymentInvoices(deps, tenant, company, change.entityId, change.operation);
  const ours = invoiceIds.length
    ? await deps.db
        .select()
        .from(invoicePushes)
        .where(and(eq(invoicePushes.tenantId, tenant.id), inArray(invoicePushes.qboInvoiceId, invoiceIds)))
    : [];
  if (ours.length === 0) return 'ignored: not an invoice of the app';
  const outcomes: string[] = [];
  for (const push of ours) {
    const state = await company.readInvoice(push.qboInvoiceId!);
    outcomes.push(`${push.docNumber} ${await settleInvoice(deps, push, state, cause)}`);
  }
  return outcomes.join(', ');
}

/**
 * The invoices a payment is applied to now, and those it was applied to when last read (a deleted
 * or voided payment no longer names them). The links are kept up to date for the next change.
 */
async function paymentInvoices(
  deps: BillingDeps,
  tenant: Tenant,
  company: QuickBooksCompany,
  paymentId: string,
  operation: string,
): Promise<string[]> {
  const known = await deps.db
    .select({ id: qboPaymentLinks.qboInvoiceId })
    .from(qboPaymentLinks)
    .where(and(eq(qboPaymentLinks.tenantId, tenant.id), eq(qboPaymentLinks.paymentId, paymentId)));
  const payment = operation === 'Delete' ? undefined : await company.readPayment(paymentId);
  const now = payment?.invoiceIds ?? [];
  await replacePaymentLinks(deps.db, tenant.id, paymentId, now);
  return [...new Set([...known.map((k) => k.id), ...now])];
}

/** What a payment is applied to now replaces what it was applied to. */
export async function replacePaymentLinks(
  db: BillingDeps['db'],
  tenantId: string,
  paymentId: string,
  invoiceIds: string[],
): Promise<void> {
  await db.transaction(async (tx) => {
    await tx
      .delete(qboPaymentLinks)
      .where(and(eq(qboPaymentLinks.tenantId, tenantId), eq(qboPaymentLinks.paymentId, paymentId)));
    if (invoiceIds.length)
      await tx
        .insert(qboPaymentLinks)
        .values(invoiceIds.map((qboInvoiceId) => ({ tenantId, paymentId, qboInvoiceId })));
  });
}

/**
 * One invoice's QuickBooks state onto its milestone, in one transaction: received amounts and
 * status; a voided or deleted invoice sends the milestone back to accepted, flagged, never to be
 * invoiced again without a person; an amount edited in QuickBooks is shown as a discrepancy, never
 * written over. Each change is a transition naming its cause.
 */
export async function settleInvoice(
  deps: Pick<BillingDeps, 'db' | 'jobs' | 'logger'>,
  push: Push,
  state: InvoiceState | undefined,
  cause: string,
): Promise<string> {
  const outcome = await deps.db.transaction(async (tx) => {
    const [current] = await tx
      .select()
      .from(invoicePushes)
      .where(eq(invoicePushes.id, push.id))
      .for('update');
    if (!current || (current.status !== 'created' && current.status !== 'voided'))
      return 'ignored: not created';
    const milestone = await requireMilestone(tx, current.tenantId, current.milestoneId);
    const who = { actor: `quickbooks:${cause}` };
    const money = (minor: number) => displayMoney(minor, current.currency);

    if (!state || state.voided) {
      if (current.status === 'voided') return 'already voided';
      const what = state ? 'voided' : 'deleted';
      const reason = `Invoice ${current.docNumber} was ${what} in QuickBooks: the milestone is accepted again and is not invoiced again until a person decides`;
      await tx
        .update(invoicePushes)
        .set({
          status: 'voided',
          qboBalance: 0,
          paidAmount: 0,
          reconciledAt: new Date(),
          updatedAt: new Date(),
        })
        .where(eq(invoicePushes.id, current.id));
      if (
        milestone.status === 'invoiced' ||
        milestone.status === 'partially_paid' ||
        milestone.status === 'paid'
      ) {
        await applyTransition(
          tx,
          milestone,
          'invoice_voided',
          { ...who, reason },
          {
            needsAttention: true,
            attentionReason: reason,
          },
        );
      }
      return what;
    }

    const discrepancy =
      state.lines !== current.amount
        ? `Invoice ${current.docNumber} bills ${money(state.lines)} in QuickBooks, the milestone ${money(current.amount)}: edited in QuickBooks; the app did not overwrite it`
        : null;
    const paid = state.total - state.balance;
    const target = paymentStatus(state);
    const changed = paid !== current.paidAmount || discrepancy !== current.discrepancy;
    await tx
      .update(invoicePushes)
      .set({
        qboTotal: state.total,
        qboBalance: state.balance,
        paidAmount: paid,
        discrepancy,
        reconciledAt: new Date(),
        updatedAt: new Date(),
      })
      .where(eq(invoicePushes.id, current.id));
    const attention =
      discrepancy !== current.discrepancy
        ? { needsAttention: discrepancy !== null, attentionReason: discrepancy }
        : {};
    const reason = `${money(paid)} of ${money(state.total)} received in QuickBooks`;
    if (target !== milestone.status && PAYMENT_EVENT[target]) {
      await applyTransition(tx, milestone, PAYMENT_EVENT[target]!, { ...who, reason }, attention);
    } else if (changed) {
      // The same status with other money (a second partial payment), or a discrepancy: on record too.
      await tx
        .update(milestones)
        .set({ ...attention, updatedAt: new Date() })
        .where(eq(milestones.id, milestone.id));
      await recordTransition(tx, milestone, milestone.status, milestone.status, 'quickbooks_reconciled', {
        ...who,
        reason: discrepancy ?? reason,
      });
    } else return 'unchanged';
    return `${target} ${money(paid)}`;
  });
  if (outcome !== 'unchanged' && !outcome.startsWith('ignored')) {
    const [row] = await deps.db
      .select({ dealId: schedules.dealId })
      .from(milestones)
      .innerJoin(schedules, eq(schedules.id, milestones.scheduleId))
      .where(eq(milestones.id, push.milestoneId));
    if (row) await deps.jobs.rollUp(push.tenantId, row.dealId);
  }
  return outcome;
}
