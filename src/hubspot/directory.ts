import { z } from 'zod';
import { DomainError } from '../domain/errors.ts';
import { type Connection, type Portal, request, withHubSpot } from './client.ts';

/** Names for the ids deals hold: the deal pipelines' labels and the owners' names. */
export interface DealDirectory {
  pipelines: { id: string; label: string }[];
  owners: { id: string; name: string }[];
}

const Pipelines = z.object({ results: z.array(z.object({ id: z.string(), label: z.string() })) });
const Owners = z.object({
  results: z.array(
    z.object({
      id: z.string(),
      email: z.string().nullish(),
      firstName: z.string().nullish(),
      lastName: z.string().nullish(),
    }),
  ),
  paging: z.object({ next: z.object({ after: z.string() }).optional() }).optional(),
});

const DIRECTORY_CACHE_S = 300;
const MAX_OWNER_PAGES = 10;

/**
 * The portal's deal pipelines and owners, kept five minutes: the portfolio's filters name them.
 * Owners need the optional `crm.objects.owners.read` scope; without it they are shown by id.
 */
export async function dealDirectory(
  conn: Connection,
  portal: Portal,
  opts: { deadline?: number | undefined } = {},
): Promise<DealDirectory> {
  const key = `hubspot:directory:${portal.tenantId}`;
  const hit = await conn.redis.get(key);
  if (hit) return JSON.parse(hit) as DealDirectory;
  const call = <S extends z.ZodType>(path: string, schema: S, qs?: Record<string, string>) =>
    withHubSpot(conn, portal, (client) => request(client, { method: 'GET', path, qs }, schema), {
      safeToRepeat: true,
      deadline: opts.deadline,
    });
  const pipelines = (await call('/crm/pipelines/2026-03/0-3', Pipelines)).results;
  const owners: DealDirectory['owners'] = [];
  try {
    let after: string | undefined;
    for (let page = 0; page < MAX_OWNER_PAGES; page++) {
      const answer = await call('/crm/owners/2026-03', Owners, { limit: '100', ...(after ? { after } : {}) });
      for (const o of answer.results)
        owners.push({
          id: o.id,
          name: [o.firstName, o.lastName].filter(Boolean).join(' ') || o.email || o.id,
        });
      after = answer.paging?.next?.after;
      if (!after) break;
    }
  } catch (error) {
    if (!(error instanceof DomainError)) throw error;
  }
  const directory = { pipelines: pipelines.map((p) => ({ id: p.id, label: p.label })), owners };
  await conn.redis.set(key, JSON.stringify(directory), 'EX', DIRECTORY_CACHE_S);
  return directory;
}
