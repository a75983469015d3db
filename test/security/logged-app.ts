import { randomBytes } from 'node:crypto';
import type { Server } from 'node:http';
import { Writable } from 'node:stream';
import { parseConfig } from '../../src/config.ts';
import { createContext } from '../../src/context.ts';
import { createApp } from '../../src/http/app.ts';
import { JOBS } from '../../src/jobs/index.ts';
import { createLogger } from '../../src/log.ts';
import { connectRedis } from '../../src/redis/connect.ts';
import { startHubSpotSandbox } from '../sandboxes/hubspot/index.ts';
import { startQuickBooksSandbox } from '../sandboxes/quickbooks/index.ts';
import { freshDatabase } from '../support/db.ts';
import { freePort } from '../support/net.ts';
import { sandboxEnv } from '../support/sandbox-env.ts';

/**
 * The whole product as startBilling wires it (web routes and worker jobs in one process, real
 * database and Redis, both sandboxes over real HTTP, a real port for the OAuth redirects), but with
 * the app's own logger — its redaction and all — at `trace`, writing every line where the test can
 * read it. startTestApp's logger is silent, so the context is built here, as src/runtime.ts does.
 */
export async function startLoggedBilling() {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk, _encoding, done) {
      lines.push(String(chunk));
      done();
    },
  });
  const logger = createLogger('trace', sink);
  const hs = await startHubSpotSandbox();
  const qbo = await startQuickBooksSandbox();
  const port = await freePort();
  const appUrl = `http://127.0.0.1:${port}`;
  const encryptionKeyBase64 = randomBytes(32).toString('base64');
  const config = parseConfig({
    NODE_ENV: 'test',
    REDIS_URL: process.env.REDIS_URL,
    REDIS_PREFIX: `test-${randomBytes(4).toString('hex')}`,
    LOG_LEVEL: 'trace',
    ENCRYPTION_KEY: encryptionKeyBase64,
    ...sandboxEnv(hs, qbo),
    PUBLIC_URL: appUrl,
    QBO_REQUEST_TIMEOUT_MS: '1500',
    QBO_THROTTLE_PAUSE_MS: '300',
    JOB_BACKOFF_MS: '100',
    JOB_LOCK_MS: '3000',
  });
  const encryptionKey = config.encryptionKey!;
  const database = await freshDatabase();
  const redis = connectRedis(config.redisUrl, logger, config.redisPrefix);
  const ctx = createContext({ config, database, redis, logger, encryptionKey });
  ctx.queues.process(JOBS, ctx);
  const app = createApp(ctx);
  const server: Server = app.listen(port, '127.0.0.1');

  return {
    ctx,
    hs,
    qbo,
    appUrl,
    lines,
    encryptionKey,
    encryptionKeyBase64,
    db: database.db,
    async close() {
      server.close();
      server.closeAllConnections();
      await ctx.queues.close();
      redis.disconnect();
      await database.close();
      await Promise.all([hs.close(), qbo.close()]);
    },
  };
}

export type LoggedBilling = Awaited<ReturnType<typeof startLoggedBilling>>;
