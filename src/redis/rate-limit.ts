import type { Redis } from 'ioredis';

/**
 * Sliding-window log in a sorted set, checked and recorded atomically: answers 0 when a slot
 * was taken, else how many milliseconds until the oldest request leaves the window.
 */
const TAKE = `
local now = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local limit = tonumber(ARGV[3])
redis.call('zremrangebyscore', KEYS[1], '-inf', now - window)
if redis.call('zcard', KEYS[1]) < limit then
  redis.call('zadd', KEYS[1], now, ARGV[4])
  redis.call('pexpire', KEYS[1], window)
  return 0
end
local oldest = redis.call('zrange', KEYS[1], 0, 0, 'withscores')
return math.max(1, tonumber(oldest[2]) + window - now)
`;

/** A limit shared by every process through Redis, e.g. 110 requests per 10 s per HubSpot portal. */
export class SlidingWindowLimiter {
  private seq = 0;
  constructor(
    private readonly redis: Redis,
    private readonly limit: number,
    private readonly windowMs: number,
  ) {}

  /**
   * Waits until the request may go out; with a `deadline` (epoch ms), throws BudgetExhausted
   * instead of waiting past it. `share`: the part of the limit this caller may fill, so that work
   * which can wait leaves room for work somebody waits on.
   */
  async take(key: string, deadline?: number, share = 1): Promise<void> {
    const limit = Math.max(1, Math.floor(this.limit * share));
    for (;;) {
      const member = `${process.pid}:${Date.now()}:${this.seq++}:${Math.random()}`;
      const wait = Number(await this.redis.eval(TAKE, 1, key, Date.now(), this.windowMs, limit, member));
      if (wait === 0) return;
      if (deadline !== undefined && Date.now() + wait > deadline) throw new BudgetExhausted(key, wait);
      await new Promise((r) => setTimeout(r, wait));
    }
  }
}

export class BudgetExhausted extends Error {
  constructor(
    readonly key: string,
    readonly retryAfterMs: number,
  ) {
    super(`no budget left on ${key} for ${Math.ceil(retryAfterMs / 1000)} s`);
    this.name = 'BudgetExhausted';
  }
}
