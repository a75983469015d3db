import type { ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { JOBS } from '../../src/jobs/index.ts';
import { sweepPushes } from '../../src/jobs/sweep.ts';
import { type Billing, startBilling } from '../support/billing.ts';
import { eventually, freePort } from '../support/net.ts';
import { exited, isRunning, killStarted, spawnNode, spawnTracked } from '../support/processes.ts';

type Tenant = Awaited<ReturnType<Billing['connectedTenant']>>;
const root = join(import.meta.dirname, '../..');

/** Each accepted portion has exactly one invoice, and every invoice belongs to one portion. */
function expectOneInvoicePerPush(b: Billing, tenant: Tenant, rows: Awaited<ReturnType<Tenant['pushesOf']>>) {
  const invoices = b.qbo.invoices(tenant.realmId) as { Id: string; DocNumber: string }[];
  const failed = rows
    .filter((r) => r.push.status !== 'created')
    .map((r) => `${r.push.status}: ${r.push.errorMessage}`);
  expect(failed).toEqual([]);
  expect(invoices.map((i) => i.DocNumber).sort()).toEqual(rows.map((r) => r.push.docNumber).sort());
  expect(new Set(invoices.map((i) => i.DocNumber)).size).toBe(invoices.length);
  for (const r of rows)
    expect(invoices.find((i) => i.DocNumber === r.push.docNumber)?.Id).toBe(r.push.qboInvoiceId);
}

/** A failure names the seed the sandbox drew its faults from: FAULT_SEED=<n> npm test replays them. */
function nameSeedOnFailure(seed: () => number | undefined) {
  afterEach(({ task }) => {
    if (task.result?.state !== 'fail') return;
    for (const error of task.result.errors ?? [])
      error.message += ` [fault injection seed: FAULT_SEED=${seed()} npm test replays its draws]`;
  });
}

async function acceptAll(tenant: Tenant, dealIds: string[], prefix: string) {
  for (const dealId of dealIds) {
    const created = await tenant.post(`/deals/${dealId}/schedule/template`, {
      template: 'consulting',
      startDate: '2026-12-01',
    });
    expect(created.status).toBe(201);
  }
  const keys = ['assessment', 'analysis', 'recommendations', 'roadmap'];
  const answers = await Promise.all(
    dealIds.flatMap((dealId) =>
      keys.map((key) => tenant.accept({ id: `${prefix}-${dealId}-${key}`, dealId, milestone: { key } })),
    ),
  );
  expect(answers.map((a) => a.status).every((s) => s === 200)).toBe(true);
  return answers.length;
}

describe('faults on the way to QuickBooks', () => {
  let b: Billing;
  beforeAll(async () => {
    b = await startBilling();
  });
  afterAll(() => b?.close());
  nameSeedOnFailure(() => b?.qbo.faultSeed);

  it('ends with one invoice per accepted portion when QuickBooks answers 429, 500 and times out for 30 % of calls', async () => {
    const tenant = await b.connectedTenant();
    const deals = b.hs
      .listDeals(tenant.portal)
      .slice(0, 4)
      .map((d) => d.id);
    b.qbo.setFaults({ errorRate: 0.3, timeoutAfterCreateRate: 0.3 });
    const count = await acceptAll(tenant, deals, 'acc-chaos');
    const rows = await tenant.settled(count, { timeoutMs: 60_000 }).finally(() => b.qbo.clearFaults());
    expectOneInvoicePerPush(b, tenant, rows);
    const stats = b.qbo.stats(tenant.realmId);
    expect(stats.byStatus['429'] ?? 0).toBeGreaterThan(0);
    expect((stats.byStatus['500'] ?? 0) + (stats.byStatus['503'] ?? 0)).toBeGreaterThan(0);
    expect(stats.byStatus['0'] ?? 0).toBeGreaterThan(0);
  }, 90_000);

  it('survives the access token expiring mid-run', async () => {
    const tenant = await b.connectedTenant();
    const deals = b.hs
      .listDeals(tenant.portal)
      .slice(0, 2)
      .map((d) => d.id);
    const refreshesBefore = b.qbo.tokenRequests.refresh_token ?? 0;
    const count = await acceptAll(tenant, deals, 'acc-expiry');
    await eventually(tenant.pushesOf, (rows) => rows.some((r) => r.push.status === 'created'));
    b.qbo.expireAccessTokens(tenant.realmId);
    const rows = await tenant.settled(count);
    expectOneInvoicePerPush(b, tenant, rows);
    expect(b.qbo.tokenRequests.refresh_token ?? 0).toBeGreaterThan(refreshesBefore);
  }, 60_000);

  it('resolves a DisplayName taken by a vendor (6240) without a duplicate customer', async () => {
    const tenant = await b.connectedTenant();
    const { companies } = b.hs.seed(tenant.portal, {
      companies: [{ properties: { name: 'Acme Supplies', domain: 'acme-supplies.example' } }],
    });
    const { deals } = b.hs.seed(tenant.portal, {
      deals: ['Racking', 'Forklifts'].map((what) => ({
        properties: {
          dealname: `Acme Supplies – ${what}`,
          amount: '5000',
          deal_currency_code: 'USD',
          dealstage: 'contractsent',
          pipeline: 'default',
        },
      })),
    });
    b.hs.seed(tenant.portal, {
      associations: deals.map((id) => ({
        fromType: 'deals',
        fromId: id,
        toType: 'companies',
        toId: companies[0]!,
        primary: true,
      })),
    });
    const count = await acceptAll(tenant, deals, 'acc-vendor');
    const rows = await tenant.settled(count);
    expectOneInvoicePerPush(b, tenant, rows);
    const named = b.qbo.customers(tenant.realmId).filter((c) => c.DisplayName.startsWith('Acme Supplies'));
    expect(named.map((c) => c.DisplayName)).toEqual(['Acme Supplies (customer)']);
    expect(new Set(rows.map((r) => r.push.qboCustomerId))).toEqual(new Set([named[0]!.Id]));
  }, 60_000);
});

describe('a worker killed after QuickBooks created the invoice', () => {
  let b: Billing;
  beforeAll(async () => {
    b = await startBilling({ server: true, worker: false });
  });
  afterAll(async () => {
    await killStarted();
    await b?.close();
  });
  nameSeedOnFailure(() => b?.qbo.faultSeed);

  async function worker(): Promise<ChildProcess> {
    const c = b.t.ctx.config;
    // The app's own worker process, as the Procfile runs it.
    const child = spawnNode(join(root, 'src/worker.ts'), [], {
      env: {
        PATH: process.env.PATH!,
        LOG_LEVEL: 'info',
        DATABASE_URL: b.t.database.url!,
        REDIS_URL: c.redisUrl,
        ENCRYPTION_KEY: b.t.encryptionKey.toString('base64'),
        REDIS_PREFIX: c.redisPrefix,
        JOB_LOCK_MS: '3000',
        JOB_BACKOFF_MS: '100',
        QBO_REQUEST_TIMEOUT_MS: '30000',
        HUBSPOT_CLIENT_ID: c.hubspot.clientId!,
        HUBSPOT_CLIENT_SECRET: c.hubspot.clientSecret!,
        HUBSPOT_API_BASE_URL: c.hubspot.apiBaseUrl,
        QBO_CLIENT_ID: c.quickbooks.clientId!,
        QBO_CLIENT_SECRET: c.quickbooks.clientSecret!,
        QBO_API_BASE_URL: c.quickbooks.apiBaseUrl,
        QBO_TOKEN_URL: c.quickbooks.tokenUrl,
        QBO_REVOKE_URL: c.quickbooks.revokeUrl,
      },
    });
    let err = '';
    child.stderr!.on('data', (d) => (err += d));
    const pid = await new Promise<number>((resolve, reject) => {
      let out = '';
      child.stdout!.on('data', (d) => {
        out += d;
        const started = /^\{.*"pid":(\d+).*"msg":"worker started"\}$/m.exec(out);
        if (started) resolve(Number(started[1]));
      });
      child.on('exit', (code) => reject(new Error(`worker exited with ${code}:\n${err}`)));
    });
    // The process we hold is the worker itself, not a wrapper: a kill reaches the worker.
    expect(pid).toBe(child.pid);
    return child;
  }

  it('is restarted and adopts the invoice instead of creating a second one', async () => {
    const tenant = await b.connectedTenant();
    const deal = tenant.dealNamed("O'Brien & Sons");
    expect(
      (
        await tenant.post(`/deals/${deal.id}/schedule/template`, {
          template: 'software',
          startDate: '2026-12-01',
        })
      ).status,
    ).toBe(201);
    const first = await worker();
    // A first invoice brings the customer and the item into being.
    const warm = await tenant.accept({ id: 'acc-warm', dealId: deal.id, milestone: { key: 'discovery' } });
    expect(warm.status).toBe(200);
    expectOneInvoicePerPush(b, tenant, await tenant.settled(1));
    // Then QuickBooks creates the next invoice but its answer never arrives.
    b.qbo.setFaults({ timeoutAfterCreateRate: 1 });
    const kill = await tenant.accept({ id: 'acc-kill', dealId: deal.id, milestone: { key: 'design' } });
    expect(kill.status).toBe(200);
    await eventually(
      async () => b.qbo.invoices(tenant.realmId).length,
      (n) => n === 2,
      20_000,
    );
    first.kill('SIGKILL');
    await exited(first);
    expect(first.signalCode).toBe('SIGKILL');
    expect(isRunning(first.pid!)).toBe(false);
    b.qbo.clearFaults();
    const stuck = (await tenant.pushesOf()).find((r) => r.milestone.key === 'design');
    expect(stuck!.push.status).toBe('sending');

    await worker();
    const rows = await tenant.settled(2, { timeoutMs: 30_000 });
    expectOneInvoicePerPush(b, tenant, rows);
    expect(b.qbo.invoices(tenant.realmId)).toHaveLength(2);
  }, 60_000);
});

describe('Redis restarted while pushes are queued', () => {
  let b: Billing;
  let redis: ChildProcess;
  let port: number;

  const startRedis = () =>
    new Promise<ChildProcess>((resolve, reject) => {
      const child = spawnTracked('redis-server', [
        '--port',
        String(port),
        '--bind',
        '127.0.0.1',
        '--save',
        '',
        '--appendonly',
        'no',
      ]);
      child.stdout!.on('data', (d) => String(d).includes('Ready to accept connections') && resolve(child));
      child.on('error', reject);
      child.on('exit', (code) => reject(new Error(`redis-server exited with ${code}`)));
    });

  beforeAll(async () => {
    port = await freePort();
    redis = await startRedis();
    b = await startBilling({ env: { REDIS_URL: `redis://127.0.0.1:${port}` }, worker: false });
  });
  afterAll(async () => {
    await b?.close();
    await killStarted();
  });
  nameSeedOnFailure(() => b?.qbo.faultSeed);

  it('loses no acceptance: the ledger is swept back into the queue', async () => {
    const tenant = await b.connectedTenant();
    const deals = b.hs
      .listDeals(tenant.portal)
      .slice(0, 2)
      .map((d) => d.id);
    const deal = b.hs.listDeals(tenant.portal)[2]!.id;
    await tenant.post(`/deals/${deal}/schedule/template`, { template: 'software', startDate: '2026-12-01' });
    const queued = await acceptAll(tenant, deals, 'acc-redis');
    // Redis goes away with every queued job (no persistence), and comes back empty.
    redis.kill('SIGKILL');
    await exited(redis);
    await eventually(
      async () => b.t.redis.status,
      (status) => status !== 'ready',
    );
    // An acceptance while Redis is down is still recorded and answered.
    const during = await tenant.accept({
      id: 'acc-redis-down',
      dealId: deal,
      milestone: { key: 'discovery' },
    });
    expect(during.status).toBe(200);
    redis = await startRedis();

    b.t.ctx.queues.process(JOBS, b.t.ctx);
    await eventually(
      () => b.t.redis.ping().catch(() => 'down'),
      (p) => p === 'PONG',
    );
    // The worker's sweeper runs every 30 s; here it runs until bull's connections are back.
    const swept = await eventually(
      () => sweepPushes(b.t.ctx, 0).catch(() => -1),
      (n) => n >= 0,
    );
    expect(swept).toBe(queued + 1);
    const rows = await tenant.settled(queued + 1);
    expectOneInvoicePerPush(b, tenant, rows);
  }, 60_000);
});
