import type { RequestHandler } from 'express';
import type { Redis } from 'ioredis';
import type { Logger } from '../log.ts';
import { BudgetExhausted, SlidingWindowLimiter } from '../redis/rate-limit.ts';
import { callerOf } from './auth.ts';
import { HttpProblem } from './problem.ts';

const WINDOW_MS = 60_000;

/**
 * Each tenant's requests to the API and the card API together, at most `perMinute` in any minute
 * (shared by every web process through Redis): one tenant's loop cannot take the app from the
 * others. Past it, 429 with Retry-After, the seconds until a request leaves the window. Without
 * Redis the limit cannot be counted and the request goes on (the API must not fall with Redis).
 */
export function tenantRateLimit(redis: Redis, perMinute: number, logger: Logger): RequestHandler {
  const limiter = new SlidingWindowLimiter(redis, perMinute, WINDOW_MS);
  return async (_req, res, next) => {
    const { tenant } = callerOf(res);
    try {
      await limiter.take(`ratelimit:tenant-api:${tenant.id}`, Date.now());
    } catch (error) {
      if (!(error instanceof BudgetExhausted)) {
        logger.warn({ err: (error as Error).message, tenantId: tenant.id }, 'request limit not counted');
        return next();
      }
      const seconds = Math.max(1, Math.ceil(error.retryAfterMs / 1000));
      res.setHeader('Retry-After', String(seconds));
      throw new HttpProblem(
        'rate_limited',
        `HubSpot portal ${tenant.portalId} made ${perMinute} requests to the app in the last minute, its limit; try again in ${seconds} s`,
      );
    }
    next();
  };
}
