import type { Redis } from 'ioredis';
import { z } from 'zod';
import type { Config } from '../config.ts';
import type { Logger } from '../log.ts';
import { platformCalls, platformThrottled } from '../metrics.ts';
import { withRetries } from '../retry.ts';
import type { Db } from '../store/db.ts';
import { QboError } from './errors.ts';
import type { RealmLimits } from './limits.ts';
import { type QboCall, sdkFor } from './sdk.ts';
import { qboAccessToken } from './tokens.ts';

export interface QuickBooksDeps {
  config: Config;
  db: Db;
  redis: Redis;
  encryptionKey: Buffer;
  logger: Logger;
}

type Invoke = Parameters<ReturnType<typeof sdkFor>>[0];

/**
 * One tenant's QuickBooks company for the length of a job: every request is paced by the shared
 * per-company limits, a 401 refreshes the token once, and the one retry policy repeats what is
 * safe to repeat. `signal`: once aborted (the caller lost its lock), no further request goes out.
 */
export async function openCompany(
  deps: QuickBooksDeps & { limits: RealmLimits },
  tenantId: string,
  signal?: AbortSignal,
) {
  let { accessToken, realmId } = await qboAccessToken(deps, tenantId);
  let sdk = sdkFor(deps.config, realmId, accessToken);
  let stale = false;

  function request<T>(invoke: Invoke, safeToRepeat: boolean): Promise<QboCall<T>> {
    return withRetries(
      async () => {
        signal?.throwIfAborted();
        if (stale) {
          ({ accessToken, realmId } = await qboAccessToken(deps, tenantId, { force: true }));
          sdk = sdkFor(deps.config, realmId, accessToken);
          stale = false;
        }
        try {
          return await deps.limits.run(
            realmId,
            () => {
              platformCalls.inc({ platform: 'quickbooks', kind: safeToRepeat ? 'read' : 'write' });
              return sdk<T>(invoke);
            },
            isThrottle,
          );
        } catch (error) {
          stale = error instanceof QboError && error.kind === 'auth';
          if (isThrottle(error)) platformThrottled.inc({ platform: 'quickbooks' });
          throw error;
        }
      },
      {
        attempts: 4,
        safeToRepeat,
        transient: (error) => error instanceof QboError && error.transient,
        // A throttled request was refused before it ran, so even a write may go again.
        notRun: isThrottle,
        recoverOnce: (error) => error instanceof QboError && error.kind === 'auth',
        minDelayMs: 500,
        signal,
      },
    );
  }

  const read = <T>(invoke: Invoke) => request<T>(invoke, true);
  /** Writes are repeated only when QuickBooks refused them unrun: the push decides, knowing its ledger. */
  const write = <T>(invoke: Invoke) => request<T>(invoke, false);

  /** `find*` answers `{QueryResponse: {Customer: [...]}}`, without the key when nothing matched. */
  async function find<S extends z.ZodType>(entity: string, schema: S, invoke: Invoke) {
    const { data } = await read<{ QueryResponse?: Record<string, unknown> }>(invoke);
    return z.array(schema).parse(data?.QueryResponse?.[entity] ?? []);
  }

  return { realmId, tenantId, read, write, find };
}

const isThrottle = (error: unknown) => error instanceof QboError && error.kind === 'throttled';

export type Company = Awaited<ReturnType<typeof openCompany>>;
