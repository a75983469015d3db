import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';

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

/**
 * Hands out send times one interval apart (the next free one, or now when the company has been
 * quiet) and answers how many milliseconds the caller waits for its own. Redis' clock, not the
 * callers', so processes on machines whose clocks disagree still keep the spacing.
 */
const NEXT_SLOT = `
local t = redis.call('time')
local now = t[1] * 1000 + t[2] / 1000
local slot = math.max(now, tonumber(redis.call('get', KEYS[1]) or '0'))
local interval = tonumber(ARGV[1])
redis.call('set', KEYS[1], string.format('%.3f', slot + interval), 'px', math.ceil(slot - now + interval) + 1000)
return math.ceil(slot - now)
`;

export interface RealmLimitOptions {
  concurrent: number;
  perMinute: number;
  minuteMs: number;
  perSecond: number;
  secondMs: number;
  pauseMs: number;
  leaseMs: number;
}

/**
 * Intuit's per-company limits for every process together (DESIGN §6): at most 10 requests in
 * flight, 500 a minute and 10 a second, and a 429 pauses that company alone for 60 s.
 *
 * Requests leave evenly spaced rather than in bursts: one per `interval`, the wider of what the
 * minute and the second allow. Our clock starts when a request leaves and Intuit's when it
 * arrives, so each window has a guard of time: 490 per 61 s (124.5 ms apart) and at most 9 per
 * 1.1 s. At that spacing any second holds at most 9 requests, so Intuit would see 10 only if
 * the network delayed one of them by more than a whole interval relative to the others.
 */
export class RealmLimits {
  readonly options: RealmLimitOptions;
  readonly intervalMs: number;

  constructor(
    private readonly redis: Redis,
    options: Partial<RealmLimitOptions> = {},
  ) {
    this.options = {
      concurrent: 10,
      perMinute: 490,
      minuteMs: 61_000,
      perSecond: 9,
      secondMs: 1_100,
      pauseMs: 60_000,
      leaseMs: 130_000,
      ...options,
    };
    const o = this.options;
    this.intervalMs = Math.max(o.minuteMs / o.perMinute, o.secondMs / o.perSecond);
  }

  async run<T>(
    realmId: string,
    request: () => Promise<T>,
    isThrottle: (error: unknown) => boolean,
  ): Promise<T> {
    await this.waitWhilePaused(realmId);
    // The lease first, then the send time: a request waiting for a lease must not be holding a
    // send time, or several would leave together the moment leases free up.
    const lease = await this.acquire(realmId);
    try {
      await this.waitForSlot(realmId);
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

  private async waitForSlot(realmId: string): Promise<void> {
    const wait = Number(await this.redis.eval(NEXT_SLOT, 1, `qbo:pace:${realmId}`, this.intervalMs));
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
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
