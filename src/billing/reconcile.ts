import { and, eq, inArray } from 'drizzle-orm';
import { invoicePushes, qboPaymentLinks } from '../store/schema.ts';
import type { Tenant } from '../tenants/repository.ts';
import type { BillingDeps } from './deps.ts';
import { replacePaymentLinks, settleInvoice } from './payments.ts';

/** Changes are read again from a little before the last run: clocks and commits are not exact. */
const OVERLAP_MS = 2 * 60_000;

export interface Reconciled {
  via: 'cdc' | 'query';
  since: string;
  invoices: number;
  outcomes: string[];
}

/**
 * Everything that changed in the tenant's QuickBooks company since the last run, applied as the
 * webhooks would have: a lost or late webhook is repaired here. Safe to run at any time and
 * twice at once, since each invoice is settled from its state in QuickBooks now.
 */
export async function reconcileCompany(deps: BillingDeps, tenant: Tenant): Promise<Reconciled | undefined> {
  const stand = await deps.quickbooks.reconciliation(tenant.id);
  if (!stand) return undefined;
  const startedAt = new Date();
  const since = new Date(stand.until.getTime() - OVERLAP_MS);
  const company = await deps.quickbooks.company(tenant.id);
  const changes = await company.changesSince(since);

  const gone = changes.deletedPaymentIds.length
    ? await deps.db
        .delete(qboPaymentLinks)
        .where(
          and(
            eq(qboPaymentLinks.tenantId, tenant.id),
            inArray(qboPaymentLinks.paymentId, changes.deletedPaymentIds),
          ),
        )
        .returning({ id: qboPaymentLinks.qboInvoiceId })
    : [];
  for (const payment of changes.payments) await replacePaymentLinks(deps.db, tenant.id, payment.id, payment);
  const invoiceIds = [
    ...new Set([
      ...changes.invoiceIds,
      ...changes.payments.flatMap((p) => p.invoiceIds),
      ...gone.map((g) => g.id),
    ]),
  ];
  const outcomes: string[] = [];
  for (let i = 0; i < invoiceIds.length; i += 500) {
    const ours = await deps.db
      .select()
      .from(invoicePushes)
      .where(
        and(
          eq(invoicePushes.tenantId, tenant.id),
          inArray(invoicePushes.qboInvoiceId, invoiceIds.slice(i, i + 500)),
        ),
      );
    const states = ours.length ? await company.readInvoices(ours.map((p) => p.qboInvoiceId!)) : new Map();
    for (const push of ours) {
      const state = states.get(push.qboInvoiceId!);
      const outcome = await settleInvoice(deps, push, state, `reconcile:${startedAt.toISOString()}`);
      if (outcome !== 'unchanged') outcomes.push(`${push.docNumber} ${outcome}`);
    }
  }
  await deps.quickbooks.markReconciled(tenant.id, startedAt);
  return { via: changes.via, since: since.toISOString(), invoices: invoiceIds.length, outcomes };
}
