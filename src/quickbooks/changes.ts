import { z } from 'zod';
import type { Company } from './company.ts';
import { type PaymentState, paymentState } from './payments.ts';

/** What changed in a company since a moment: the ids to look at again. */
export interface CompanyChanges {
  invoiceIds: string[];
  /** Payments still there, with the invoices they are applied to now. */
  payments: PaymentState[];
  deletedPaymentIds: string[];
  /** How they were read: Change Data Capture, or queries (a window CDC cannot answer whole). */
  via: 'cdc' | 'query';
}

/** CDC answers at most 1,000 objects (across entities) and looks back at most 30 days. */
export const CDC_MAX_OBJECTS = 1000;
export const CDC_MAX_LOOKBACK_MS = 30 * 24 * 60 * 60_000;
const PAGE = 1000;

const Record_ = z.looseObject({ Id: z.string(), status: z.string().optional() });
type Row = z.infer<typeof Record_>;

const CdcAnswer = z.looseObject({
  CDCResponse: z.array(
    z.looseObject({ QueryResponse: z.array(z.record(z.string(), z.unknown())).default([]) }),
  ),
});

/**
 * Invoices and payments changed since `since`. Change Data Capture first (one metered call); when
 * its answer is full (1,000 objects, so some may be missing) or the window is older than CDC keeps,
 * the same is read by queries ordered by last change, a page of 1,000 at a time, so nothing is
 * left out however many changed.
 */
export async function changesSince(
  company: Company,
  since: Date,
  homeCurrency: string,
  now = Date.now(),
): Promise<CompanyChanges> {
  if (now - since.getTime() < CDC_MAX_LOOKBACK_MS - 60 * 60_000) {
    const { data } = await company.read((sdk, cb) =>
      sdk.changeDataCapture(['Invoice', 'Payment'], since.toISOString(), cb),
    );
    const lists = CdcAnswer.parse(data).CDCResponse.flatMap((r) => r.QueryResponse);
    const rows = (entity: string) =>
      lists.flatMap((l) =>
        z
          .array(Record_)
          .catch([])
          .parse(l[entity] ?? []),
      );
    const invoices = rows('Invoice');
    const payments = rows('Payment');
    if (invoices.length + payments.length < CDC_MAX_OBJECTS)
      return summarise(invoices, payments, 'cdc', homeCurrency);
  }
  const [invoices, payments] = await Promise.all([
    queryAll(company, 'Invoice', since),
    queryAll(company, 'Payment', since),
  ]);
  return summarise(invoices, payments, 'query', homeCurrency);
}

async function queryAll(company: Company, entity: 'Invoice' | 'Payment', since: Date): Promise<Row[]> {
  const all: Row[] = [];
  for (let start = 1; ; start += PAGE) {
    const criteria = [
      { field: 'MetaData.LastUpdatedTime', value: since.toISOString(), operator: '>=' },
      { field: 'asc', value: 'MetaData.LastUpdatedTime' },
      { field: 'offset', value: start },
      { field: 'limit', value: PAGE },
    ];
    const page = await company.find(entity, Record_, (sdk, cb) =>
      entity === 'Invoice' ? sdk.findInvoices(criteria, cb) : sdk.findPayments(criteria, cb),
    );
    all.push(...page);
    if (page.length < PAGE) return all;
  }
}

function summarise(
  invoices: Row[],
  payments: Row[],
  via: CompanyChanges['via'],
  homeCurrency: string,
): CompanyChanges {
  const deleted = (r: Row) => r.status === 'Deleted';
  return {
    invoiceIds: [...new Set(invoices.map((i) => i.Id))],
    payments: payments.filter((p) => !deleted(p)).map((p) => paymentState(p, homeCurrency)),
    deletedPaymentIds: payments.filter(deleted).map((p) => p.Id),
    via,
  };
}
