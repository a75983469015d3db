import { Redis } from 'ioredis';
import type { Logger } from '../log.ts';

/**
 * Commands wait for the connection while it is being made, but fail after one reconnect attempt
 * when Redis is away instead of queueing forever; the client keeps reconnecting. Every key goes
 * under `<prefix>:`, so deployments sharing a Redis never read or write each other's keys.
 */
export function connectRedis(url: string, logger: Logger, prefix: string): Redis {
  const redis = new Redis(url, { maxRetriesPerRequest: 1, keyPrefix: `${prefix}:` });
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
