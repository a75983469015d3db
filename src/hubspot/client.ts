import { Client } from '@hubspot/api-client';
import { DomainError } from '../domain/errors.ts';
import type { SlidingWindowLimiter } from '../security/rate-limit.ts';
import { accessToken, type TokenDeps } from './tokens.ts';

export interface HubSpotDeps extends TokenDeps {
  /** 110 requests per 10 s per portal, shared by every process (DESIGN §6). */
  limiter: SlidingWindowLimiter;
}

export interface Portal {
  tenantId: string;
  portalId: string;
}

const MAX_ATTEMPTS = 5;

/**
 * Runs SDK calls for one portal: paced by the shared limiter, retried on 429, 5xx and network
 * errors with backoff here and only here (the SDK's own retries stay off), and re-authorised
 * once when HubSpot answers 401.
 */
export async function withHubSpot<T>(
  deps: HubSpotDeps,
  portal: Portal,
  call: (client: Client) => Promise<T>,
): Promise<T> {
  let refreshed = false;
  for (let attempt = 1; ; attempt++) {
    const token = await accessToken(deps, portal.tenantId, { force: refreshed && attempt > 1 });
    const client = new Client({
      accessToken: token,
      basePath: deps.config.hubspot.apiBaseUrl,
      numberOfApiCallRetries: 0,
    });
    await deps.limiter.take(`ratelimit:hubspot:${portal.portalId}`);
    try {
      return await call(client);
    } catch (error) {
      const status = statusOf(error);
      if (status === 401 && !refreshed) {
        refreshed = true;
        continue;
      }
      const retryable = status === undefined || status === 429 || status >= 500;
      if (!retryable || attempt >= MAX_ATTEMPTS) throw asDomainError(error, status);
      const wait = status === 429 ? 1000 * attempt : 200 * 2 ** attempt;
      await new Promise((r) => setTimeout(r, wait + Math.random() * 100));
    }
  }
}

function statusOf(error: unknown): number | undefined {
  const code = (error as { code?: unknown }).code;
  return typeof code === 'number' ? code : undefined;
}

export function isNotFound(error: unknown): boolean {
  return error instanceof DomainError && error.code === 'hubspot_not_found';
}

function asDomainError(error: unknown, status: number | undefined): Error {
  if (error instanceof DomainError) return error;
  const body = (error as { body?: { message?: string; category?: string } }).body;
  const message = body?.message ?? (error as Error).message;
  if (status === 404) return new DomainError('hubspot_not_found', `HubSpot: ${message}`);
  return new DomainError(
    status === 429 ? 'rate_limited' : 'hubspot_error',
    `HubSpot answered ${status ?? 'no response'}: ${message}`,
  );
}
