import { afterAll, describe, expect, it } from 'vitest';
import type { Hold } from '../sandboxes/holds.ts';
import type { Billing } from '../support/billing.ts';
import { eventually } from '../support/net.ts';
import { killStarted } from '../support/processes.ts';
import { nameSeedOnFailure, record, recordInvoiced, tally } from './matrix.ts';
import { inOwnBilling, runSeed } from './own-billing.ts';
import { acceptEvery, allCreated, scheduledDeals } from './portions.ts';
import { killWorker, startWorkerProcess } from './worker-process.ts';

type Tenant = Awaited<ReturnType<Billing['connectedTenant']>>;

// The web side runs in the test; the jobs run in real worker processes, one killed per row.
afterAll(() => killStarted());
nameSeedOnFailure(runSeed);

const row =
  (run: Parameters<typeof inOwnBilling>[1], listen = false) =>
  () =>
    inOwnBilling({ server: true, worker: false, listen }, run);

async function portions(b: Billing, tenant: Tenant, prefix: string, extra: Record<string, unknown> = {}) {
  const deals = await scheduledDeals(b, tenant, 1);
  return acceptEvery(tenant, deals, prefix, extra);
}

const evidence = [{ name: 'Signed acceptance', url: 'https://sign.example/acceptance.pdf' }];

/**
 * Each invoice carries its acceptance evidence exactly once: the worker that resumes the push
 * attaches what the killed one never sent, and finds what QuickBooks attached for it unanswered.
 */
async function evidenceOncePerInvoice(b: Billing, tenant: Tenant) {
  const rows = await eventually(
    () => tenant.pushesOf(),
    (rs) => rs.every((r) => r.push.deliveredAt),
    30_000,
  );
  const notes = b.qbo
    .attachables(tenant.realmId)
    .filter((a) => String(a.Note ?? '').includes('Signed acceptance: https://sign.example/acceptance.pdf'));
  const perInvoice = rows.map(
    (r) =>
      notes.filter((n) =>
        (n.AttachableRef as { EntityRef: { value: string } }[]).some(
          (ref) => ref.EntityRef.value === r.push.qboInvoiceId,
        ),
      ).length,
  );
  expect(perInvoice).toEqual(rows.map(() => 1));
}

/** The steps of a push, each by the request a sandbox holds while the worker is killed there. */
const PUSH_STEPS: Array<{
  step: string;
  fault: string;
  hold: (b: Billing, tenant: Tenant) => Hold;
  tenant?: Parameters<Billing['connectedTenant']>[0];
  acceptance?: Record<string, unknown>;
  /** What else must hold once the work is finished. */
  afterwards?: (b: Billing, tenant: Tenant) => Promise<void>;
}> = [
  {
    step: 'before its create reaches QuickBooks',
    fault: 'worker SIGKILLed before the call to QuickBooks',
    hold: (b, t) => b.qbo.hold({ endpoint: 'POST /invoice', realmId: t.realmId }, 'request'),
  },
  {
    step: 'after QuickBooks created the invoice, before the answer arrived',
    fault: 'worker SIGKILLed after QuickBooks created the invoice',
    hold: (b, t) => b.qbo.hold({ endpoint: 'POST /invoice', realmId: t.realmId }, 'response'),
  },
  {
    step: 'after QuickBooks created an invoice it numbered itself',
    fault: 'worker SIGKILLed after the create, QuickBooks numbering (customTxnNumbers off)',
    hold: (b, t) => b.qbo.hold({ endpoint: 'POST /invoice', realmId: t.realmId }, 'response'),
    tenant: { customTxnNumbers: false },
  },
  {
    // Acceptance evidence is attached to the invoice right after the ledger records it.
    step: 'after the ledger recorded the invoice, before its delivery and write-back',
    fault: 'worker SIGKILLed after the ledger, before delivery and write-back',
    hold: (b, t) => b.qbo.hold({ endpoint: 'POST /attachable', realmId: t.realmId }, 'request'),
    acceptance: { evidence },
    afterwards: evidenceOncePerInvoice,
  },
  {
    step: 'after QuickBooks attached the acceptance evidence, before the answer arrived',
    fault: 'worker SIGKILLed while delivering the invoice, after QuickBooks attached the evidence',
    hold: (b, t) => b.qbo.hold({ endpoint: 'POST /attachable', realmId: t.realmId }, 'response'),
    acceptance: { evidence },
    afterwards: evidenceOncePerInvoice,
  },
  {
    step: 'during the HubSpot write-back, after HubSpot made the notes',
    fault: 'worker SIGKILLed during the HubSpot write-back',
    hold: (b) => b.hs.hold({ method: 'POST', path: '/crm/objects/2026-03/notes/batch/create' }, 'response'),
  },
];

describe.concurrent('fault matrix: a worker process SIGKILLed at each step', () => {
  for (const [
    i,
    { step, fault, hold: holdOf, tenant: options, acceptance, afterwards },
  ] of PUSH_STEPS.entries())
    it(
      step,
      row(async (b) => {
        // A worker takes the portions, a sandbox holds the step's request, the worker is SIGKILLed
        // there (and checked gone), the held request goes to a client no longer there, and a new
        // worker finishes the work.
        const tenant = await b.connectedTenant(options);
        const hold = holdOf(b, tenant);
        const first = await startWorkerProcess(b);
        const count = await portions(b, tenant, `kill-step-${i}`, acceptance);
        await hold.reached;
        await killWorker(first);
        hold.release();
        const second = await startWorkerProcess(b);
        await allCreated(tenant, count, { writtenBack: true });
        await afterwards?.(b, tenant);
        await killWorker(second);
        await recordInvoiced(import.meta.filename, b, tenant, fault, count);
      }),
      90_000,
    );

  it(
    'while it applies QuickBooks payments',
    row(async (b) => {
      b.quickbooksWebhooks('cloudevents');
      const tenant = await b.connectedTenant();
      const first = await startWorkerProcess(b);
      const count = await portions(b, tenant, 'kill-payments');
      const rows = await allCreated(tenant, count, { writtenBack: true });
      const hold = b.qbo.hold(
        { endpoint: 'GET /query', realmId: tenant.realmId, query: /from payment/i },
        'request',
      );
      b.qbo.recordPayment(tenant.realmId, rows[0]!.push.qboInvoiceId!, rows[0]!.push.amount / 100);
      b.qbo.recordPayment(tenant.realmId, rows[1]!.push.qboInvoiceId!, 100);
      await hold.reached;
      await killWorker(first);
      hold.release();
      const second = await startWorkerProcess(b);
      const paid = await eventually(
        () =>
          tally(b, tenant, 'worker SIGKILLed during payment processing', { expected: count, payments: true }),
        (r) => r.payments!.of === 2 && r.payments!.reflected === 2,
        30_000,
      );
      await killWorker(second);
      record(import.meta.filename, paid);
    }, true),
    90_000,
  );
});
