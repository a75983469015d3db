import { Redis } from 'ioredis';
import { type Config, ConfigError, encryptionKey, parseConfig } from './config.ts';
import type { AppContext } from './context.ts';
import { createQueues } from './jobs/queues.ts';
import { createLogger, type Logger } from './log.ts';
import { RealmLimits } from './quickbooks/limits.ts';
import { SlidingWindowLimiter } from './security/rate-limit.ts';
import { openDatabase } from './store/db.ts';

/**
 * HubSpot allows 110 requests per 10 s per portal. Our window is measured when a request leaves
 * and HubSpot's when it arrives, so a burst at the window's edge needs a guard of time: 105 per
 * 10.5 s is 91 % of the limit and never trips it.
 */
export const HUBSPOT_PACE = { limit: 105, windowMs: 10_500 };

export interface Runtime extends AppContext {
  close(): Promise<void>;
}

/** What every process (web, worker, CLI) opens first. A bad environment stops it with every problem listed. */
export async function startRuntime(env: NodeJS.ProcessEnv = process.env): Promise<Runtime> {
  let config: Config;
  try {
    config = parseConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(error.message);
      process.exit(1);
    }
    throw error;
  }
  const logger = createLogger(config.logLevel);
  const key = encryptionKey(config, (msg) => logger.warn(msg));
  const database = await openDatabase(
    config.databaseUrl ? { url: config.databaseUrl } : { dataDir: config.dataDir },
  );
  const redis = connectRedis(config.redisUrl, logger);
  const queues = createQueues(config.redisUrl, logger, config.jobs);
  return {
    config,
    logger,
    database,
    redis,
    encryptionKey: key,
    queues,
    hubspotLimiter: new SlidingWindowLimiter(redis, HUBSPOT_PACE.limit, HUBSPOT_PACE.windowMs),
    qboLimits: new RealmLimits(redis, { pauseMs: config.quickbooks.throttlePauseMs }),
    async close() {
      await queues.close();
      redis.disconnect();
      await database.close();
    },
  };
}

/**
 * Commands wait for the connection while it is being made, but fail after one reconnect attempt
 * when Redis is away instead of queueing forever; the client keeps reconnecting.
 */
export function connectRedis(url: string, logger: Logger): Redis {
  const redis = new Redis(url, { maxRetriesPerRequest: 1 });
  let down = false;
  redis.on('error', (error) => {
    if (!down) logger.warn({ err: error.message }, 'redis unavailable; retrying');
    down = true;
  });
  redis.on('ready', () => {
    if (down) logger.info('redis connection restored');
    down = false;
  });
  return redis;
}
