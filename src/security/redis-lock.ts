import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';

/** Deletes the key only while it still holds our owner token, so a lock that expired is never freed by its old holder. */
const RELEASE = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end`;
const RENEW = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) else return 0 end`;

/**
 * Runs `work` while holding a Redis lock shared by every process. Waits for a holder to finish
 * (polling) up to `waitMs`; the TTL frees the lock if its holder dies.
 */
export async function withLock<T>(
  redis: Redis,
  key: string,
  work: () => Promise<T>,
  /** `renew`: keep extending the TTL while `work` runs, so a short TTL only matters if the holder dies. */
  opts: { ttlMs?: number; waitMs?: number; renew?: boolean } = {},
): Promise<T> {
  const ttlMs = opts.ttlMs ?? 30_000;
  const deadline = Date.now() + (opts.waitMs ?? 35_000);
  const owner = randomBytes(16).toString('hex');
  for (let delay = 10; ; delay = Math.min(delay * 2, 250)) {
    if ((await redis.set(key, owner, 'PX', ttlMs, 'NX')) === 'OK') break;
    if (Date.now() > deadline) throw new Error(`timed out waiting for lock ${key}`);
    await new Promise((r) => setTimeout(r, delay));
  }
  const renewal = opts.renew
    ? setInterval(() => void redis.eval(RENEW, 1, key, owner, ttlMs).catch(() => {}), ttlMs / 3)
    : undefined;
  try {
    return await work();
  } finally {
    clearInterval(renewal);
    await redis.eval(RELEASE, 1, key, owner).catch(() => {});
  }
}
