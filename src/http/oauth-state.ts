import { randomBytes } from 'node:crypto';
import { and, eq, gt } from 'drizzle-orm';
import type { Db } from '../store/db.ts';
import { type OAuthProvider, oauthStates } from '../store/schema.ts';

const STATE_TTL_MS = 10 * 60_000;

/**
 * The authorize URL with a single-use `state`, kept server-side until the callback or its expiry.
 * The URL is built first, so an app that is not configured stores nothing.
 */
export async function authorizeWithState(
  db: Db,
  provider: OAuthProvider,
  tenantId: string | null,
  authorizeUrl: (state: string) => string,
): Promise<string> {
  const state = randomBytes(24).toString('base64url');
  const url = authorizeUrl(state);
  await db
    .insert(oauthStates)
    .values({ state, provider, tenantId, expiresAt: new Date(Date.now() + STATE_TTL_MS) });
  return url;
}

/** Deleting the state is what makes it single-use: a replay finds nothing. */
export async function consumeState(db: Db, provider: OAuthProvider, state: string) {
  const [row] = await db
    .delete(oauthStates)
    .where(
      and(
        eq(oauthStates.state, state),
        eq(oauthStates.provider, provider),
        gt(oauthStates.expiresAt, new Date()),
      ),
    )
    .returning();
  return row;
}
