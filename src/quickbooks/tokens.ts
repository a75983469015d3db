import { and, eq } from 'drizzle-orm';
import type { Config } from '../config.ts';
import type { TokenDeps } from '../context.ts';
import { DomainError } from '../domain/errors.ts';
import type { Logger } from '../log.ts';
import { decrypt, encrypt } from '../security/crypto.ts';
import { withLock } from '../security/redis-lock.ts';
import type { Queryable } from '../store/db.ts';
import { customerMappings, qboConnections } from '../store/schema.ts';
import { QuickBooksOAuthError, refreshTokens, revokeToken, type TokenResponse } from './oauth.ts';

/** Refresh this long before expiry so no request goes out with a token about to lapse. */
const REFRESH_MARGIN_MS = 5 * 60_000;

export type { TokenDeps };

export type QboConnection = typeof qboConnections.$inferSelect;

/** One lock per tenant serialises everything that rotates or ends its grant: refresh and disconnect. */
const lockKey = (tenantId: string) => `lock:qbo-refresh:${tenantId}`;

const reconnectRequired = () =>
  new DomainError(
    'quickbooks_reconnect_required',
    'QuickBooks refused the stored authorisation; reconnect QuickBooks',
  );

const sealed = (deps: TokenDeps, tokens: TokenResponse) => ({
  accessToken: encrypt(deps.encryptionKey, tokens.access_token),
  refreshToken: encrypt(deps.encryptionKey, tokens.refresh_token),
  expiresAt: new Date(Date.now() + tokens.expires_in * 1000),
  refreshExpiresAt: tokens.x_refresh_token_expires_in
    ? new Date(Date.now() + tokens.x_refresh_token_expires_in * 1000)
    : null,
  updatedAt: new Date(),
});

export async function connectionOf(db: Queryable, tenantId: string): Promise<QboConnection | undefined> {
  const [row] = await db.select().from(qboConnections).where(eq(qboConnections.tenantId, tenantId));
  return row;
}

/**
 * Binds a company to the tenant with fresh tokens (encrypted). Reconnecting replaces the tokens
 * and clears "needs reconnect"; the realm's unique index refuses a company another tenant holds.
 */
export async function saveConnection(
  deps: TokenDeps,
  tenantId: string,
  realmId: string,
  tokens: TokenResponse,
): Promise<void> {
  const values = { realmId, ...sealed(deps, tokens), status: 'active' as const };
  const previous = await connectionOf(deps.db, tenantId);
  if (previous && previous.realmId !== realmId) await forgetCustomers(deps.db, tenantId);
  await deps.db
    .insert(qboConnections)
    .values({ tenantId, ...values })
    .onConflictDoUpdate({
      target: qboConnections.tenantId,
      // Another company's facts must not survive a switch of company.
      set: { ...values, company: null, connectedAt: new Date() },
    });
}

/**
 * Customer ids belong to one QuickBooks company: kept across a switch of company they would bill
 * whoever holds the same id in the new one.
 */
async function forgetCustomers(db: Queryable, tenantId: string): Promise<void> {
  await db.delete(customerMappings).where(eq(customerMappings.tenantId, tenantId));
}

async function readConnection(db: Queryable, tenantId: string): Promise<QboConnection> {
  const row = await connectionOf(db, tenantId);
  if (!row) throw new DomainError('quickbooks_not_connected', 'no QuickBooks company is connected');
  if (row.status === 'needs_reconnect') throw reconnectRequired();
  return row;
}

const fresh = (row: QboConnection) => row.expiresAt.getTime() - Date.now() > REFRESH_MARGIN_MS;

/**
 * A valid access token for the tenant's company. Refreshing is single-flight across processes:
 * Intuit kills a superseded refresh token at once, so two refreshes from the same token would
 * leave one process with a dead grant. The lock holder re-reads the row (another process may have
 * just refreshed) and stores the new pair before anyone uses it.
 * `force`: the API answered 401 to the stored token; refresh unless someone already did.
 */
export async function qboAccessToken(
  deps: TokenDeps,
  tenantId: string,
  opts: { force?: boolean } = {},
): Promise<{ accessToken: string; realmId: string }> {
  const seen = await readConnection(deps.db, tenantId);
  if (fresh(seen) && !opts.force) return usable(deps, seen);
  return withLock(deps.redis, lockKey(tenantId), async () => {
    const current = await readConnection(deps.db, tenantId);
    const refreshedMeanwhile = current.accessToken !== seen.accessToken;
    if (fresh(current) && (!opts.force || refreshedMeanwhile)) return usable(deps, current);
    return refresh(deps, current, true);
  });
}

const usable = (deps: TokenDeps, row: QboConnection) => ({
  accessToken: decrypt(deps.encryptionKey, row.accessToken),
  realmId: row.realmId,
});

async function refresh(
  deps: TokenDeps,
  current: QboConnection,
  mayRetry: boolean,
): Promise<{ accessToken: string; realmId: string }> {
  const { tenantId } = current;
  let tokens: TokenResponse;
  try {
    tokens = await refreshTokens(deps.config, decrypt(deps.encryptionKey, current.refreshToken));
  } catch (error) {
    if (!(error instanceof QuickBooksOAuthError && error.invalidGrant)) throw error;
    // A writer outside the lock (a reconnect, or a holder whose lock expired) may have stored a
    // newer grant while ours was refused: that one is worth one more try.
    const latest = await connectionOf(deps.db, tenantId);
    if (mayRetry && latest?.status === 'active' && latest.refreshToken !== current.refreshToken) {
      return fresh(latest) ? usable(deps, latest) : refresh(deps, latest, false);
    }
    // Only the grant that failed is marked: a newer one stored meanwhile stays usable.
    await deps.db
      .update(qboConnections)
      .set({ status: 'needs_reconnect', updatedAt: new Date() })
      .where(
        and(eq(qboConnections.tenantId, tenantId), eq(qboConnections.refreshToken, current.refreshToken)),
      );
    throw reconnectRequired();
  }
  // Compare-and-set on the refresh token we used, so a reconnect that landed meanwhile is not overwritten.
  const stored = await deps.db
    .update(qboConnections)
    .set(sealed(deps, tokens))
    .where(and(eq(qboConnections.tenantId, tenantId), eq(qboConnections.refreshToken, current.refreshToken)))
    .returning({ tenantId: qboConnections.tenantId });
  if (stored.length === 0) return usable(deps, await readConnection(deps.db, tenantId));
  return { accessToken: tokens.access_token, realmId: current.realmId };
}

/**
 * Forgets the tenant's company and revokes the grant at Intuit. The row goes first: a revoke
 * Intuit does not answer must not keep a connection the admin asked to end, so its failure is
 * only logged.
 */
export async function disconnect(
  deps: TokenDeps & { logger: Logger },
  tenantId: string,
): Promise<{ realmId: string }> {
  const removed = await withLock(deps.redis, lockKey(tenantId), async () => {
    const [row] = await deps.db
      .delete(qboConnections)
      .where(eq(qboConnections.tenantId, tenantId))
      .returning();
    return row;
  });
  if (!removed) throw new DomainError('quickbooks_not_connected', 'no QuickBooks company is connected');
  await forgetCustomers(deps.db, tenantId);
  await revokeQuietly(deps, removed, decrypt(deps.encryptionKey, removed.refreshToken));
  return { realmId: removed.realmId };
}

/** Ends a grant the app no longer stores; the outcome is logged, never the token. */
export async function revokeQuietly(
  deps: { config: Config; logger: Logger },
  of: { tenantId: string; realmId: string },
  refreshToken: string,
): Promise<void> {
  const where = { tenantId: of.tenantId, realmId: of.realmId };
  try {
    await revokeToken(deps.config, refreshToken);
    deps.logger.info(where, 'QuickBooks grant revoked');
  } catch (error) {
    const detail =
      error instanceof QuickBooksOAuthError
        ? { error: error.error, intuitTid: error.intuitTid, message: error.message }
        : { message: error instanceof Error ? error.message : String(error) };
    deps.logger.warn(
      { ...where, ...detail },
      'revoking the QuickBooks grant failed; it was forgotten anyway',
    );
  }
}
