import { and, eq, inArray } from 'drizzle-orm';
import type { MilestoneEvent, MilestoneStatus } from '../domain/lifecycle.ts';
import { displayMoney } from '../domain/money.ts';
import { newId } from '../ids.ts';
import type { InvoiceState, PaymentState, QboChange } from '../quickbooks/index.ts';
import { requireMilestone } from '../schedules/service.ts';
import { applyTransition, recordTransition } from '../schedules/transition.ts';
import { escapeHtml } from '../security/html.ts';
import { dealNotes, invoicePushes, milestones, qboPaymentLinks, schedules } from '../store/schema.ts';
import type { Tenant } from '../tenants/repository.ts';
import type { BillingDeps } from './deps.ts';
import { rollUpLater } from './roll-up.ts';

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
 * Changes in a connected QuickBooks company, as its webhooks report them: the invoices they touch
 * are read afresh, all at once (a query per 200 invoices, another for the payments), and each
 * milestone follows what QuickBooks shows now. Re-reading makes redeliveries, reorderings and both
 * webhook formats of one change land on the same state. Answers an outcome per change.
 */
export async function applyQuickBooksChanges(
  deps: BillingDeps,
  tenant: Tenant,
  changes: (Pick<QboChange, 'entity' | 'entityId' | 'operation'> & { cause: string; receivedAt?: Date })[],
): Promise<string[]> {
  const relevant = (c: (typeof changes)[number]) => c.entity === 'Payment' || c.entity === 'Invoice';
  if (!changes.some(relevant)) return changes.map((c) => `ignored: ${c.entity} changes`);
  const company = await deps.quickbooks.company(tenant.id);
  const named = [...new Set(changes.filter((c) => c.entity === 'Payment').map((c) => c.entityId))];
  const oldest = Math.min(...changes.map((c) => c.receivedAt?.getTime() ?? Date.now()));
  const [{ payments, paymentIds }, known] = await Promise.all([
    paymentsNow(company, named, new Date(oldest - DELIVERY_LAG_MS)),
    named.length
      ? deps.db
          .select()
          .from(qboPaymentLinks)
          .where(and(eq(qboPaymentLinks.tenantId, tenant.id), inArray(qboPaymentLinks.paymentId, named)))
      : [],
  ]);
  // Which invoices each payment touched: where it is applied now, and where it was when last read.
  const touched = new Map<string, string[]>();
  for (const id of paymentIds) {
    const now = payments.get(id)?.invoiceIds ?? [];
    const before = known.filter((k) => k.paymentId === id).map((k) => k.qboInvoiceId);
    touched.set(id, [...new Set([...before, ...now])]);
    await replacePaymentLinks(deps.db, tenant.id, id, payments.get(id));
  }
  const invoicesOf = (c: (typeof changes)[number]) =>
    c.entity === 'Invoice' ? [c.entityId] : c.entity === 'Payment' ? (touched.get(c.entityId) ?? []) : [];
  const invoiceIds = [...new Set(changes.flatMap(invoicesOf))];
  const ours = invoiceIds.length
    ? await deps.db
        .select()
        .from(invoicePushes)
        .where(and(eq(invoicePushes.tenantId, tenant.id), inArray(invoicePushes.qboInvoiceId, invoiceIds)))
    : [];
  const states = ours.length
    ? await company.readInvoices(ours.map((p) => p.qboInvoiceId!))
    : new Map<string, InvoiceState>();
  const settled = new Map<string, string>();
  for (const push of ours) {
    const cause = changes.find((c) => invoicesOf(c).includes(push.qboInvoiceId!))!.cause;
    const state = states.get(push.qboInvoiceId!);
    settled.set(push.qboInvoiceId!, `${push.docNumber} ${await settleInvoice(deps, push, state, cause)}`);
  }
  return changes.map((c) => {
    if (!relevant(c)) return `ignored: ${c.entity} changes`;
    const mine = invoicesOf(c).flatMap((id) => settled.get(id) ?? []);
    return mine.length ? mine.join(', ') : 'ignored: not an invoice of the app';
  });
}

/** Payments this many or fewer are read by id, in one query; more are learnt from one CDC call. */
const PAYMENTS_BY_ID = 200;
/** How long after a change Intuit may deliver its notification (CDC looks back that much further). */
const DELIVERY_LAG_MS = 15 * 60_000;

/**
 * The payments an event named, as QuickBooks has them now; an event's operation is never taken on
 * its word (anyone with the app's one verifier token can sign one). A few are read by id: a
 * deleted payment is absent from the answer, as QuickBooks' queries leave deleted transactions out
 * (Intuit staff, intuit/QuickBooks-V3-Java-SDK#19: delete is permanent, only CDC or webhooks name
 * the id afterwards). Many (a flood) are learnt from one Change Data Capture call over the events'
 * window: a payment it neither lists as changed nor as `status: "Deleted"` did not change, so its
 * links stay as they are. `paymentIds` are those whose links are to be replaced.
 */
async function paymentsNow(
  company: Awaited<ReturnType<BillingDeps['quickbooks']['company']>>,
  named: string[],
  since: Date,
): Promise<{ payments: Map<string, PaymentState>; paymentIds: string[] }> {
  if (named.length <= PAYMENTS_BY_ID)
    return { payments: named.length ? await company.readPayments(named) : new Map(), paymentIds: named };
  const changed = await company.changesSince(since);
  const payments = new Map(changed.payments.map((p) => [p.id, p]));
  const deleted = new Set(changed.deletedPaymentIds);
  return { payments, paymentIds: named.filter((id) => payments.has(id) || deleted.has(id)) };
}

/** What a payment is applied to now replaces what it was applied to. */
export async function replacePaymentLinks(
  db: BillingDeps['db'],
  tenantId: string,
  paymentId: string,
  payment: PaymentState | undefined,
): Promise<void> {
  const applied = payment?.applied ?? [];
  await db.transaction(async (tx) => {
    await tx
      .delete(qboPaymentLinks)
      .where(and(eq(qboPaymentLinks.tenantId, tenantId), eq(qboPaymentLinks.paymentId, paymentId)));
    if (applied.length)
      await tx.insert(qboPaymentLinks).values(
        applied.map((a) => ({
          tenantId,
          paymentId,
          qboInvoiceId: a.invoiceId,
          amount: a.amount,
          receivedOn: payment?.receivedOn ?? null,
        })),
      );
  });
}

/**
 * One invoice's QuickBooks state onto its milestone, in one transaction: received amounts and
 * status; a voided or deleted invoice sends the milestone back to accepted, flagged, never to be
 * invoiced again without a person; an amount edited in QuickBooks is shown as a discrepancy, never
 * written over. Each change is a transition naming its cause.
 */
export async function settleInvoice(
  deps: Pick<BillingDeps, 'db' | 'jobs' | 'logger' | 'redis'>,
  push: Push,
  state: InvoiceState | undefined,
  cause: string,
): Promise<string> {
  let rolledUp = '';
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
    const [{ dealId } = { dealId: '' }] = await tx
      .select({ dealId: schedules.dealId })
      .from(schedules)
      .where(eq(schedules.id, milestone.scheduleId));
    // The deal's note of this change, sent with the roll-up; one per change, however often it is read.
    const note = (text: string) =>
      tx
        .insert(dealNotes)
        .values({
          id: newId('dnote'),
          tenantId: current.tenantId,
          dealId,
          key: `quickbooks:${current.id}:${cause}`,
          body: `<p>${escapeHtml(text)}</p>`,
        })
        .onConflictDoNothing();
    rolledUp = dealId;

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
    if (paid !== current.paidAmount)
      await note(
        `Payment in QuickBooks: ${money(paid)} of ${money(state.total)} received on invoice ${current.docNumber} ("${milestone.name}"), ${money(state.balance)} open.`,
      );
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
  if (outcome !== 'unchanged' && !outcome.startsWith('ignored') && rolledUp)
    await rollUpLater(deps, push.tenantId, rolledUp);
  return outcome;
}
