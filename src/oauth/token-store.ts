import { and, eq } from 'drizzle-orm';
import type { Redis } from 'ioredis';
import { withLock } from '../redis/lock.ts';
import { decrypt, encrypt } from '../security/crypto.ts';
import type { Db } from '../store/db.ts';
import { type OAuthProvider, oauthGrants } from '../store/schema.ts';

/** Refresh this long before expiry so no request goes out with a token about to lapse. */
const REFRESH_MARGIN_MS = 5 * 60_000;

/** What a platform's token endpoint answered, in our words. */
export interface IssuedTokens {
  accessToken: string;
  refreshToken: string;
  expiresInS: number;
  refreshExpiresInS?: number | undefined;
  /** Absent when the platform does not repeat them on a refresh: the stored ones are kept. */
  scopes?: string[] | undefined;
}

export interface TokenStoreDeps {
  db: Db;
  redis: Redis;
  encryptionKey: Buffer;
}

/** How one platform refreshes, and how it says a grant is gone for good. */
export interface TokenPlatform {
  provider: OAuthProvider;
  refresh(refreshToken: string): Promise<IssuedTokens>;
  /** The refresh was refused because the grant is revoked, expired or rotated away. */
  isRevoked(error: unknown): boolean;
  /** The error callers get when there is no grant, or it needs a person to authorise again. */
  missing(): Error;
  revoked(): Error;
}

type GrantRow = typeof oauthGrants.$inferSelect;

export type TokenStore = ReturnType<typeof tokenStore>;

/**
 * One store for every platform's OAuth grant: tokens encrypted at rest, refreshed ahead of expiry
 * once across all processes, the new pair stored (compare-and-set on the refresh token used) before
 * anyone uses it. Platforms that rotate refresh tokens (Intuit) kill the old one at once, so two
 * refreshes from one token would leave a process with a dead grant: a Redis lock per grant makes
 * the refresh single-flight, and its holder re-reads the row in case another process just did it.
 */
export function tokenStore(deps: TokenStoreDeps, platform: TokenPlatform) {
  const { provider } = platform;
  const lockKey = (tenantId: string) => `lock:${provider}-refresh:${tenantId}`;
  const where = (tenantId: string) =>
    and(eq(oauthGrants.tenantId, tenantId), eq(oauthGrants.provider, provider));

  const sealed = (tokens: IssuedTokens) => ({
    accessToken: encrypt(deps.encryptionKey, tokens.accessToken),
    refreshToken: encrypt(deps.encryptionKey, tokens.refreshToken),
    expiresAt: new Date(Date.now() + tokens.expiresInS * 1000),
    refreshExpiresAt: tokens.refreshExpiresInS
      ? new Date(Date.now() + tokens.refreshExpiresInS * 1000)
      : null,
    ...(tokens.scopes ? { scopes: tokens.scopes } : {}),
    updatedAt: new Date(),
  });

  async function find(tenantId: string): Promise<GrantRow | undefined> {
    const [row] = await deps.db.select().from(oauthGrants).where(where(tenantId));
    return row;
  }

  async function usable(tenantId: string): Promise<GrantRow> {
    const row = await find(tenantId);
    if (!row) throw platform.missing();
    if (row.status === 'needs_reconnect') throw platform.revoked();
    return row;
  }

  const fresh = (row: GrantRow) => row.expiresAt.getTime() - Date.now() > REFRESH_MARGIN_MS;
  const plain = (row: GrantRow) => decrypt(deps.encryptionKey, row.accessToken);

  async function refresh(current: GrantRow, mayRetry: boolean): Promise<string> {
    let tokens: IssuedTokens;
    try {
      tokens = await platform.refresh(decrypt(deps.encryptionKey, current.refreshToken));
    } catch (error) {
      if (!platform.isRevoked(error)) throw error;
      // A writer outside the lock (a reconnect, or a holder whose lock expired) may have stored a
      // newer grant while ours was refused: that one is worth one more try.
      const latest = await find(current.tenantId);
      if (mayRetry && latest?.status === 'active' && latest.refreshToken !== current.refreshToken) {
        return fresh(latest) ? plain(latest) : refresh(latest, false);
      }
      // Only the grant that failed is marked: a newer one stored meanwhile stays usable.
      await deps.db
        .update(oauthGrants)
        .set({ status: 'needs_reconnect', updatedAt: new Date() })
        .where(and(where(current.tenantId), eq(oauthGrants.refreshToken, current.refreshToken)));
      throw platform.revoked();
    }
    const stored = await deps.db
      .update(oauthGrants)
      .set(sealed(tokens))
      .where(and(where(current.tenantId), eq(oauthGrants.refreshToken, current.refreshToken)))
      .returning({ tenantId: oauthGrants.tenantId });
    // A reconnect landed meanwhile: its grant wins, and ours is left unused.
    if (stored.length === 0) return plain(await usable(current.tenantId));
    return tokens.accessToken;
  }

  return {
    provider,
    find,

    /** Stores a fresh grant (install, connect, reconnect), clearing "needs reconnect". */
    async save(tenantId: string, tokens: IssuedTokens): Promise<void> {
      const values = { ...sealed(tokens), status: 'active' as const };
      await deps.db
        .insert(oauthGrants)
        .values({ tenantId, provider, scopes: [], ...values })
        .onConflictDoUpdate({ target: [oauthGrants.tenantId, oauthGrants.provider], set: values });
    },

    /**
     * A valid access token. `force`: the API answered 401 to the stored token; refresh unless
     * someone already did.
     */
    async accessToken(tenantId: string, opts: { force?: boolean } = {}): Promise<string> {
      const seen = await usable(tenantId);
      if (fresh(seen) && !opts.force) return plain(seen);
      return withLock(deps.redis, lockKey(tenantId), async () => {
        const current = await usable(tenantId);
        const refreshedMeanwhile = current.accessToken !== seen.accessToken;
        if (fresh(current) && (!opts.force || refreshedMeanwhile)) return plain(current);
        return refresh(current, true);
      });
    },

    /**
     * Deletes the grant, under the refresh lock so no refresh rotates it meanwhile; `also` runs in
     * the same lock. Answers the refresh token it held, for revoking, or nothing when there was none.
     */
    async remove(tenantId: string, also: () => Promise<void> = async () => {}): Promise<string | undefined> {
      return withLock(deps.redis, lockKey(tenantId), async () => {
        const [row] = await deps.db.delete(oauthGrants).where(where(tenantId)).returning();
        await also();
        return row && decrypt(deps.encryptionKey, row.refreshToken);
      });
    },
  };
}
