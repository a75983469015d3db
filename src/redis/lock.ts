import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';

/** Deletes the key only while it still holds our owner token, so a lock that expired is never freed by its old holder. */
const RELEASE = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end`;
const RENEW = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) else return 0 end`;

export class LockLost extends Error {
  constructor(readonly key: string) {
    super(`lost the lock ${key}: another holder may be doing the same work`);
    this.name = 'LockLost';
  }
}

/** What the holder of a lock can ask: whether it still holds it. */
export interface HeldLock {
  /** Aborted (with a LockLost) once the lock is known lost. */
  readonly signal: AbortSignal;
  /** Throws LockLost unless the lock is certainly still ours. */
  assertHeld(): void;
}

/**
 * Runs `work` while holding a Redis lock shared by every process. Waits for a holder to finish
 * (polling) up to `waitMs`; the TTL frees the lock if its holder dies. The lock is counted lost
 * when a renewal finds another owner, and also once its TTL has run out since the last renewal
 * that Redis confirmed: when Redis stops answering, nobody can vouch for it any longer.
 */
export async function withLock<T>(
  redis: Redis,
  key: string,
  work: (lock: HeldLock) => Promise<T>,
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
  const controller = new AbortController();
  let heldUntil = Date.now() + ttlMs;
  const lose = () => {
    if (!controller.signal.aborted) controller.abort(new LockLost(key));
  };
  const renewal = opts.renew
    ? setInterval(() => {
        const asked = Date.now();
        redis.eval(RENEW, 1, key, owner, ttlMs).then(
          (renewed) => {
            if (Number(renewed) === 1) heldUntil = asked + ttlMs;
            else lose();
          },
          () => {},
        );
      }, ttlMs / 3)
    : undefined;
  const lock: HeldLock = {
    signal: controller.signal,
    assertHeld() {
      if (Date.now() >= heldUntil) lose();
      controller.signal.throwIfAborted();
    },
  };
  try {
    return await work(lock);
  } finally {
    clearInterval(renewal);
    await redis.eval(RELEASE, 1, key, owner).catch(() => {});
  }
}
