import { Redis } from 'ioredis';
import type { Logger } from '../log.ts';

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
