import { afterAll, describe, it } from 'vitest';
import type { Hold } from '../sandboxes/holds.ts';
import type { Billing } from '../support/billing.ts';
import { eventually } from '../support/net.ts';
import { killStarted } from '../support/processes.ts';
import { nameSeedOnFailure, record, tally } from './matrix.ts';
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

/**
 * A worker takes the portions, a sandbox holds the request of the step under test, the worker is
 * SIGKILLed there (and checked gone), the held request is let go to a client no longer there, and
 * a new worker finishes the work.
 */
async function killedAt(
  b: Billing,
  hold: Hold,
  work: () => Promise<void>,
): Promise<{ finish: () => Promise<void> }> {
  const first = await startWorkerProcess(b);
  await work();
  await hold.reached;
  await killWorker(first);
  hold.release();
  const second = await startWorkerProcess(b);
  return { finish: () => killWorker(second) };
}

async function portions(b: Billing, tenant: Tenant, prefix: string, extra: Record<string, unknown> = {}) {
  const deals = await scheduledDeals(b, tenant, 1);
  return acceptEvery(tenant, deals, prefix, extra);
}

describe.concurrent('fault matrix: a worker process SIGKILLed at each step', () => {
  it(
    'before its create reaches QuickBooks',
    row(async (b) => {
      const tenant = await b.connectedTenant();
      let count = 0;
      const hold = b.qbo.hold({ endpoint: 'POST /invoice', realmId: tenant.realmId }, 'request');
      const run = await killedAt(b, hold, async () => {
        count = await portions(b, tenant, 'kill-before');
      });
      await allCreated(tenant, count, { writtenBack: true });
      await run.finish();
      record(
        import.meta.filename,
        await tally(b, tenant, 'worker SIGKILLed before the call to QuickBooks', {
          expected: count,
          notes: true,
        }),
      );
    }),
    90_000,
  );

  it(
    'after QuickBooks created the invoice, before the answer arrived',
    row(async (b) => {
      const tenant = await b.connectedTenant();
      let count = 0;
      const hold = b.qbo.hold({ endpoint: 'POST /invoice', realmId: tenant.realmId }, 'response');
      const run = await killedAt(b, hold, async () => {
        count = await portions(b, tenant, 'kill-created');
      });
      await allCreated(tenant, count, { writtenBack: true });
      await run.finish();
      record(
        import.meta.filename,
        await tally(b, tenant, 'worker SIGKILLed after QuickBooks created the invoice', {
          expected: count,
          notes: true,
        }),
      );
    }),
    90_000,
  );

  it(
    'after the ledger recorded the invoice, before its delivery and write-back',
    row(async (b) => {
      const tenant = await b.connectedTenant();
      let count = 0;
      // Acceptance evidence is attached to the invoice right after the ledger records it.
      const hold = b.qbo.hold({ endpoint: 'POST /attachable', realmId: tenant.realmId }, 'request');
      const evidence = [{ name: 'Signed acceptance', url: 'https://sign.example/acceptance.pdf' }];
      const run = await killedAt(b, hold, async () => {
        count = await portions(b, tenant, 'kill-ledger', { evidence });
      });
      await allCreated(tenant, count, { writtenBack: true });
      await run.finish();
      record(
        import.meta.filename,
        await tally(b, tenant, 'worker SIGKILLed after the ledger, before delivery and write-back', {
          expected: count,
          notes: true,
        }),
      );
    }),
    90_000,
  );

  it(
    'during the HubSpot write-back, after HubSpot made the notes',
    row(async (b) => {
      const tenant = await b.connectedTenant();
      let count = 0;
      const hold = b.hs.hold({ method: 'POST', path: '/crm/objects/2026-03/notes/batch/create' }, 'response');
      const run = await killedAt(b, hold, async () => {
        count = await portions(b, tenant, 'kill-write-back');
      });
      await allCreated(tenant, count, { writtenBack: true });
      await run.finish();
      record(
        import.meta.filename,
        await tally(b, tenant, 'worker SIGKILLed during the HubSpot write-back', {
          expected: count,
          notes: true,
        }),
      );
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

  it(
    'after QuickBooks created an invoice it numbered itself',
    row(async (b) => {
      const tenant = await b.connectedTenant({ customTxnNumbers: false });
      let count = 0;
      const hold = b.qbo.hold({ endpoint: 'POST /invoice', realmId: tenant.realmId }, 'response');
      const run = await killedAt(b, hold, async () => {
        count = await portions(b, tenant, 'kill-numbered');
      });
      await allCreated(tenant, count, { writtenBack: true });
      await run.finish();
      record(
        import.meta.filename,
        await tally(
          b,
          tenant,
          'worker SIGKILLed after the create, QuickBooks numbering (customTxnNumbers off)',
          { expected: count, notes: true },
        ),
      );
    }),
    90_000,
  );
});
