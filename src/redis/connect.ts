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
    lastErrors.set(redis, error.message);
  });
  redis.on('ready', () => {
    if (down) logger.info('redis connection restored');
    down = false;
    lastErrors.delete(redis);
  });
  return redis;
}

const lastErrors = new WeakMap<Redis, string>();

/** Why a connection is not usable right now (its state and the last error it met), for readiness. */
export function redisTrouble(redis: Redis): string | undefined {
  if (redis.status === 'ready') return undefined;
  const error = lastErrors.get(redis);
  return `redis is ${redis.status}${error ? `: ${error}` : ''}`;
}
