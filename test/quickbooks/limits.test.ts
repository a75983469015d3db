import { randomInt } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/log.ts';
import { RealmLimits } from '../../src/quickbooks/limits.ts';
import { connectRedis } from '../../src/redis/connect.ts';
import { type QuickBooksSandbox, startQuickBooksSandbox } from '../sandboxes/quickbooks/index.ts';

// A company of its own per run: its send times live in Redis, which test runs may share.
const REALM = String(9_130_000_000 + randomInt(1_000_000_000));
let qbo: QuickBooksSandbox;
const connect = () =>
  connectRedis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', createLogger('silent'), 'test-limits');
// Two connections, as two processes have: the limits hold only if they are shared through Redis.
const redis = [connect(), connect()];

beforeAll(async () => {
  qbo = await startQuickBooksSandbox();
  qbo.addRealm(REALM, { companyName: 'Paced Co', country: 'US', homeCurrency: 'USD', multiCurrency: false });
});
afterAll(async () => {
  for (const r of redis) r.disconnect();
  await qbo?.close();
});

describe("a QuickBooks company's limits", () => {
  it('spread a burst from two processes so that no second holds more than 9 requests and none is refused', async () => {
    const realmId = REALM;
    const { access_token } = qbo.issueTokens(realmId);
    const limits = redis.map((r) => new RealmLimits(r));
    const get = () =>
      fetch(`${qbo.apiBaseUrl}/v3/company/${realmId}/preferences`, {
        headers: { authorization: `Bearer ${access_token}`, accept: 'application/json' },
      }).then(async (res) => {
        await res.body?.cancel();
        return res.status;
      });
    const statuses = await Promise.all(
      Array.from({ length: 30 }, (_, i) => limits[i % 2]!.run(realmId, get, () => false)),
    );
    expect(statuses).toEqual(Array(30).fill(200));
    const stats = qbo.stats(realmId);
    expect(stats.throttled429).toBe(0);
    expect(stats.maxPerSecond).toBeLessThanOrEqual(9);
  }, 20_000);
});
