import { eq } from 'drizzle-orm';
import { DomainError } from '../domain/errors.ts';
import { HUNDRED_PERCENT } from '../domain/percent.ts';
import { QboError, type QuickBooksCompany } from '../quickbooks/index.ts';
import { type HeldLock, withLock } from '../redis/lock.ts';
import { findMilestone, findScheduleById, type MilestoneRow } from '../schedules/repository.ts';
import { applyTransition } from '../schedules/transition.ts';
import { acceptances, invoicePushes } from '../store/schema.ts';
import { portalOf, requireTenant } from '../tenants/repository.ts';
import { billingParty } from './billing-party.ts';
import type { BillingDeps } from './deps.ts';
import { findPush, type Push } from './ledger.ts';

export type PushOutcome = 'created' | 'adopted' | 'failed' | 'skipped';

/**
 * Creates the QuickBooks invoice of one accepted milestone portion, exactly once (DESIGN §6):
 * the ledger row fixes the requestid and DocNumber; a create whose outcome is unknown is followed,
 * on the next attempt, by a DocNumber lookup before anything is created again. Transient failures
 * throw (the job retries with backoff); QuickBooks' refusals mark the milestone invoice_failed.
 * Once the invoice exists, its delivery and the write-back to HubSpot follow.
 */
export async function pushInvoice(deps: BillingDeps, pushId: string): Promise<PushOutcome> {
  // One attempt at a time per push, whichever process or job runs it; a dead holder frees it in 10 s.
  const outcome = await withLock(deps.redis, `lock:push:${pushId}`, (lock) => attempt(deps, pushId, lock), {
    ttlMs: 10_000,
    waitMs: 120_000,
    renew: true,
  });
  if (outcome === 'created' || outcome === 'adopted') {
    await deliverInvoice(deps, pushId);
    await deps.jobs.writeBack(pushId);
  }
  return outcome;
}

async function attempt(deps: BillingDeps, pushId: string, lock: HeldLock): Promise<PushOutcome> {
  const push = await findPush(deps.db, pushId);
  if (!push || push.status === 'failed') return 'skipped';
  const milestone = await startInvoicing(deps, push);
  if (!milestone) return 'skipped';
  if (push.status === 'created') return 'skipped';

  lock.assertHeld();
  const company = await deps.quickbooks.company(push.tenantId, lock.signal);
  if (push.status === 'sending') {
    const existing = await company.findOurInvoice({
      pushId: push.id,
      docNumber: push.docNumber,
      customerId: push.qboCustomerId,
      txnDate: push.invoiceDate,
    });
    if (existing) {
      await created(deps, push, milestone, existing.id, push.qboCustomerId, undefined);
      return 'adopted';
    }
  }

  let invoice: Awaited<ReturnType<QuickBooksCompany['prepareInvoice']>>;
  try {
    invoice = await prepare(deps, company, push, milestone);
  } catch (error) {
    if (!refusal(error)) throw error;
    await failed(deps, push, milestone, company, error);
    return 'failed';
  }
  lock.assertHeld();
  await deps.db
    .update(invoicePushes)
    .set({
      status: 'sending',
      attempts: push.attempts + 1,
      qboCustomerId: invoice.customerId,
      updatedAt: new Date(),
    })
    .where(eq(invoicePushes.id, push.id));
  try {
    const result = await company.createInvoice(invoice, `${push.id}.${push.retries}`);
    await created(deps, push, milestone, result.id, invoice.customerId, result.intuitTid);
    return 'created';
  } catch (error) {
    if (error instanceof QboError && error.code === '6140') {
      // The DocNumber exists: ours from an earlier attempt (adopt it), or someone else's.
      const existing = await company.findOurInvoice({
        pushId: push.id,
        docNumber: push.docNumber,
        customerId: invoice.customerId,
        txnDate: invoice.invoiceDate,
      });
      if (existing) {
        await created(deps, push, milestone, existing.id, invoice.customerId, error.intuitTid);
        return 'adopted';
      }
    }
    if (!refusal(error)) throw error;
    await failed(deps, push, milestone, company, error);
    return 'failed';
  }
}

/** QuickBooks said no (or our setup cannot work): a person must act, retrying will not help. */
function refusal(error: unknown): error is QboError | DomainError {
  if (error instanceof QboError) return error.kind === 'validation' || error.kind === 'forbidden';
  return (
    error instanceof DomainError &&
    ['currency_mismatch', 'quickbooks_setup', 'no_billing_party'].includes(error.code)
  );
}

/** accepted → invoicing, once; answers the milestone, or nothing when it is not this push's to invoice. */
async function startInvoicing(deps: BillingDeps, push: Push): Promise<MilestoneRow | undefined> {
  return deps.db.transaction(async (tx) => {
    const row = await findMilestone(tx, push.tenantId, push.milestoneId);
    if (!row) return undefined;
    if (row.status === 'accepted') return applyTransition(tx, row, 'push', { actor: `job:push:${push.id}` });
    return row.status === 'invoicing' ? row : undefined;
  });
}

async function prepare(deps: BillingDeps, company: QuickBooksCompany, push: Push, milestone: MilestoneRow) {
  const { db } = deps;
  const schedule = (await findScheduleById(db, milestone.scheduleId))!;
  const tenant = await requireTenant(db, push.tenantId);
  const [acceptance] = await db.select().from(acceptances).where(eq(acceptances.id, push.acceptanceId));
  const { acceptedBy } = acceptance!;
  const party = await billingParty(deps.hubspot, portalOf(tenant), schedule.dealId, acceptedBy);
  return company.prepareInvoice(
    {
      pushId: push.id,
      dealId: schedule.dealId,
      dealName: schedule.dealName,
      milestoneId: milestone.id,
      milestoneName: milestone.name,
      deliverable: milestone.deliverable,
      portionPercent:
        acceptance!.percent !== null && acceptance!.percent < HUNDRED_PERCENT ? acceptance!.percent : null,
      gross: milestone.amount,
      // The ledger fixed what this invoice bills; the rest of the milestone is held back as retainage.
      retained: milestone.amount - push.amount,
      payable: push.amount,
      currency: push.currency,
      acceptedOn: acceptance!.acceptedAt.toISOString().slice(0, 10),
      acceptedBy: acceptedBy.name ?? acceptedBy.email ?? null,
      acceptanceId: acceptance!.id,
      docNumber: push.docNumber,
      invoiceDate: push.invoiceDate!,
      dueDate: push.dueDate!,
      paymentTerms: milestone.paymentTerms ?? schedule.paymentTerms,
      sendEmail: tenant.settings.emailInvoices ?? false,
    },
    party,
    tenant.settings,
  );
}

async function created(
  deps: BillingDeps,
  push: Push,
  milestone: MilestoneRow,
  invoiceId: string,
  customerId: string | null,
  intuitTid: string | undefined,
): Promise<void> {
  await deps.db.transaction(async (tx) => {
    await tx
      .update(invoicePushes)
      .set({
        status: 'created',
        qboInvoiceId: invoiceId,
        qboCustomerId: customerId,
        intuitTid: intuitTid ?? null,
        errorCode: null,
        errorMessage: null,
        updatedAt: new Date(),
      })
      .where(eq(invoicePushes.id, push.id));
    await applyTransition(tx, milestone, 'invoice_created', {
      actor: `job:push:${push.id}`,
      data: { qboInvoiceId: invoiceId, docNumber: push.docNumber },
    });
  });
}

async function failed(
  deps: BillingDeps,
  push: Push,
  milestone: MilestoneRow,
  company: QuickBooksCompany,
  error: QboError | DomainError,
): Promise<void> {
  // A cached item, term or tax code deleted in QuickBooks since: resolve them afresh on the retry.
  if (error instanceof QboError && error.code === '2500') await company.forgetReferences();
  const intuitTid = error instanceof QboError ? (error.intuitTid ?? null) : null;
  deps.logger.warn({ pushId: push.id, code: error.code, intuitTid }, 'invoice refused');
  await deps.db.transaction(async (tx) => {
    await tx
      .update(invoicePushes)
      .set({
        status: 'failed',
        errorCode: error.code || 'refused',
        errorMessage: error.message,
        intuitTid,
        updatedAt: new Date(),
      })
      .where(eq(invoicePushes.id, push.id));
    await applyTransition(tx, milestone, 'invoice_failed', {
      actor: `job:push:${push.id}`,
      reason: error.message,
    });
  });
}

/**
 * After the invoice exists: attach the acceptance evidence, and email it when the tenant wants
 * QuickBooks to. Neither can lose or duplicate the invoice, so failures are only logged.
 */
async function deliverInvoice(deps: BillingDeps, pushId: string): Promise<void> {
  const { db } = deps;
  const push = await findPush(db, pushId);
  if (!push?.qboInvoiceId) return;
  const invoiceId = push.qboInvoiceId;
  const tenant = await requireTenant(db, push.tenantId);
  const [acceptance] = await db.select().from(acceptances).where(eq(acceptances.id, push.acceptanceId));
  const evidence = acceptance?.evidence ?? [];
  const email = tenant.settings.emailInvoices ?? false;
  if (!email && evidence.length === 0) return;
  try {
    const company = await deps.quickbooks.company(push.tenantId);
    if (acceptance && evidence.length) {
      const who = acceptance.acceptedBy.name ?? acceptance.acceptedBy.email ?? 'client';
      const note = [
        `Acceptance evidence (${who}, ${acceptance.acceptedAt.toISOString().slice(0, 10)}):`,
        ...evidence.map((e) => `${e.name}: ${e.url}`),
        ...(acceptance.note ? [`Note: ${acceptance.note}`] : []),
      ].join('\n');
      await company.attachNote(invoiceId, note);
    }
    if (email) await company.sendInvoice(invoiceId);
  } catch (error) {
    deps.logger.warn(
      { pushId, err: (error as Error).message },
      'invoice created; emailing it or attaching the evidence failed',
    );
  }
}
