import { z } from 'zod';
import type { Config } from '../config.ts';
import type { Company } from './company.ts';
import { type InvoiceFacts, invoiceBody } from './invoice-mapping.ts';

const Invoice = z.looseObject({
  Id: z.string(),
  DocNumber: z.string().optional(),
  PrivateNote: z.string().optional(),
});

export interface FoundInvoice {
  id: string;
  /** Our note on the invoice: it names the push that created it. */
  privateNote: string;
}

export async function invoiceByDocNumber(
  company: Company,
  docNumber: string,
): Promise<FoundInvoice | undefined> {
  const [found] = await company.find('Invoice', Invoice, (sdk, cb) =>
    sdk.findInvoices({ DocNumber: docNumber }, cb),
  );
  return found && { id: found.Id, privateNote: found.PrivateNote ?? '' };
}

/**
 * Creates the invoice once per call: it is never repeated here when its outcome is unknown, and
 * `requestId` lets Intuit answer a repeat with the first outcome (best effort on its side).
 */
export async function createInvoice(company: Company, facts: InvoiceFacts, requestId: string) {
  // A fresh object per attempt: node-quickbooks deletes requestId from the entity it sends.
  const result = await company.write((sdk, cb) =>
    sdk.createInvoice({ ...invoiceBody(facts), requestId }, cb),
  );
  return { id: Invoice.parse(result.data).Id, intuitTid: result.intuitTid };
}

/** A note attached to the invoice, e.g. the acceptance evidence. */
export async function attachNote(company: Company, invoiceId: string, note: string): Promise<void> {
  await company.write((sdk, cb) =>
    sdk.createAttachable(
      { AttachableRef: [{ EntityRef: { type: 'Invoice', value: invoiceId } }], Note: note.slice(0, 2000) },
      cb,
    ),
  );
}

/** QuickBooks emails the invoice to its BillEmail. */
export async function sendInvoice(company: Company, invoiceId: string): Promise<void> {
  await company.write((sdk, cb) => sdk.sendInvoicePdf(invoiceId, undefined, cb));
}

/** Where a person opens the invoice in QuickBooks Online. */
export function invoiceUrl(config: Config, invoiceId: string): string {
  const host =
    config.quickbooks.environment === 'sandbox' ? 'app.sandbox.qbo.intuit.com' : 'app.qbo.intuit.com';
  return `https://${host}/app/invoice?txnId=${encodeURIComponent(invoiceId)}`;
}
