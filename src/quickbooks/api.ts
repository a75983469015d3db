import { z } from 'zod';
import type { AppContext } from '../context.ts';
import { QboError } from './errors.ts';
import { type QboCall, sdkFor } from './sdk.ts';
import { qboAccessToken } from './tokens.ts';

const READ_ATTEMPTS = 4;

/**
 * One tenant's QuickBooks company for the length of a job: every request is paced by the shared
 * per-company limits, a 401 refreshes the token once, and reads are retried on transient failures.
 * Writes are never retried here: the push decides, knowing its ledger.
 */
export async function openCompany(ctx: AppContext, tenantId: string) {
  const deps = { ...ctx, db: ctx.database.db };
  let { accessToken, realmId } = await qboAccessToken(deps, tenantId);
  let sdk = sdkFor(ctx.config, realmId, accessToken);
  let refreshed = false;

  async function request<T>(
    invoke: Parameters<typeof sdk>[0],
    opts: { write: boolean },
  ): Promise<QboCall<T>> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await ctx.qboLimits.run(
          realmId,
          () => sdk<T>(invoke),
          (e) => e instanceof QboError && e.kind === 'throttled',
        );
      } catch (error) {
        if (!(error instanceof QboError)) throw error;
        if (error.kind === 'auth' && !refreshed) {
          refreshed = true;
          ({ accessToken, realmId } = await qboAccessToken(deps, tenantId, { force: true }));
          sdk = sdkFor(ctx.config, realmId, accessToken);
          continue;
        }
        // A throttled request was refused before it ran, so even a write may go again.
        const again = error.kind === 'throttled' || (!opts.write && error.transient);
        if (!again || attempt >= READ_ATTEMPTS) throw error;
        await new Promise((r) => setTimeout(r, 250 * 2 ** attempt + Math.random() * 100));
      }
    }
  }

  const read = <T>(invoke: Parameters<typeof sdk>[0]) => request<T>(invoke, { write: false });
  const write = <T>(invoke: Parameters<typeof sdk>[0]) => request<T>(invoke, { write: true });

  /** `find*` answers `{QueryResponse: {Customer: [...]}}`, without the key when nothing matched. */
  async function find<S extends z.ZodType>(entity: string, schema: S, invoke: Parameters<typeof sdk>[0]) {
    const { data } = await read<{ QueryResponse?: Record<string, unknown> }>(invoke);
    return z.array(schema).parse(data?.QueryResponse?.[entity] ?? []);
  }

  return { realmId, read, write, find };
}

export type Company = Awaited<ReturnType<typeof openCompany>>;
