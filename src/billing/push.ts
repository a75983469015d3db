import { setTimeout as sleep } from 'node:timers/promises';
import { and, eq, notInArray, sql } from 'drizzle-orm';
import { DomainError } from '../domain/errors.ts';
import { HUNDRED_PERCENT } from '../domain/percent.ts';
import { failures, pushLatency } from '../metrics.ts';
import { type InvoiceDraft, QboError } from '../quickbooks/index.ts';
import { type HeldLock, LockLost, withLock } from '../redis/lock.ts';
import { findMilestone, type MilestoneRow } from '../schedules/repository.ts';
import { applyTransition } from '../schedules/transition.ts';
import { acceptances, invoicePushes, schedules, tenants } from '../store/schema.ts';
import { portalOf } from '../tenants/repository.ts';
import { billingParty } from './billing-party.ts';
import type { BillingDeps } from './deps.ts';
import { findPush, type Push } from './ledger.ts';

export type PushOutcome = 'created' | 'adopted' | 'failed' | 'skipped';

/**
 * Creates the QuickBooks invoice of one accepted milestone portion, exactly once (DESIGN §6):
 * the ledger row fixes the requestid and DocNumber; a create whose answer never came is looked up
 * after one more request timeout, and again on the next attempt, before anything is created again. What a person must
 * fix (a refusal, a lost connection, a deal gone) marks the milestone invoice_failed with the reason
 * on its first try; failures that may pass by themselves are retried (the job's backoff) until
 * INVOICE_MAX_TRIES, then shown the same way. Once the invoice exists, delivery and write-back follow.
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
  } else if (outcome === 'skipped') await finishIfLeft(deps, pushId);
  return outcome;
}

/**
 * A push found created by a re-run of its job: the run before was stopped (a killed worker)
 * after the ledger recorded the invoice, maybe before it delivered it or queued the write-back.
 * Both are finished here, each once: delivery is marked, and queueing the write-back again is
 * harmless (one job id per push, and a written-back push is skipped).
 */
async function finishIfLeft(deps: BillingDeps, pushId: string): Promise<void> {
  const push = await findPush(deps.db, pushId);
  if (push?.status !== 'created') return;
  if (!push.deliveredAt) await deliverInvoice(deps, pushId, true);
  if (!push.writtenBackAt) await deps.jobs.writeBack(pushId);
}

async function attempt(deps: BillingDeps, pushId: string, lock: HeldLock): Promise<PushOutcome> {
  const push = await startTry(deps, pushId);
  if (!push) return 'skipped';
  const milestone = await startInvoicing(deps, push);
  if (!milestone) return 'skipped';
  const { tries } = push;
  try {
    return await invoiceOnce(deps, push, milestone, lock);
  } catch (error) {
    if (error instanceof LockLost) throw error;
    // A platform not answering is shown to a person after INVOICE_MAX_TRIES (about a quarter of an
    // hour with the job backoff at 10); the sweeper resumes such pushes later by itself.
    const reason =
      needsPerson(error) ?? (tries >= deps.config.invoiceMaxTries ? unavailable(error, tries) : undefined);
    if (!reason) throw error;
    await failed(deps, push, milestone, reason);
    return 'failed';
  }
}

async function invoiceOnce(
  deps: BillingDeps,
  push: Push,
  milestone: MilestoneRow,
  lock: HeldLock,
): Promise<PushOutcome> {
  lock.assertHeld();
  const company = await deps.quickbooks.company(push.tenantId, lock.signal);
  const ours = (customerId = push.qboCustomerId) =>
    company.findOurInvoice({
      pushId: push.id,
      docNumber: push.docNumber,
      customerId,
      txnDate: push.invoiceDate,
    });
  // A create went out before and its outcome is unknown, or this push was resumed after one.
  if (push.status === 'sending' || push.attempts > 0) {
    const existing = await ours();
    if (existing) {
      await created(deps, push, milestone, existing.id, push.qboCustomerId, undefined);
      return 'adopted';
    }
  }
  const order = await orderOf(deps, push, milestone);
  const send = async (requestId: string) => {
    const invoice = await company.prepareInvoice(order.draft, order.party, order.settings);
    lock.assertHeld();
    await deps.db
      .update(invoicePushes)
      .set({
        status: 'sending',
        attempts: sql`${invoicePushes.attempts} + 1`,
        qboCustomerId: invoice.customerId,
        customerName: order.party.name,
        updatedAt: new Date(),
      })
      .where(eq(invoicePushes.id, push.id));
    try {
      const result = await company.createInvoice(invoice, requestId);
      await created(deps, push, milestone, result.id, invoice.customerId, result.intuitTid, result);
      return 'created' as const;
    } catch (error) {
      if (!outcomeUnknown(error)) throw error;
      // QuickBooks may still be at work on the create and finish it after we gave up on the answer
      // or its gateway answered 5xx (a late finish): a lookup right away would miss the invoice,
      // and the next attempt would create a second one, which requestid does not reliably stop. So
      // QuickBooks gets one more request timeout to finish, and the invoice is looked for before
      // anything else happens.
      await sleep(deps.config.quickbooks.requestTimeoutMs, undefined, { signal: lock.signal }).catch(() =>
        lock.assertHeld(),
      );
      const existing = await ours(invoice.customerId);
      if (!existing) throw error;
      await created(deps, push, milestone, existing.id, invoice.customerId, error.intuitTid);
      return 'adopted' as const;
    }
  };
  try {
    return await send(`${push.id}.${push.retries}`);
  } catch (error) {
    if (!(error instanceof QboError)) throw error;
    if (error.code === '6140') {
      // The DocNumber exists: ours from an earlier attempt (adopt it), or someone else's.
      const existing = await ours();
      if (existing) {
        await created(deps, push, milestone, existing.id, null, error.intuitTid);
        return 'adopted';
      }
    }
    if (!error.staleReference) throw error;
    // A customer, item, term or tax code deleted, merged or made inactive in QuickBooks since we
    // cached it: resolve them afresh, once. QuickBooks refused the create, so nothing exists yet;
    // a new requestid keeps Intuit from answering with the stored refusal.
    deps.logger.info(
      { pushId: push.id, qboCode: error.code },
      'stale QuickBooks reference; resolving afresh',
    );
    await company.forgetReferences(order.party);
    return await send(`${push.id}.${push.retries}h`);
  }
}

/**
 * No answer that says what became of a create: none at all, a 5xx (a gateway or server answering
 * for work it may have done; Intuit's error guide has a 500 "resubmitted once"), or a Fault in an
 * HTTP 200. QuickBooks may have carried it out, or may still.
 */
const outcomeUnknown = (error: unknown): error is QboError =>
  error instanceof QboError &&
  (error.kind === 'timeout' || error.kind === 'network' || error.kind === 'server' || error.status === 200);

/**
 * The push, if it is still to be invoiced, with this try counted against INVOICE_MAX_TRIES; the
 * touched updatedAt keeps the sweeper off a push in progress.
 */
async function startTry(deps: BillingDeps, pushId: string): Promise<Push | undefined> {
  const [push] = await deps.db
    .update(invoicePushes)
    .set({ tries: sql`${invoicePushes.tries} + 1`, updatedAt: new Date() })
    .where(and(eq(invoicePushes.id, pushId), notInArray(invoicePushes.status, ['failed', 'created'])))
    .returning();
  return push;
}

export interface FailureReason {
  code: string;
  message: string;
  /** QuickBooks' intuit_tid, for Intuit support. */
  intuitTid?: string | undefined;
}

/** Causes no retry can fix: a person must act (reconnect, reinstall, fix the data in QuickBooks). */
const NEEDS_A_PERSON = new Set([
  'currency_mismatch',
  'quickbooks_setup',
  'no_billing_party',
  'quickbooks_not_connected',
  'quickbooks_reconnect_required',
  'hubspot_reauth_required',
  'hubspot_not_found',
]);

function needsPerson(error: unknown): FailureReason | undefined {
  if (error instanceof QboError && (error.kind === 'validation' || error.kind === 'forbidden'))
    return { code: error.code || error.kind, message: error.message, intuitTid: error.intuitTid };
  if (!(error instanceof DomainError) || !NEEDS_A_PERSON.has(error.code)) return undefined;
  const message =
    error.code === 'hubspot_not_found'
      ? `the deal no longer exists in HubSpot (${error.message}); restore it there, then retry`
      : error.message;
  return { code: error.code, message };
}

function unavailable(error: unknown, tries: number): FailureReason {
  const qbo = error instanceof QboError;
  return {
    code: qbo ? 'quickbooks_unavailable' : error instanceof DomainError ? error.code : 'unavailable',
    message: `not invoiced after ${tries} tries: ${(error as Error).message}; it is tried again later, or retry it now`,
    intuitTid: qbo ? error.intuitTid : undefined,
  };
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

/** What the invoice says and whom it bills, from the ledger, the schedule and the deal. */
async function orderOf(deps: BillingDeps, push: Push, milestone: MilestoneRow) {
  // One read for the three rows: this is on the way from the acceptance to the invoice.
  const [row] = await deps.db
    .select({ schedule: schedules, tenant: tenants, acceptance: acceptances })
    .from(acceptances)
    .innerJoin(tenants, eq(tenants.id, acceptances.tenantId))
    .innerJoin(schedules, eq(schedules.id, milestone.scheduleId))
    .where(eq(acceptances.id, push.acceptanceId));
  if (!row) throw new DomainError('not_found', `push ${push.id}: its acceptance or schedule is gone`);
  const { schedule, tenant, acceptance } = row;
  const { acceptedBy } = acceptance;
  const party = await billingParty(deps.hubspot, portalOf(tenant), schedule.dealId, acceptedBy);
  const draft: InvoiceDraft = {
    pushId: push.id,
    dealId: schedule.dealId,
    dealName: schedule.dealName,
    milestoneId: milestone.id,
    milestoneName: milestone.name,
    deliverable: milestone.deliverable,
    portionPercent:
      acceptance.percent !== null && acceptance.percent < HUNDRED_PERCENT ? acceptance.percent : null,
    gross: milestone.amount,
    // The ledger fixed what this invoice bills; the rest of the milestone is held back as retainage.
    retained: milestone.amount - push.amount,
    payable: push.amount,
    currency: push.currency,
    acceptedOn: acceptance.acceptedAt.toISOString().slice(0, 10),
    acceptedBy: acceptedBy.name ?? acceptedBy.email ?? null,
    acceptanceId: acceptance.id,
    docNumber: push.docNumber,
    invoiceDate: push.invoiceDate!,
    dueDate: push.dueDate!,
    paymentTerms: milestone.paymentTerms ?? schedule.paymentTerms,
    sendEmail: tenant.settings.emailInvoices ?? false,
  };
  return { draft, party, settings: tenant.settings };
}

async function created(
  deps: BillingDeps,
  push: Push,
  milestone: MilestoneRow,
  invoiceId: string,
  customerId: string | null,
  intuitTid: string | undefined,
  owed?: { total: number | null; balance: number | null },
): Promise<void> {
  await deps.db.transaction(async (tx) => {
    await tx
      .update(invoicePushes)
      .set({
        status: 'created',
        qboInvoiceId: invoiceId,
        qboCustomerId: customerId,
        // QuickBooks' figures, tax included, from the create's answer; an adopted invoice's come
        // with its first read.
        ...(owed?.total != null ? { qboTotal: owed.total, qboBalance: owed.balance ?? owed.total } : {}),
        intuitTid: intuitTid ?? null,
        errorCode: null,
        errorMessage: null,
        updatedAt: new Date(),
      })
      .where(eq(invoicePushes.id, push.id));
    await applyTransition(
      tx,
      milestone,
      'invoice_created',
      { actor: `job:push:${push.id}`, data: { qboInvoiceId: invoiceId, docNumber: push.docNumber } },
      { needsAttention: false, attentionReason: null },
    );
  });
  pushLatency.observe((Date.now() - push.createdAt.getTime()) / 1000);
}

async function failed(deps: BillingDeps, push: Push, milestone: MilestoneRow, reason: FailureReason) {
  // QuickBooks' own code under a name the log's redaction leaves alone (it hides `code`).
  deps.logger.warn(
    {
      pushId: push.id,
      milestoneId: milestone.id,
      errorCode: reason.code,
      intuitTid: reason.intuitTid,
      reason: reason.message,
    },
    'invoice not created; it needs a person',
  );
  failures.inc({ code: `invoice_refused:${reason.code}` });
  await deps.db.transaction(async (tx) => {
    await tx
      .update(invoicePushes)
      .set({
        status: 'failed',
        errorCode: reason.code,
        errorMessage: reason.message,
        intuitTid: reason.intuitTid ?? null,
        updatedAt: new Date(),
      })
      .where(eq(invoicePushes.id, push.id));
    await applyTransition(
      tx,
      milestone,
      'invoice_failed',
      { actor: `job:push:${push.id}`, reason: reason.message, data: { code: reason.code } },
      { needsAttention: true, attentionReason: reason.message },
    );
  });
}

/**
 * After the invoice exists: attach the acceptance evidence, and email it when the tenant wants
 * QuickBooks to. Neither can lose or duplicate the invoice, so failures are only logged. Done once
 * (`deliveredAt`): a re-run after a kill (`resumed`) first looks for the evidence note an attempt
 * whose answer was lost may have attached; it is marked delivered before the email goes, so a kill
 * during the send leaves the email unsent (QuickBooks shows it so) rather than sent twice.
 */
async function deliverInvoice(deps: BillingDeps, pushId: string, resumed = false): Promise<void> {
  const [row] = await deps.db
    .select({
      tenantId: invoicePushes.tenantId,
      invoiceId: invoicePushes.qboInvoiceId,
      deliveredAt: invoicePushes.deliveredAt,
      settings: tenants.settings,
      acceptance: acceptances,
    })
    .from(invoicePushes)
    .innerJoin(tenants, eq(tenants.id, invoicePushes.tenantId))
    .innerJoin(acceptances, eq(acceptances.id, invoicePushes.acceptanceId))
    .where(eq(invoicePushes.id, pushId));
  if (!row?.invoiceId || row.deliveredAt) return;
  const { invoiceId, acceptance } = row;
  const evidence = acceptance.evidence ?? [];
  const email = row.settings.emailInvoices ?? false;
  if (!email && evidence.length === 0) return;
  // Under the push's lock, so that a job run again while the first is still delivering waits for
  // it and then finds the push delivered.
  await withLock(
    deps.redis,
    `lock:push:${pushId}`,
    async () => {
      const [now] = await deps.db
        .select({ deliveredAt: invoicePushes.deliveredAt })
        .from(invoicePushes)
        .where(eq(invoicePushes.id, pushId));
      if (!now?.deliveredAt)
        await deliver(deps, { pushId, tenantId: row.tenantId, invoiceId, acceptance, email }, resumed);
    },
    { ttlMs: 10_000, waitMs: 120_000, renew: true },
  );
}

async function deliver(
  deps: BillingDeps,
  order: {
    pushId: string;
    tenantId: string;
    invoiceId: string;
    acceptance: typeof acceptances.$inferSelect;
    email: boolean;
  },
  resumed: boolean,
): Promise<void> {
  const { pushId, invoiceId, acceptance, email } = order;
  const evidence = acceptance.evidence ?? [];
  const failed = (what: string) => (error: unknown) =>
    deps.logger.warn({ pushId, err: (error as Error).message }, `invoice created; ${what} failed`);
  const company = await deps.quickbooks
    .company(order.tenantId)
    .catch(failed('opening QuickBooks to deliver it'));
  if (!company) return;
  if (evidence.length) {
    const who = acceptance.acceptedBy.name ?? acceptance.acceptedBy.email ?? 'client';
    const note = [
      // The acceptance id marks the note as this acceptance's, for the look before a second attach.
      `Acceptance evidence (${who}, ${acceptance.acceptedAt.toISOString().slice(0, 10)}, ${acceptance.id}):`,
      ...evidence.map((e) => `${e.name}: ${e.url}`),
      ...(acceptance.note ? [`Note: ${acceptance.note}`] : []),
    ].join('\n');
    try {
      if (!(resumed && (await company.hasNote(invoiceId, acceptance.id))))
        await company.attachNote(invoiceId, note);
    } catch (error) {
      failed('attaching the acceptance evidence')(error);
    }
  }
  await deps.db.update(invoicePushes).set({ deliveredAt: new Date() }).where(eq(invoicePushes.id, pushId));
  if (email) await company.sendInvoice(invoiceId).catch(failed('emailing it'));
}
