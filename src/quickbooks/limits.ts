import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { SlidingWindowLimiter } from '../redis/rate-limit.ts';

/** A counting semaphore whose leases expire, so a crashed process cannot hold a slot forever. */
const ACQUIRE = `
redis.call('zremrangebyscore', KEYS[1], '-inf', ARGV[1])
if redis.call('zcard', KEYS[1]) < tonumber(ARGV[2]) then
  redis.call('zadd', KEYS[1], ARGV[1] + ARGV[3], ARGV[4])
  redis.call('pexpire', KEYS[1], ARGV[3])
  return 1
end
return 0
`;

export interface RealmLimitOptions {
  concurrent: number;
  perWindow: number;
  windowMs: number;
  pauseMs: number;
  leaseMs: number;
}

/**
 * Intuit's per-company limits for every process together (DESIGN §6): at most 10 requests in
 * flight and 500 a minute — paced at 490 per 61 s, since our clock starts when a request leaves
 * and Intuit's when it arrives — and a 429 pauses that company alone for 60 s.
 */
export class RealmLimits {
  private readonly window: SlidingWindowLimiter;
  readonly options: RealmLimitOptions;

  constructor(
    private readonly redis: Redis,
    options: Partial<RealmLimitOptions> = {},
  ) {
    this.options = {
      concurrent: 10,
      perWindow: 490,
      windowMs: 61_000,
      pauseMs: 60_000,
      leaseMs: 130_000,
      ...options,
    };
    this.window = new SlidingWindowLimiter(redis, this.options.perWindow, this.options.windowMs);
  }

  async run<T>(
    realmId: string,
    request: () => Promise<T>,
    isThrottle: (error: unknown) => boolean,
  ): Promise<T> {
    await this.waitWhilePaused(realmId);
    await this.window.take(`ratelimit:qbo:${realmId}`);
    const lease = await this.acquire(realmId);
    try {
      return await request();
    } catch (error) {
      if (isThrottle(error)) await this.redis.set(`qbo:pause:${realmId}`, '1', 'PX', this.options.pauseMs);
      throw error;
    } finally {
      await this.redis.zrem(`qbo:inflight:${realmId}`, lease).catch(() => {});
    }
  }

  private async waitWhilePaused(realmId: string): Promise<void> {
    for (;;) {
      const left = await this.redis.pttl(`qbo:pause:${realmId}`);
      if (left <= 0) return;
      await new Promise((r) => setTimeout(r, Math.min(left, 1000)));
    }
  }

  private async acquire(realmId: string): Promise<string> {
    const lease = randomBytes(8).toString('hex');
    for (let delay = 5; ; delay = Math.min(delay * 2, 100)) {
      const got = await this.redis.eval(
        ACQUIRE,
        1,
        `qbo:inflight:${realmId}`,
        Date.now(),
        this.options.concurrent,
        this.options.leaseMs,
        lease,
      );
      if (Number(got) === 1) return lease;
      await new Promise((r) => setTimeout(r, delay));
    }
  }
}
