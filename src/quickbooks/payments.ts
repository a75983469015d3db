import { z } from 'zod';
import { parseAmount } from '../domain/money.ts';
import type { Company } from './company.ts';
import { QboError } from './errors.ts';

/** An invoice as the app reconciles it: money in minor units of its currency. */
export interface InvoiceState {
  id: string;
  currency: string;
  /** What the invoice bills, tax included. */
  total: number;
  /** What is still owed on it (QuickBooks never lets it go below zero: overpayment is credit). */
  balance: number;
  /** The sum of its item lines, before tax: what the milestone billed, unless someone edited it. */
  lines: number;
  voided: boolean;
  paymentIds: string[];
  dueDate: string | null;
}

export interface PaymentState {
  id: string;
  invoiceIds: string[];
  /** The day the money came in, and how much of it went to each invoice (minor units). */
  receivedOn: string | null;
  applied: { invoiceId: string; amount: number }[];
}

/** QuickBooks sends money as JSON numbers with the currency's decimals; read them exactly. */
const money = (value: number, currency: string) => parseAmount(String(value), currency, { round: true });

const Linked = z.array(z.looseObject({ TxnId: z.string(), TxnType: z.string() })).default([]);

const InvoiceBody = z.looseObject({
  Invoice: z.looseObject({
    Id: z.string(),
    TotalAmt: z.number(),
    Balance: z.number(),
    CurrencyRef: z.looseObject({ value: z.string() }).optional(),
    PrivateNote: z.string().optional(),
    DueDate: z.string().optional(),
    LinkedTxn: Linked,
    Line: z.array(z.looseObject({ Amount: z.number().optional(), DetailType: z.string() })).default([]),
  }),
});

const PaymentBody = z.looseObject({
  Payment: z.looseObject({
    Id: z.string(),
    TxnDate: z.string().optional(),
    CurrencyRef: z.looseObject({ value: z.string() }).optional(),
    Line: z.array(z.looseObject({ Amount: z.number().optional(), LinkedTxn: Linked })).default([]),
  }),
});

/** 610 "Object Not Found": the record was deleted in QuickBooks. */
const gone = (error: unknown) => error instanceof QboError && error.code === '610';

/** The invoice as QuickBooks has it now, or undefined when it was deleted. */
export async function readInvoice(company: Company, id: string, homeCurrency: string) {
  try {
    const { data } = await company.read((sdk, cb) => sdk.getInvoice(id, cb));
    return invoiceState(data, homeCurrency);
  } catch (error) {
    if (gone(error)) return undefined;
    throw error;
  }
}

/** A query-sized chunk of ids: well within QuickBooks' URL and result limits. */
const CHUNK = 200;

/** Many records in one query per 200 ids (`Id IN (…)`); a deleted one is absent from the answer. */
async function readMany<T extends { id: string }>(
  company: Company,
  entity: 'Invoice' | 'Payment',
  ids: string[],
  parse: (row: unknown) => T,
): Promise<Map<string, T>> {
  const found = new Map<string, T>();
  for (let i = 0; i < ids.length; i += CHUNK) {
    const criteria = [{ field: 'Id', value: ids.slice(i, i + CHUNK), operator: 'IN' }];
    const rows = await company.find(entity, z.unknown(), (sdk, cb) =>
      entity === 'Invoice' ? sdk.findInvoices(criteria, cb) : sdk.findPayments(criteria, cb),
    );
    for (const row of rows) {
      const state = parse(row);
      found.set(state.id, state);
    }
  }
  return found;
}

export const readInvoices = (company: Company, ids: string[], homeCurrency: string) =>
  readMany(company, 'Invoice', ids, (row) => invoiceState(row, homeCurrency));

export const readPayments = (company: Company, ids: string[], homeCurrency: string) =>
  readMany(company, 'Payment', ids, (row) => paymentState(row, homeCurrency));

function invoiceState(data: unknown, homeCurrency: string): InvoiceState {
  const i = InvoiceBody.parse({ Invoice: data }).Invoice;
  const currency = i.CurrencyRef?.value ?? homeCurrency;
  const lines = i.Line.filter((l) => l.DetailType === 'SalesItemLineDetail').reduce(
    (sum, l) => sum + money(l.Amount ?? 0, currency),
    0,
  );
  return {
    id: i.Id,
    currency,
    total: money(i.TotalAmt, currency),
    balance: money(i.Balance, currency),
    lines,
    // A void keeps the record with its amounts zeroed and "Voided" in the memo.
    voided: i.TotalAmt === 0 && /^voided/i.test(i.PrivateNote ?? ''),
    paymentIds: i.LinkedTxn.filter((l) => l.TxnType === 'Payment').map((l) => l.TxnId),
    dueDate: i.DueDate ?? null,
  } satisfies InvoiceState;
}

export function paymentState(data: unknown, homeCurrency: string): PaymentState {
  const p = PaymentBody.parse({ Payment: data }).Payment;
  const currency = p.CurrencyRef?.value ?? homeCurrency;
  const applied = new Map<string, number>();
  for (const line of p.Line)
    for (const t of line.LinkedTxn.filter((t) => t.TxnType === 'Invoice'))
      applied.set(t.TxnId, (applied.get(t.TxnId) ?? 0) + money(line.Amount ?? 0, currency));
  return {
    id: p.Id,
    invoiceIds: [...applied.keys()],
    receivedOn: p.TxnDate ?? null,
    applied: [...applied].map(([invoiceId, amount]) => ({ invoiceId, amount })),
  };
}
