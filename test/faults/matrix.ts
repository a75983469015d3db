import { appendFileSync, mkdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import { afterEach, expect } from 'vitest';
import { pushMarker } from '../../src/quickbooks/invoice-mapping.ts';
import type { Billing } from '../support/billing.ts';
import { RESULTS_DIR } from './results.ts';

type Tenant = Awaited<ReturnType<Billing['connectedTenant']>>;

/** One line of the fault matrix: N accepted portions in, what came out in QuickBooks (and HubSpot). */
export interface MatrixRow {
  fault: string;
  trials: number;
  expected: number;
  /** Distinct invoices in the tenant's QuickBooks company. */
  created: number;
  /** Invoices beyond one per DocNumber and per ledger row. */
  duplicates: number;
  /** Accepted portions without an invoice. */
  lost: number;
  /** Invoices whose milestone shows what QuickBooks received, of those paid; absent where no payment is in play. */
  payments?: { reflected: number; of: number };
  /** Invoices with exactly one note on their HubSpot deal, of all; absent where no write-back is in play. */
  notes?: { once: number; of: number };
}

/**
 * Counts what the tenant's accepted portions became: its ledger rows against the invoices in its
 * QuickBooks company, each tied to its row by the push marker QuickBooks keeps in PrivateNote.
 */
export async function tally(
  b: Billing,
  tenant: Tenant,
  fault: string,
  opts: { expected: number; payments?: boolean; notes?: boolean },
): Promise<MatrixRow> {
  const rows = await tenant.pushesOf();
  const invoices = b.qbo.invoices(tenant.realmId);
  const perRow = rows.map((r) => invoices.filter((i) => i.PrivateNote?.includes(pushMarker(r.push.id))));
  const perDocNumber = new Map<string, number>();
  for (const i of invoices)
    perDocNumber.set(i.DocNumber ?? i.Id, (perDocNumber.get(i.DocNumber ?? i.Id) ?? 0) + 1);
  const beyondDocNumber = [...perDocNumber.values()].reduce((n, count) => n + count - 1, 0);
  const beyondRow = perRow.reduce((n, found) => n + Math.max(0, found.length - 1), 0);
  const strangers = invoices.filter((i) => !perRow.some((found) => found.includes(i))).length;
  const row: MatrixRow = {
    fault,
    trials: rows.length,
    expected: opts.expected,
    created: new Set(invoices.map((i) => i.Id)).size,
    duplicates: Math.max(beyondDocNumber, beyondRow + strangers),
    lost: opts.expected - perRow.filter((found) => found.length > 0).length,
  };
  if (opts.payments) {
    const paid = rows.filter((r) => {
      const invoice = invoices.find((i) => i.Id === r.push.qboInvoiceId);
      return invoice && invoice.Balance < invoice.TotalAmt;
    });
    const reflected = paid.filter((r) => {
      const invoice = invoices.find((i) => i.Id === r.push.qboInvoiceId)!;
      const received = Math.round((invoice.TotalAmt - invoice.Balance) * 100);
      const status = invoice.Balance <= 0 ? 'paid' : 'partially_paid';
      return r.push.paidAmount === received && r.milestone.status === status;
    });
    row.payments = { reflected: reflected.length, of: paid.length };
  }
  if (opts.notes) {
    const once = rows.filter(
      (r) =>
        b.hs
          .notesFor(tenant.portal, r.dealId)
          .filter((n) => n.body?.includes(`Invoice <strong>${r.push.docNumber}</strong> created`)).length ===
        1,
    );
    row.notes = { once: once.length, of: rows.length };
  }
  return row;
}

/**
 * Keeps the row for the run's table (test/faults/results.md, written by the suite's teardown) and
 * asserts exactly once: every portion invoiced, none twice, and every payment and note as it should be.
 */
export function record(file: string, row: MatrixRow): void {
  mkdirSync(RESULTS_DIR, { recursive: true });
  appendFileSync(join(RESULTS_DIR, `${basename(file, '.test.ts')}.json`), `${JSON.stringify(row)}\n`);
  expect({ created: row.created, duplicates: row.duplicates, lost: row.lost }).toEqual({
    created: row.expected,
    duplicates: 0,
    lost: 0,
  });
  if (row.payments) expect(row.payments.reflected).toBe(row.payments.of);
  if (row.notes) expect(row.notes.once).toBe(row.notes.of);
}

/** The common row: `expected` portions invoiced, each with its one HubSpot note, tallied and recorded. */
export async function recordInvoiced(
  file: string,
  b: Billing,
  tenant: Tenant,
  fault: string,
  expected: number,
): Promise<void> {
  record(file, await tally(b, tenant, fault, { expected, notes: true }));
}

/** A failure names the seed the sandbox drew its faults from: FAULT_SEED=<n> npm test replays them. */
export function nameSeedOnFailure(seed: () => number | undefined): void {
  afterEach(({ task }) => {
    if (task.result?.state !== 'fail') return;
    for (const error of task.result.errors ?? [])
      error.message += ` [fault injection seed: FAULT_SEED=${seed()} npm test replays its draws]`;
  });
}
