import { z } from 'zod';
import type { Config } from '../config.ts';
import { parseAmount } from '../domain/money.ts';
import type { Company } from './company.ts';
import { type InvoiceFacts, invoiceBody, pushMarker } from './invoice-mapping.ts';

const Invoice = z.looseObject({
  Id: z.string(),
  DocNumber: z.string().optional(),
  PrivateNote: z.string().optional(),
  TotalAmt: z.number().optional(),
  Balance: z.number().optional(),
});

export interface FoundInvoice {
  id: string;
  /** QuickBooks' own number when the company numbers invoices itself. */
  docNumber: string | null;
}

/** What an earlier attempt of a push sent, to find the invoice it may have created. */
export interface OurInvoiceKey {
  pushId: string;
  docNumber: string;
  customerId: string | null;
  txnDate: string | null;
}

const PAGE = 1000;

/**
 * The invoice an earlier attempt of this push created, if QuickBooks has it: only one whose
 * PrivateNote names the push. Found by what that attempt sent: our DocNumber where the company
 * keeps custom numbers. Otherwise QuickBooks numbered it itself and PrivateNote is not a field
 * queries filter on, so the customer's invoices of that date are read and their notes compared.
 */
export async function findOurInvoice(
  company: Company,
  customTxnNumbers: boolean,
  key: OurInvoiceKey,
): Promise<FoundInvoice | undefined> {
  const ours = (invoices: z.infer<typeof Invoice>[]) => {
    const found = invoices.find((i) => i.PrivateNote?.includes(pushMarker(key.pushId)));
    return found && { id: found.Id, docNumber: found.DocNumber ?? null };
  };
  if (customTxnNumbers) {
    return ours(
      await company.find('Invoice', Invoice, (sdk, cb) => sdk.findInvoices({ DocNumber: key.docNumber }, cb)),
    );
  }
  const { customerId, txnDate } = key;
  if (!customerId || !txnDate) return undefined;
  for (let offset = 1; ; offset += PAGE) {
    const page = await company.find('Invoice', Invoice, (sdk, cb) =>
      sdk.findInvoices({ CustomerRef: customerId, TxnDate: txnDate, limit: PAGE, offset }, cb),
    );
    const found = ours(page);
    if (found || page.length < PAGE) return found;
  }
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
  const invoice = Invoice.parse(result.data);
  // What the client owes as QuickBooks computed it, tax included (TotalAmt; Balance, still unpaid).
  const minor = (value: number | undefined) =>
    value === undefined ? null : parseAmount(String(value), facts.currency, { round: true });
  return {
    id: invoice.Id,
    docNumber: invoice.DocNumber ?? null,
    intuitTid: result.intuitTid,
    total: minor(invoice.TotalAmt),
    balance: minor(invoice.Balance),
  };
}

/** Whether a note holding `marker` is attached to the invoice already (an attempt whose answer was lost). */
export async function hasNote(company: Company, invoiceId: string, marker: string): Promise<boolean> {
  const notes = await company.find('Attachable', z.looseObject({ Note: z.string().optional() }), (sdk, cb) =>
    sdk.findAttachables(
      [
        { field: 'AttachableRef.EntityRef.Type', value: 'Invoice' },
        { field: 'AttachableRef.EntityRef.value', value: invoiceId },
      ],
      cb,
    ),
  );
  return notes.some((n) => n.Note?.includes(marker));
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
