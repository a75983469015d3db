/**
 * `npm run bench:payments`: a burst of payments recorded in QuickBooks, delivered by its webhooks
 * (CloudEvents, ≤ 100 events a POST, as Intuit sends them), until every milestone shows its money
 * and every deal's roll-up in HubSpot is written. Prints figures; asserts nothing.
 *
 * The real app in this process (web routes on a real socket, worker jobs, Postgres, Redis) and
 * both sandboxes over real HTTP, with production timings; the QuickBooks sandbox answers each API
 * call after 50 ms. To measure payments rather than invoice creation, the invoices are entered in
 * the QuickBooks sandbox directly and the ledger rows recorded as the push would have.
 *
 * Env: BENCH_PAYMENTS (1000), BENCH_DEALS (100), BENCH_QBO_LATENCY_MS (50), BENCH_TIMEOUT_S (600).
 */

import { performance } from 'node:perf_hooks';
import { and, eq, inArray } from 'drizzle-orm';
import { newId } from '../../src/ids.ts';
import { invoicePushes, milestones } from '../../src/store/schema.ts';
import { startBilling } from '../support/billing.ts';
import { startEmbeddedPostgres } from '../support/embedded-postgres.ts';
import { eventually } from '../support/net.ts';
import { QBO_VERIFIER } from '../support/sandbox-env.ts';

const env = process.env;
const count = (name: string, fallback: number) => Math.max(1, Number(env[name] ?? fallback) | 0);
const PAYMENTS = count('BENCH_PAYMENTS', 1000);
const DEALS = Math.min(PAYMENTS, count('BENCH_DEALS', 100));
const QBO_LATENCY_MS = count('BENCH_QBO_LATENCY_MS', 50);
const TIMEOUT_MS = count('BENCH_TIMEOUT_S', 600) * 1000;
const PER_DEAL = Math.ceil(PAYMENTS / DEALS);
const AMOUNT = 100; // USD per milestone invoice

const postgres = env.DATABASE_URL ? undefined : await startEmbeddedPostgres();
if (postgres) env.MB_TEST_POSTGRES_URL = postgres.url;
const b = await startBilling({
  listen: true,
  env: {
    QBO_REQUEST_TIMEOUT_MS: '30000',
    QBO_THROTTLE_PAUSE_MS: '60000',
    JOB_BACKOFF_MS: '1000',
    JOB_LOCK_MS: '30000',
  },
});
const log = (line = '') => console.log(line);

try {
  const tenant = await b.connectedTenant();
  const { db } = b.t.database;
  const seeded = b.hs.seed(tenant.portal, {
    deals: Array.from({ length: DEALS }, (_, i) => ({
      properties: { dealname: `Bench deal ${i + 1}`, amount: String(PER_DEAL * AMOUNT), pipeline: 'default' },
    })),
  });
  const customer =
    b.qbo.customers(tenant.realmId)[0] ?? b.qbo.addCustomer(tenant.realmId, { DisplayName: 'Bench client' });

  // Schedules through the API; their milestones invoiced as the push would have left them.
  const pushIds: string[] = [];
  let made = 0;
  for (const dealId of seeded.deals) {
    const rows = Array.from({ length: PER_DEAL }, (_, i) => ({
      name: `Milestone ${i + 1}`,
      deliverable: 'Deliverable',
      acceptanceCriteria: 'Signed off',
      amount: AMOUNT.toFixed(2),
      plannedDate: '2027-01-15',
    }));
    const put = await tenant.put(`/deals/${dealId}/schedule`, {
      contractValue: { amount: (AMOUNT * PER_DEAL).toFixed(2), currency: 'USD' },
      milestones: rows,
    });
    if (put.status !== 200)
      throw new Error(`schedule for deal ${dealId}: ${put.status} ${JSON.stringify(put.body)}`);
    const ids = (put.body.milestones as { id: string }[]).slice(0, PAYMENTS - made).map((m) => m.id);
    const invoices = b.qbo.enterInvoices(tenant.realmId, customer.Id, ids.length, AMOUNT);
    await db.update(milestones).set({ status: 'invoiced' }).where(inArray(milestones.id, ids));
    const values = ids.map((milestoneId, i) => ({
      id: newId('push'),
      tenantId: tenant.tenant.id,
      milestoneId,
      acceptanceId: newId('acc'),
      docNumber: `B-${made + i + 1}`,
      status: 'created' as const,
      amount: AMOUNT * 100,
      currency: 'USD',
      qboInvoiceId: invoices[i]!.Id,
      qboCustomerId: customer.Id,
      writtenBackAt: new Date(),
    }));
    await db.insert(invoicePushes).values(values);
    pushIds.push(...values.map((v) => v.id));
    made += ids.length;
  }
  const invoiceIds = (await db.select().from(invoicePushes).where(inArray(invoicePushes.id, pushIds))).map(
    (p) => p.qboInvoiceId!,
  );

  b.qbo.setFaults({ latencyMs: QBO_LATENCY_MS });
  b.qbo.configureWebhooks({
    url: `${b.t.ctx.config.publicUrl}/webhooks/quickbooks`,
    verifierToken: QBO_VERIFIER,
    format: 'cloudevents',
    batchMs: 50,
  });
  const hsBefore = b.hs.requests.length;
  const qboBefore = b.qbo.requests.length;

  // The burst: every invoice paid in full, as fast as the bookkeeper's tool can record them.
  const start = performance.now();
  for (const id of invoiceIds) b.qbo.recordPayment(tenant.realmId, id, AMOUNT);
  const recordedMs = performance.now() - start;

  await eventually(
    () =>
      db
        .select({ id: milestones.id })
        .from(milestones)
        .innerJoin(invoicePushes, eq(invoicePushes.milestoneId, milestones.id))
        .where(and(inArray(invoicePushes.id, pushIds), eq(milestones.status, 'paid'))),
    (rows) => rows.length === pushIds.length,
    TIMEOUT_MS,
  );
  const settledMs = performance.now() - start;
  const paidOf = (dealId: string) => b.hs.getDeal(tenant.portal, dealId)?.properties.mb_paid_to_date;
  const expected = (n: number) => (n * AMOUNT).toFixed(2);
  const perDeal = seeded.deals.map((_, i) => Math.min(PER_DEAL, PAYMENTS - i * PER_DEAL));
  await eventually(
    async () => seeded.deals.filter((d, i) => paidOf(d) === expected(perDeal[i]!)).length,
    (done) => done === seeded.deals.length,
    TIMEOUT_MS,
  );
  const rolledUpMs = performance.now() - start;
  // Each payment's note on its deal, sent with the roll-ups.
  await eventually(
    async () => seeded.deals.reduce((n, d) => n + b.hs.notesFor(tenant.portal, d).length, 0),
    (n) => n >= PAYMENTS,
    TIMEOUT_MS,
  );
  const notedMs = performance.now() - start;

  const hs = b.hs.requests.slice(hsBefore).filter((r) => r.portalId === tenant.portal);
  const qbo = b.qbo.requests.slice(qboBefore).filter((r) => r.realmId === tenant.realmId);
  const deliveries = b.qbo.webhookDeliveries.filter((d) => d.status === 200).length;
  const rows: [string, string][] = [
    ['payments recorded in QuickBooks', `${PAYMENTS} on ${DEALS} deals (in ${recordedMs.toFixed(0)} ms)`],
    ['webhook deliveries answered 200', String(deliveries)],
    ['last milestone paid after', `${(settledMs / 1000).toFixed(2)} s`],
    ['last deal roll-up in HubSpot after', `${(rolledUpMs / 1000).toFixed(2)} s`],
    ['last payment note in HubSpot after', `${(notedMs / 1000).toFixed(2)} s`],
    ['HubSpot calls', `${hs.length} (${(hs.length / PAYMENTS).toFixed(3)} per payment; target ≤ 1)`],
    ['  of them batch updates', String(hs.filter((r) => r.path.endsWith('/batch/update')).length)],
    ['  of them note batches', String(hs.filter((r) => r.path.endsWith('/notes/batch/create')).length)],
    ['QuickBooks calls (all reads)', `${qbo.length} (${(qbo.length / PAYMENTS).toFixed(3)} per payment)`],
    ['milestones correct', `${pushIds.length} of ${PAYMENTS} paid, ${DEALS} deals at the paid total`],
  ];
  log(`payments benchmark: ${b.t.database.kind}, QuickBooks sandbox latency ${QBO_LATENCY_MS} ms`);
  const width = Math.max(...rows.map(([k]) => k.length));
  for (const [k, v] of rows) log(`  ${k.padEnd(width)}  ${v}`);
} finally {
  await b.close();
  await postgres?.stop();
}
