import { Client } from '@hubspot/api-client';
import type { Redis } from 'ioredis';
import { z } from 'zod';
import type { Config } from '../config.ts';
import { DomainError } from '../domain/errors.ts';
import { platformCalls, platformThrottled } from '../metrics.ts';
import { BudgetExhausted, SlidingWindowLimiter } from '../redis/rate-limit.ts';
import { withRetries } from '../retry.ts';
import type { Db } from '../store/db.ts';

/**
 * HubSpot allows 110 requests per 10 s per portal. Our window is measured when a request leaves
 * and HubSpot's when it arrives, so a burst at the window's edge needs a guard of time: 105 per
 * 10.5 s is 91 % of the limit and never trips it.
 */
export const HUBSPOT_PACE = { limit: 105, windowMs: 10_500 };

export interface HubSpotDeps {
  config: Config;
  db: Db;
  redis: Redis;
  encryptionKey: Buffer;
}

export interface Portal {
  tenantId: string;
  portalId: string;
}

/** How the adapter reaches a portal: paced, with a token that is valid now, and a shared cache. */
export interface Connection {
  config: Config;
  redis: Redis;
  limiter: SlidingWindowLimiter;
  accessToken(tenantId: string, opts?: { force?: boolean }): Promise<string>;
}

export function hubspotLimiter(redis: Redis): SlidingWindowLimiter {
  return new SlidingWindowLimiter(redis, HUBSPOT_PACE.limit, HUBSPOT_PACE.windowMs);
}

/** The part of a portal's HubSpot budget that background work may fill. */
export const BACKGROUND_SHARE = 0.8;

/**
 * Runs one SDK call for one portal: paced by the shared limiter (all processes together), retried
 * by the one retry policy (the SDK's own retries stay off), and re-authorised once when HubSpot
 * answers 401. `safeToRepeat` says whether running the call twice could do its work twice.
 */
export async function withHubSpot<T>(
  conn: Connection,
  portal: Portal,
  call: (client: Client) => Promise<T>,
  /**
   * `deadline` (epoch ms): a caller who cannot wait longer (a person's request) gets hubspot_busy.
   * `background`: work nobody waits on (write-backs, notes, tasks) fills at most BACKGROUND_SHARE
   * of the portal's budget, so an invoice push or a card never queues behind a backlog of them.
   */
  opts: { safeToRepeat: boolean; deadline?: number | undefined; background?: boolean },
): Promise<T> {
  let force = false;
  try {
    return await withRetries(
      async () => {
        const token = await conn.accessToken(portal.tenantId, { force });
        const client = new Client({
          accessToken: token,
          basePath: conn.config.hubspot.apiBaseUrl,
          numberOfApiCallRetries: 0,
        });
        await conn.limiter.take(
          `ratelimit:hubspot:${portal.portalId}`,
          opts.deadline,
          opts.background ? BACKGROUND_SHARE : 1,
        );
        platformCalls.inc({ platform: 'hubspot', kind: opts.safeToRepeat ? 'read' : 'write' });
        try {
          return await call(client);
        } catch (error) {
          force = statusOf(error) === 401;
          if (statusOf(error) === 429) platformThrottled.inc({ platform: 'hubspot' });
          throw error;
        }
      },
      {
        attempts: 5,
        safeToRepeat: opts.safeToRepeat,
        transient: (error) => {
          if (error instanceof DomainError || error instanceof z.ZodError || error instanceof BudgetExhausted)
            return false;
          const status = statusOf(error);
          return status === undefined || status === 429 || status >= 500;
        },
        // A 429 is refused before HubSpot does anything; a 401 is refused before it too.
        notRun: (error) => statusOf(error) === 429,
        recoverOnce: (error) => statusOf(error) === 401,
        delayMs: rateLimitWindow,
        minDelayMs: 400,
      },
    );
  } catch (error) {
    throw asDomainError(error);
  }
}

/**
 * After a 429 the portal's window has to pass, not a backoff of a fraction of a second: HubSpot
 * says how long it is (X-HubSpot-RateLimit-Interval-Milliseconds, hubspot.md §5.8), else 10 s.
 */
function rateLimitWindow(error: unknown): number | undefined {
  if (statusOf(error) !== 429) return undefined;
  const headers = (error as { headers?: Record<string, string> }).headers ?? {};
  const interval = Number(headers['x-hubspot-ratelimit-interval-milliseconds']);
  return Number.isFinite(interval) && interval > 0 ? Math.min(interval, 60_000) : 10_000;
}

export interface ApiCall {
  method: 'GET' | 'POST' | 'PATCH';
  path: string;
  qs?: Record<string, string>;
  body?: object;
}

/**
 * One request to a dated HubSpot API (`/crm/objects/2026-03/…`; the SDK's typed clients call
 * the numbered ones HubSpot stops supporting in 2027), through the SDK's `apiRequest` so the
 * base path and token stay the client's; the answer is parsed by `schema`.
 */
export async function request<S extends z.ZodType>(
  client: Client,
  call: ApiCall,
  schema: S,
): Promise<z.output<S>> {
  const res = await client.apiRequest({ method: call.method, path: call.path, qs: call.qs, body: call.body });
  const body: unknown = await res.json().catch(() => undefined);
  if (res.status >= 300) {
    // Shaped like the SDK's ApiException, so that withHubSpot retries and reports it alike.
    const message = (body as { message?: unknown } | undefined)?.message;
    throw Object.assign(new Error(typeof message === 'string' ? message : `HTTP ${res.status}`), {
      code: res.status,
      body,
      headers: Object.fromEntries(res.headers.entries()),
    });
  }
  return schema.parse(body);
}

function statusOf(error: unknown): number | undefined {
  const code = (error as { code?: unknown }).code;
  return typeof code === 'number' ? code : undefined;
}

export function isNotFound(error: unknown): boolean {
  return error instanceof DomainError && error.code === 'hubspot_not_found';
}

function asDomainError(error: unknown): Error {
  if (error instanceof DomainError) return error;
  if (error instanceof BudgetExhausted) {
    return new DomainError(
      'hubspot_busy',
      `the app's share of HubSpot's requests for this portal is used up for ${Math.ceil(error.retryAfterMs / 1000)} s; try again then`,
    );
  }
  if (error instanceof z.ZodError) {
    const fields = [...new Set(error.issues.map((i) => i.path.join('.') || '(body)'))].join(', ');
    return new DomainError(
      'hubspot_error',
      `HubSpot's answer is not what its API promises (check ${fields})`,
    );
  }
  const status = statusOf(error);
  const body = (error as { body?: { message?: string } }).body;
  const message = body?.message ?? (error as Error).message;
  if (status === 404) return new DomainError('hubspot_not_found', `HubSpot: ${message}`);
  // A scope the portal did not grant, or a feature its subscription lacks.
  if (status === 403) return new DomainError('hubspot_forbidden', `HubSpot refused the app: ${message}`);
  const code =
    status === 429
      ? 'rate_limited'
      : status === undefined || status >= 500
        ? 'hubspot_unavailable'
        : 'hubspot_error';
  return new DomainError(code, `HubSpot answered ${status ?? 'no response'}: ${message}`);
}

/** HubSpot did not answer, or failed: a write may or may not have happened. */
export function isUncertain(error: unknown): boolean {
  return error instanceof DomainError && error.code === 'hubspot_unavailable';
}
