import { eq, inArray } from 'drizzle-orm';
import { minorDigits } from '../../../src/domain/currencies.ts';
import { paymentStatus } from '../../../src/billing/payments.ts';
import { invoicePushes, milestones } from '../../../src/store/schema.ts';
import type { Invoice } from '../../sandboxes/quickbooks/index.ts';
import { eventually } from '../../support/net.ts';
import type { FaultTenant, Portion, Stack } from './stack.ts';

/** QuickBooks' decimal as minor units of the currency (what the app stores). */
export const minor = (amount: number, currency: string) => Math.round(amount * 10 ** minorDigits(currency));

export interface Tally {
  expected: number;
  created: number;
  duplicates: number;
  lost: number;
  /** Invoices with a payment recorded in QuickBooks, and how many of them the milestones show exactly. */
  paid: number;
  paidReflected: number;
  /** Invoice notes on the HubSpot deals beyond one per invoice, and invoices without one. */
  extraNotes: number;
  missingNotes: number;
  problems: string[];
}

/**
 * Counts what QuickBooks holds for the accepted portions, independently of the app's ledger: an
 * invoice belongs to a portion when its PrivateNote names the portion's milestone (and the
 * DocNumber, where the company keeps ours, is unique). Then compares each milestone with its
 * invoice: what QuickBooks shows as received is what the milestone says was paid, and the status
 * follows. `notes`: each invoice has exactly one invoice note on its HubSpot deal.
 */
export async function tally(
  s: Stack,
  tenant: FaultTenant,
  portions: Portion[],
  opts: { notes?: boolean } = {},
): Promise<Tally> {
  const invoices = s.qbo.invoices(tenant.realmId) as Invoice[];
  const problems: string[] = [];
  const noteOf = (i: Invoice) => String(i.PrivateNote ?? '');
  const mine = (p: Portion) => invoices.filter((i) => noteOf(i).includes(`milestone ${p.milestoneId}`));
  let created = 0;
  let duplicates = 0;
  for (const p of portions) {
    const found = mine(p);
    if (found.length > 0) created++;
    if (found.length > 1) {
      duplicates += found.length - 1;
      problems.push(`${p.key} of deal ${p.dealId}: ${found.length} invoices (${found.map((i) => i.DocNumber)})`);
    }
  }
  const strays = invoices.filter((i) => !portions.some((p) => noteOf(i).includes(`milestone ${p.milestoneId}`)));
  duplicates += strays.length;
  for (const i of strays) problems.push(`invoice ${i.Id} (${i.DocNumber}) belongs to no accepted portion`);
  const numbers = invoices.map((i) => i.DocNumber).filter(Boolean);
  if (new Set(numbers).size !== numbers.length) problems.push(`a DocNumber is used twice: ${numbers.sort()}`);
  const lost = portions.length - created;
  for (const p of portions) if (mine(p).length === 0) problems.push(`${p.key} of deal ${p.dealId}: no invoice`);

  const ids = portions.map((p) => p.milestoneId);
  const rows = ids.length
    ? await s.t.database.db
        .select({ push: invoicePushes, status: milestones.status, id: milestones.id })
        .from(milestones)
        .leftJoin(invoicePushes, eq(invoicePushes.milestoneId, milestones.id))
        .where(inArray(milestones.id, ids))
    : [];
  let paid = 0;
  let paidReflected = 0;
  let extraNotes = 0;
  let missingNotes = 0;
  for (const p of portions) {
    const [invoice] = mine(p);
    if (!invoice) continue;
    const row = rows.find((r) => r.id === p.milestoneId && r.push?.qboInvoiceId === invoice.Id);
    if (!row?.push) {
      problems.push(`${p.key} of deal ${p.dealId}: invoice ${invoice.Id} is not the one its ledger row names`);
      continue;
    }
    const currency = row.push.currency;
    const received = minor(Number(invoice.TotalAmt) - Number(invoice.Balance), currency);
    const status = paymentStatus({
      total: minor(Number(invoice.TotalAmt), currency),
      balance: minor(Number(invoice.Balance), currency),
    });
    if (received > 0) paid++;
    if (row.push.paidAmount === received && row.status === status) {
      if (received > 0) paidReflected++;
    } else
      problems.push(
        `${p.key} of deal ${p.dealId}: QuickBooks shows ${received} received (${status}), the milestone ${row.push.paidAmount} (${row.status})`,
      );
    if (opts.notes) {
      const notes = s.hs
        .notesFor(tenant.portal, p.dealId)
        .filter((n) => n.body?.includes(`Invoice <strong>${row.push!.docNumber}</strong> created in QuickBooks`));
      if (notes.length === 0) missingNotes++;
      if (notes.length > 1) extraNotes += notes.length - 1;
      if (notes.length !== 1) problems.push(`${row.push.docNumber}: ${notes.length} invoice notes on deal ${p.dealId}`);
    }
  }
  return {
    expected: portions.length,
    created,
    duplicates,
    lost,
    paid,
    paidReflected,
    extraNotes,
    missingNotes,
    problems,
  };
}

/**
 * Pays the invoices in QuickBooks as a bookkeeper would: every other one in full, the rest in part
 * (a third, to the cent). Answers how many invoices got a payment.
 */
export function payInvoices(s: Stack, tenant: FaultTenant, portions: Portion[]): number {
  const invoices = s.qbo.invoices(tenant.realmId) as Invoice[];
  let count = 0;
  portions.forEach((p, i) => {
    const invoice = invoices.find((inv) => String(inv.PrivateNote ?? '').includes(`milestone ${p.milestoneId}`));
    if (!invoice) return;
    const total = Number(invoice.TotalAmt);
    const amount = i % 2 === 0 ? total : Math.round((total / 3) * 100) / 100;
    s.qbo.recordPayment(tenant.realmId, invoice.Id, amount);
    count++;
  });
  return count;
}

/** Waits until every portion has its invoice created, and (unless told not to) written back. */
export function settled(tenant: FaultTenant, count: number, opts: { writtenBack?: boolean; timeoutMs?: number } = {}) {
  return eventually(
    tenant.pushes,
    (rows) =>
      rows.length >= count &&
      rows.every((r) => r.push.status === 'created' && (opts.writtenBack === false || r.push.writtenBackAt)),
    opts.timeoutMs ?? 60_000,
  );
}

/** Waits until every invoice's payments in QuickBooks are on its milestone. */
export function paymentsReflected(s: Stack, tenant: FaultTenant, timeoutMs = 60_000) {
  return eventually(
    async () => {
      const invoices = s.qbo.invoices(tenant.realmId) as Invoice[];
      const rows = await tenant.pushes();
      return rows.filter((r) => {
        const invoice = invoices.find((i) => i.Id === r.push.qboInvoiceId);
        if (!invoice) return true;
        return r.push.paidAmount !== minor(Number(invoice.TotalAmt) - Number(invoice.Balance), r.push.currency);
      }).length;
    },
    (behind) => behind === 0,
    timeoutMs,
  );
}
