import { eq } from 'drizzle-orm';
import { z } from 'zod';
import type { AppContext } from '../context.ts';
import { DomainError } from '../domain/errors.ts';
import { HUNDRED_PERCENT } from '../domain/percent.ts';
import { recentDealOf } from '../hubspot/portal.ts';
import { findMilestone, findScheduleById, type MilestoneRow } from '../schedules/repository.ts';
import { applyTransition } from '../schedules/transition.ts';
import { withLock } from '../security/redis-lock.ts';
import { acceptances, invoicePushes, tenants } from '../store/schema.ts';
import { type Company, openCompany } from './api.ts';
import { type BillingParty, resolveCustomer } from './customers.ts';
import { QboError } from './errors.ts';
import { invoiceBody } from './invoice-mapping.ts';
import { companyFacts, forgetReferences, lineTaxCode, salesTerm, serviceItem } from './references.ts';

const Invoice = z.looseObject({
  Id: z.string(),
  DocNumber: z.string().optional(),
  PrivateNote: z.string().optional(),
});
type Push = typeof invoicePushes.$inferSelect;

export type PushOutcome = 'created' | 'adopted' | 'failed' | 'skipped';

/**
 * Creates the QuickBooks invoice of one accepted milestone portion, exactly once (DESIGN §6):
 * the ledger row fixes the requestid and DocNumber; a create whose outcome is unknown is followed,
 * on the next attempt, by a DocNumber lookup before anything is created again. Transient failures
 * throw (the job retries with backoff); QuickBooks' refusals mark the milestone invoice_failed.
 */
export function pushInvoice(ctx: AppContext, pushId: string): Promise<PushOutcome> {
  // One attempt at a time per push, whichever process or job runs it; a dead holder frees it in 10 s.
  return withLock(ctx.redis, `lock:push:${pushId}`, () => attempt(ctx, pushId), {
    ttlMs: 10_000,
    waitMs: 120_000,
    renew: true,
  });
}

async function attempt(ctx: AppContext, pushId: string): Promise<PushOutcome> {
  const { db } = ctx.database;
  const [push] = await db.select().from(invoicePushes).where(eq(invoicePushes.id, pushId));
  if (!push || push.status === 'failed') return 'skipped';
  const milestone = await startInvoicing(ctx, push);
  if (!milestone) return 'skipped';
  if (push.status === 'created') return 'skipped';

  const company = await openCompany(ctx, push.tenantId);
  if (push.status === 'sending') {
    const existing = await invoiceByDocNumber(company, push.docNumber);
    if (existing) {
      await created(ctx, push, milestone, existing.Id, push.qboCustomerId, undefined);
      return 'adopted';
    }
  }

  let body: ReturnType<typeof invoiceBody>;
  try {
    body = await prepare(ctx, company, push, milestone);
  } catch (error) {
    if (!refusal(error)) throw error;
    await failed(ctx, push, milestone, error);
    return 'failed';
  }
  await db
    .update(invoicePushes)
    .set({
      status: 'sending',
      attempts: push.attempts + 1,
      qboCustomerId: body.CustomerRef.value,
      updatedAt: new Date(),
    })
    .where(eq(invoicePushes.id, push.id));
  try {
    // A fresh object per attempt: node-quickbooks deletes requestId from the entity it sends.
    const result = await company.write((sdk, cb) =>
      sdk.createInvoice({ ...body, requestId: `${push.id}.${push.retries}` }, cb),
    );
    await created(
      ctx,
      push,
      milestone,
      Invoice.parse(result.data).Id,
      body.CustomerRef.value,
      result.intuitTid,
    );
    return 'created';
  } catch (error) {
    if (error instanceof QboError && error.code === '6140') {
      // The DocNumber exists: ours from an earlier attempt (adopt it), or someone else's.
      const existing = await invoiceByDocNumber(company, push.docNumber);
      if (existing?.PrivateNote?.includes(push.id)) {
        await created(ctx, push, milestone, existing.Id, body.CustomerRef.value, error.intuitTid);
        return 'adopted';
      }
    }
    if (!refusal(error)) throw error;
    await failed(ctx, push, milestone, error);
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
async function startInvoicing(ctx: AppContext, push: Push): Promise<MilestoneRow | undefined> {
  return ctx.database.db.transaction(async (tx) => {
    const row = await findMilestone(tx, push.tenantId, push.milestoneId);
    if (!row) return undefined;
    if (row.status === 'accepted') return applyTransition(tx, row, 'push', { actor: `job:push:${push.id}` });
    return row.status === 'invoicing' ? row : undefined;
  });
}

async function prepare(ctx: AppContext, company: Company, push: Push, milestone: MilestoneRow) {
  const { db } = ctx.database;
  const schedule = (await findScheduleById(db, milestone.scheduleId))!;
  const [tenant] = await db.select().from(tenants).where(eq(tenants.id, push.tenantId));
  const [acceptance] = await db.select().from(acceptances).where(eq(acceptances.id, push.acceptanceId));
  const settings = tenant!.settings;
  const facts = await companyFacts(ctx, company, push.tenantId);
  if (push.currency !== facts.homeCurrency && !facts.multiCurrency) {
    throw new DomainError(
      'quickbooks_setup',
      `this deal is in ${push.currency} but the QuickBooks company works only in ${facts.homeCurrency}; turn on multicurrency in QuickBooks`,
    );
  }
  const party = await billingParty(ctx, tenant!, schedule.dealId, acceptance!.acceptedBy);
  const [customerId, itemId, termId] = await Promise.all([
    resolveCustomer(ctx, company, facts, push.tenantId, party, push.currency),
    serviceItem(ctx, company, settings),
    salesTerm(ctx, company, milestone.paymentTerms ?? schedule.paymentTerms),
  ]);
  return invoiceBody({
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
    acceptedBy: acceptance!.acceptedBy.name ?? acceptance!.acceptedBy.email ?? null,
    acceptanceId: acceptance!.id,
    docNumber: push.docNumber,
    invoiceDate: push.invoiceDate!,
    dueDate: push.dueDate!,
    customerId,
    itemId,
    termId,
    taxCode: lineTaxCode(facts, settings),
    billEmail: party.email,
    sendEmail: settings.emailInvoices ?? false,
    multiCurrency: facts.multiCurrency,
  });
}

/** The deal's company and first contact in HubSpot; without a HubSpot install, whoever accepted. */
async function billingParty(
  ctx: AppContext,
  tenant: typeof tenants.$inferSelect,
  dealId: string,
  acceptedBy: { name?: string; email?: string },
): Promise<BillingParty> {
  try {
    const deal = await recentDealOf(ctx, tenant, dealId);
    const contact = deal.contacts.find((c) => c.email) ?? deal.contacts[0];
    if (deal.company) {
      const a = deal.company.address;
      return {
        key: `company:${deal.company.id}`,
        name: deal.company.name,
        companyName: deal.company.name,
        email: contact?.email ?? null,
        address: {
          line1: a.line1 ?? null,
          city: a.city ?? null,
          state: a.state ?? null,
          postalCode: a.postalCode ?? null,
          country: a.country ?? null,
        },
      };
    }
    if (contact)
      return {
        key: `contact:${contact.id}`,
        name: contact.name,
        companyName: null,
        email: contact.email,
        address: null,
      };
  } catch (error) {
    if (!(error instanceof DomainError) || error.code !== 'hubspot_not_installed') throw error;
  }
  if (acceptedBy.email) {
    return {
      key: `email:${acceptedBy.email.toLowerCase()}`,
      name: acceptedBy.name ?? acceptedBy.email,
      companyName: null,
      email: acceptedBy.email,
      address: null,
    };
  }
  throw new DomainError('no_billing_party', `deal ${dealId} has no company or contact to bill in HubSpot`);
}

async function invoiceByDocNumber(company: Company, docNumber: string) {
  const [found] = await company.find('Invoice', Invoice, (sdk, cb) =>
    sdk.findInvoices({ DocNumber: docNumber }, cb),
  );
  return found;
}

async function created(
  ctx: AppContext,
  push: Push,
  milestone: MilestoneRow,
  invoiceId: string,
  customerId: string | null,
  intuitTid: string | undefined,
): Promise<void> {
  await ctx.database.db.transaction(async (tx) => {
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
  ctx: AppContext,
  push: Push,
  milestone: MilestoneRow,
  error: QboError | DomainError,
): Promise<void> {
  // A cached item, term or tax code deleted in QuickBooks since: resolve them afresh on the retry.
  if (error instanceof QboError && error.code === '2500') await forgetReferences(ctx, push.tenantId);
  ctx.logger.warn(
    { pushId: push.id, code: error.code, intuitTid: (error as QboError).intuitTid },
    'invoice refused',
  );
  await ctx.database.db.transaction(async (tx) => {
    await tx
      .update(invoicePushes)
      .set({
        status: 'failed',
        errorCode: error.code || 'refused',
        errorMessage: error.message,
        intuitTid: error instanceof QboError ? (error.intuitTid ?? null) : null,
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
 * After the invoice exists: email it when the tenant wants QuickBooks to, and attach the
 * acceptance evidence. Neither can lose or duplicate the invoice, so failures are only logged.
 */
export async function deliverInvoice(ctx: AppContext, pushId: string): Promise<void> {
  const { db } = ctx.database;
  const [push] = await db.select().from(invoicePushes).where(eq(invoicePushes.id, pushId));
  if (!push?.qboInvoiceId) return;
  const invoiceId = push.qboInvoiceId;
  const [tenant] = await db.select().from(tenants).where(eq(tenants.id, push.tenantId));
  const [acceptance] = await db.select().from(acceptances).where(eq(acceptances.id, push.acceptanceId));
  const evidence = acceptance?.evidence ?? [];
  if (!tenant?.settings.emailInvoices && evidence.length === 0) return;
  try {
    const company = await openCompany(ctx, push.tenantId);
    if (evidence.length) {
      const note = [
        `Acceptance evidence (${acceptance!.acceptedBy.name ?? acceptance!.acceptedBy.email ?? 'client'}, ${acceptance!.acceptedAt.toISOString().slice(0, 10)}):`,
        ...evidence.map((e) => `${e.name}: ${e.url}`),
        ...(acceptance!.note ? [`Note: ${acceptance!.note}`] : []),
      ].join('\n');
      await company.write((sdk, cb) =>
        sdk.createAttachable(
          {
            AttachableRef: [{ EntityRef: { type: 'Invoice', value: invoiceId } }],
            Note: note.slice(0, 2000),
          },
          cb,
        ),
      );
    }
    if (tenant?.settings.emailInvoices)
      await company.write((sdk, cb) => sdk.sendInvoicePdf(invoiceId, undefined, cb));
  } catch (error) {
    ctx.logger.warn(
      { pushId, err: (error as Error).message },
      'invoice created; emailing it or attaching the evidence failed',
    );
  }
}
