import { displayMoney, formatAmount } from '../domain/money.ts';
import { formatPercent } from '../domain/percent.ts';
import type { PaymentTerms } from '../domain/terms.ts';

/** What the billing layer knows of an invoice before QuickBooks' own ids are resolved. */
export interface InvoiceDraft {
  pushId: string;
  dealId: string;
  dealName: string | null;
  milestoneId: string;
  milestoneName: string;
  deliverable: string;
  /** e.g. "40 % of Build" for a partial acceptance; null when the whole milestone was accepted. */
  portionPercent: number | null;
  gross: number;
  retained: number;
  payable: number;
  currency: string;
  acceptedOn: string;
  acceptedBy: string | null;
  acceptanceId: string;
  docNumber: string;
  invoiceDate: string;
  dueDate: string;
  paymentTerms: PaymentTerms;
  /** Have QuickBooks email it to the billing party. */
  sendEmail: boolean;
}

/** The draft with the company's customer, item, term and tax code. */
export interface InvoiceFacts extends Omit<InvoiceDraft, 'paymentTerms'> {
  customerId: string;
  itemId: string;
  termId: string | null;
  taxCode: string;
  billEmail: string | null;
  multiCurrency: boolean;
  /** The company keeps the DocNumber sent (else QuickBooks numbers the invoice itself). */
  customTxnNumbers: boolean;
}

/** What our PrivateNote says first: it names the push that created the invoice, and only that one. */
export const pushMarker = (pushId: string) => `Milestone billing push ${pushId};`;

/** QuickBooks wants decimal numbers; they are produced here and nowhere else, from exact minor units. */
const decimal = (minor: number, currency: string) => Number(formatAmount(minor, currency));

/** The QuickBooks Invoice for one accepted milestone portion. */
export function invoiceBody(f: InvoiceFacts) {
  const amount = decimal(f.payable, f.currency);
  const portion = f.portionPercent === null ? '' : ` (${formatPercent(f.portionPercent)} % of the milestone)`;
  const retainage = f.retained
    ? ` Gross ${displayMoney(f.gross, f.currency)} less retainage ${displayMoney(f.retained, f.currency)}.`
    : '';
  const accepted = `Accepted ${f.acceptedOn}${f.acceptedBy ? ` by ${f.acceptedBy}` : ''} (ref ${f.acceptanceId}).`;
  return {
    CustomerRef: { value: f.customerId },
    // Without custom transaction numbers QuickBooks numbers the invoice itself, and asks for none.
    ...(f.customTxnNumbers ? { DocNumber: f.docNumber } : {}),
    TxnDate: f.invoiceDate,
    DueDate: f.dueDate,
    ...(f.termId ? { SalesTermRef: { value: f.termId } } : {}),
    ...(f.multiCurrency ? { CurrencyRef: { value: f.currency } } : {}),
    ...(f.billEmail ? { BillEmail: { Address: f.billEmail } } : {}),
    EmailStatus: f.sendEmail && f.billEmail ? 'NeedToSend' : 'NotSet',
    // Ties the invoice back to the deal and milestone; the push id identifies it after an uncertain create.
    PrivateNote: `${pushMarker(f.pushId)} HubSpot deal ${f.dealId}; milestone ${f.milestoneId}`.slice(
      0,
      4000,
    ),
    CustomerMemo: {
      value: `${f.dealName ? `${f.dealName}: ` : ''}${f.milestoneName}${portion}`.slice(0, 1000),
    },
    Line: [
      {
        DetailType: 'SalesItemLineDetail',
        Amount: amount,
        Description: `${f.milestoneName}${portion}: ${f.deliverable}. ${accepted}${retainage}`.slice(0, 4000),
        SalesItemLineDetail: {
          ItemRef: { value: f.itemId },
          Qty: 1,
          UnitPrice: amount,
          ServiceDate: f.acceptedOn,
          TaxCodeRef: { value: f.taxCode },
        },
      },
    ],
  };
}
