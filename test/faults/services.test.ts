import { afterAll, describe, expect, it } from 'vitest';
import { sweepPushes } from '../../src/jobs/sweep.ts';
import { type Billing, startBilling } from '../support/billing.ts';
import { startEmbeddedPostgres } from '../support/embedded-postgres.ts';
import { eventually, freePort } from '../support/net.ts';
import { exited, isRunning, killStarted } from '../support/processes.ts';
import { nameSeedOnFailure, recordInvoiced } from './matrix.ts';
import { runSeed } from './own-billing.ts';
import { acceptEvery, allCreated, scheduledDeals } from './portions.ts';
import { startRedisServer } from './redis-server.ts';

type Tenant = Awaited<ReturnType<Billing['connectedTenant']>>;

afterAll(() => killStarted());
nameSeedOnFailure(runSeed);

/** Pushes under way: some invoice exists, and some portion is not invoiced yet. */
const midRun = (tenant: Tenant) =>
  eventually(
    tenant.pushesOf,
    (rows) => rows.some((r) => r.push.status === 'created') && rows.some((r) => r.push.status !== 'created'),
    30_000,
  );

/** An e-signature tool sends its acceptance again until the app takes it (2xx). */
async function acceptUntilTaken(tenant: Tenant, deals: string[], prefix: string): Promise<number> {
  const taken = await eventually(
    () => acceptEvery(tenant, deals, prefix).catch(() => 0),
    (n) => n > 0,
    60_000,
  );
  return taken;
}

describe('fault matrix: PostgreSQL and Redis go away mid-run', () => {
  it('PostgreSQL crashes (SIGKILL of every server process) and restarts', async () => {
    // A server of this test's own, so that the suite's database goes on for the other files.
    const pg = await startEmbeddedPostgres({ durable: true });
    const suiteUrl = process.env.DATABASE_URL;
    process.env.DATABASE_URL = pg.url;
    let b: Billing | undefined;
    try {
      b = await startBilling({ server: true });
    } finally {
      if (suiteUrl === undefined) delete process.env.DATABASE_URL;
      else process.env.DATABASE_URL = suiteUrl;
    }
    try {
      const tenant = await b.connectedTenant();
      const deals = await scheduledDeals(b, tenant, 3);
      const before = await acceptEvery(tenant, deals.slice(0, 2), 'pg-before');
      await midRun(tenant);
      await pg.crash();
      await expect(b.t.database.ping()).rejects.toThrow();
      // Acceptances arrive while the database is down: refused, sent again, taken after the restart.
      const during = acceptUntilTaken(tenant, deals.slice(2), 'pg-during');
      await new Promise((r) => setTimeout(r, 1_000));
      await pg.restart();
      const count = before + (await during);
      await allCreated(tenant, count, { writtenBack: true, timeoutMs: 90_000 });
      await recordInvoiced(
        import.meta.filename,
        b,
        tenant,
        'PostgreSQL crashed and restarted mid-run',
        count,
      );
    } finally {
      await b.close();
      await pg.stop();
    }
  }, 150_000);

  it('Redis is killed mid-run and comes back empty', async () => {
    const port = await freePort();
    let redis = await startRedisServer(port);
    const b = await startBilling({ server: true, env: { REDIS_URL: `redis://127.0.0.1:${port}` } });
    try {
      const tenant = await b.connectedTenant();
      const deals = await scheduledDeals(b, tenant, 3);
      const before = await acceptEvery(tenant, deals.slice(0, 2), 'redis-before');
      await midRun(tenant);
      // Every queued job, lock and pause goes with it (no persistence).
      redis.kill('SIGKILL');
      await exited(redis);
      expect(isRunning(redis.pid!)).toBe(false);
      await eventually(
        async () => b.t.redis.status,
        (status) => status !== 'ready',
      );
      // Acceptances while Redis is down are recorded in the ledger and answered.
      const during = await acceptEvery(tenant, deals.slice(2), 'redis-during');
      redis = await startRedisServer(port);
      await eventually(
        () => b.t.redis.ping().catch(() => 'down'),
        (p) => p === 'PONG',
      );
      // The worker's sweeper does this every 30 s for work a minute old; here at once.
      await eventually(
        () => sweepPushes(b.t.ctx, 0).catch(() => -1),
        (n) => n >= 0,
      );
      const count = before + during;
      await allCreated(tenant, count, { writtenBack: true, timeoutMs: 90_000 });
      await recordInvoiced(import.meta.filename, b, tenant, 'Redis killed mid-run, restarted empty', count);
    } finally {
      await b.close();
      redis.kill('SIGKILL');
      await exited(redis);
    }
  }, 150_000);
});
