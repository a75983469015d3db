import { randomBytes, randomInt } from 'node:crypto';
import supertest from 'supertest';
import { parseConfig } from '../../src/config.ts';
import { createContext } from '../../src/context.ts';
import type { Clock } from '../../src/domain/dates.ts';
import { createApp } from '../../src/http/app.ts';
import { createLogger } from '../../src/log.ts';
import { connectRedis } from '../../src/redis/connect.ts';
import { createApiKey, ensureTenant } from '../../src/tenants/repository.ts';
import { freshDatabase } from './db.ts';

/** The real app over a real database and Redis, plus a helper to make tenants with API keys. */
/**
 * `clock` sets "today" for business dates (due, overdue, invoice dates): a test whose fixtures carry
 * fixed dates names the day it was written for, so it means the same on every day it runs.
 */
export async function startTestApp(
  env: Record<string, string> = {},
  opts: { server?: boolean; clock?: Clock } = {},
) {
  const config = parseConfig({
    NODE_ENV: 'test',
    REDIS_URL: process.env.REDIS_URL,
    LOG_LEVEL: 'silent',
    REDIS_PREFIX: `test-${randomBytes(4).toString('hex')}`,
    ...env,
  });
  const logger = createLogger('silent');
  const database = await freshDatabase(opts);
  const redis = connectRedis(config.redisUrl, logger, config.redisPrefix);
  const encryptionKey = randomBytes(32);
  // Test files run in parallel on one Redis: each app has its own namespace (REDIS_PREFIX).
  const ctx = createContext({ config, database, redis, logger, encryptionKey, clock: opts.clock });
  const { queues } = ctx;
  const app = createApp(ctx);
  const http = supertest(app);
  // Redis (pacing windows, caches) outlives a test file: each file's portals are its own.
  let portals = randomInt(0, 50_000) * 1000;

  async function tenant(name = 'Acme Agency') {
    const portalId = String(30_000_000 + ++portals);
    const { tenant } = await ensureTenant(database.db, encryptionKey, portalId, name);
    const { key } = await createApiKey(database.db, tenant.id, 'test');
    const auth = { Authorization: `Bearer ${key}` };
    return {
      tenant,
      portalId,
      get: (path: string) => http.get(`/api/v1${path}`).set(auth),
      put: (path: string, body: unknown) =>
        http
          .put(`/api/v1${path}`)
          .set(auth)
          .send(body as object),
      post: (path: string, body: unknown = {}) =>
        http
          .post(`/api/v1${path}`)
          .set(auth)
          .send(body as object),
      raw: (method: 'post' | 'put', path: string) => http[method](`/api/v1${path}`).set(auth),
    };
  }

  return {
    app,
    ctx,
    http,
    database,
    redis,
    encryptionKey,
    tenant,
    async close() {
      await queues.close();
      redis.disconnect();
      await database.close();
    },
  };
}

export type TestApp = Awaited<ReturnType<typeof startTestApp>>;
export type TestTenant = Awaited<ReturnType<TestApp['tenant']>>;
