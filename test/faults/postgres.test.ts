import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { eventually } from '../support/net.ts';
import { QBO_VERIFIER } from '../support/sandbox-env.ts';
import { matrix } from './support/matrix.ts';
import { startRestartablePostgres } from './support/postgres.ts';
import { acceptanceId, type FaultTenant, type Portion, type Stack, startStack } from './support/stack.ts';
import { payInvoices, paymentsReflected, settled, tally } from './support/tally.ts';

// (c) PostgreSQL restarted (crashed: immediate shutdown) while invoices are pushed and while
// payments are applied. A private server: the suite's is shared with other test files.
const m = matrix('postgres');
let pg: Awaited<ReturnType<typeof startRestartablePostgres>>;
let s: Stack;
beforeAll(async () => {
  pg = await startRestartablePostgres();
  // The app of this file (web and worker, in this process) gets its database on that server.
  vi.stubEnv('DATABASE_URL', pg.url);
  s = await startStack({ listen: true });
  s.qbo.configureWebhooks({
    url: `${s.t.ctx.config.publicUrl}/webhooks/quickbooks`,
    verifierToken: QBO_VERIFIER,
    format: 'cloudevents',
    batchMs: 20,
    // Intuit retries a delivery the app did not take (10 s, 20 s, 30 s, 5 min…; scaled down).
    retryDelaysMs: [300, 600, 1200, 2400, 4800],
  });
}, 120_000);
afterAll(async () => {
  await s?.close().catch(() => {});
  vi.unstubAllEnvs();
  await pg?.stop();
});

/** The sender of an acceptance webhook retries (signing afresh) until the app takes it. */
async function deliver(tenant: FaultTenant, p: Portion) {
  const body = { id: acceptanceId(p), dealId: p.dealId, milestone: { id: p.milestoneId } };
  for (let attempt = 1; ; attempt++) {
    const res = await tenant.postAcceptance(tenant.signed(body)).catch(() => undefined);
    if (res && res.status >= 200 && res.status < 300) return attempt;
    if (attempt > 60) throw new Error(`acceptance ${p.key} not taken: ${res?.status} ${res?.text}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

describe('(c) PostgreSQL restarted', () => {
  it('mid-push and mid-payments: every acceptance is kept, every invoice made once, every payment applied', async () => {
    const started = Date.now();
    const tenant = await s.tenant();
    const portions = await tenant.portions(10);
    s.qbo.setFaults({ latencyMs: [100, 400] });
    const [first, rest] = [portions.slice(0, 5), portions.slice(5)];
    for (const p of first) await deliver(tenant, p);
    // Pushes are on their way to QuickBooks when the server goes down.
    await eventually(tenant.pushes, (rows) => rows.some((r) => r.push.status === 'sending'));
    const down = pg.restart(1500);
    // Acceptances keep coming while it is down: each is retried by its sender until taken.
    const retried = rest.map((p) => deliver(tenant, p));
    await down;
    const attempts = await Promise.all(retried);
    expect(attempts.length).toBe(5);
    await settled(tenant, portions.length, { timeoutMs: 90_000 });

    payInvoices(s, tenant, portions);
    // The payments' webhooks are arriving, and being applied, when it goes down again.
    await new Promise((r) => setTimeout(r, 150));
    await pg.restart(1500);
    await paymentsReflected(s, tenant, 90_000);
    s.qbo.clearFaults();
    const t = await tally(s, tenant, portions, { notes: true });
    m.row('c1', 'PostgreSQL crashed and restarted twice (mid-push, mid-payments)', 2, t, started);
  }, 180_000);
});
