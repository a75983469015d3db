import type { ChildProcess } from 'node:child_process';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { redisAnswers } from '../demo/redis.ts';
import { type Billing, startBilling } from '../support/billing.ts';
import { eventually, freePort } from '../support/net.ts';
import { exited, killStarted, spawnTracked } from '../support/processes.ts';

/**
 * Two deployments on one Redis, each logged in as a Redis user that may touch only keys (and
 * channels) under its own prefix: Redis itself refuses, and logs, any command that reaches for a
 * key of the other. Both run the whole flow, from acceptance to write-back.
 */
let server: ChildProcess;
let admin: Redis;
let port: number;
const deployments: Billing[] = [];

beforeAll(async () => {
  port = await freePort();
  server = spawnTracked('redis-server', [
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--save',
    '',
    '--appendonly',
    'no',
  ]);
  await eventually(
    () => redisAnswers(`redis://127.0.0.1:${port}`),
    (up) => up,
  );
  admin = new Redis({ port, host: '127.0.0.1' });
  for (const name of ['east', 'west'])
    await admin.call('ACL', 'SETUSER', name, 'on', `>pw-${name}`, `~${name}:*`, `&${name}:*`, '+@all');
  for (const name of ['east', 'west'])
    deployments.push(
      await startBilling({
        env: { REDIS_URL: `redis://${name}:pw-${name}@127.0.0.1:${port}`, REDIS_PREFIX: name },
      }),
    );
});
afterAll(async () => {
  await Promise.all(deployments.map((d) => d.close()));
  admin?.disconnect();
  server?.kill('SIGTERM');
  if (server) await exited(server);
  await killStarted();
});

describe('deployments sharing a Redis', () => {
  it('each keeps to its own prefix: queues, locks, caches, pauses and rate limits', async () => {
    await admin.call('ACL', 'LOG', 'RESET');
    const invoiced = deployments.map(async (b, i) => {
      const tenant = await b.connectedTenant();
      const deal = tenant.dealNamed('Acme Widgets – Factory Expansion');
      const created = await tenant.post(`/deals/${deal.id}/schedule/template`, {
        template: 'software',
        startDate: '2026-12-01',
      });
      expect(created.status).toBe(201);
      const accepted = await tenant.accept({
        id: `acc-ns-${i}`,
        dealId: deal.id,
        milestone: { key: 'discovery' },
      });
      expect(accepted.status).toBe(200);
      const rows = await tenant.settled(1, { writtenBack: true });
      expect(rows.map((r) => r.push.status)).toEqual(['created']);
    });
    await Promise.all(invoiced);

    // Redis refused nothing: no command of either reached outside its own prefix.
    expect(await admin.call('ACL', 'LOG')).toEqual([]);
    const keys = (await admin.keys('*')) as string[];
    const byPrefix = (p: string) => keys.filter((k) => k.startsWith(`${p}:`));
    expect(keys.filter((k) => !/^(east|west):/.test(k))).toEqual([]);
    for (const name of ['east', 'west']) {
      // The caches and queues of each are there, under its own name.
      expect(byPrefix(name).some((k) => k.startsWith(`${name}:bull:invoice-push:`))).toBe(true);
      expect(byPrefix(name).some((k) => k.startsWith(`${name}:qbo:refs:`))).toBe(true);
      expect(byPrefix(name).some((k) => k.startsWith(`${name}:ratelimit:`))).toBe(true);
    }
  }, 90_000);
});
