import { eq } from 'drizzle-orm';
import type { Config } from '../config.ts';
import { DomainError } from '../domain/errors.ts';
import type { Logger } from '../log.ts';
import { type IssuedTokens, type TokenStoreDeps, tokenStore } from '../oauth/token-store.ts';
import { decrypt } from '../security/crypto.ts';
import type { Db } from '../store/db.ts';
import { customerMappings, qboConnections } from '../store/schema.ts';
import { QuickBooksOAuthError, refreshTokens, revokeToken, type TokenResponse } from './oauth.ts';

export type ConnectionDeps = TokenStoreDeps & { config: Config; logger: Logger };

export const issued = (tokens: TokenResponse): IssuedTokens => ({
  accessToken: tokens.access_token,
  refreshToken: tokens.refresh_token,
  expiresInS: tokens.expires_in,
  refreshExpiresInS: tokens.x_refresh_token_expires_in,
});

export const reconnectRequired = () =>
  new DomainError(
    'quickbooks_reconnect_required',
    'QuickBooks refused the stored authorisation; reconnect QuickBooks',
  );

const notConnected = () => new DomainError('quickbooks_not_connected', 'no QuickBooks company is connected');

/** The tenant's QuickBooks grant in the one token store; Intuit rotates refresh tokens. */
export function quickbooksTokens(deps: TokenStoreDeps & { config: Config }) {
  return tokenStore(deps, {
    provider: 'quickbooks',
    refresh: async (refreshToken) => issued(await refreshTokens(deps.config, refreshToken)),
    isRevoked: (error) => error instanceof QuickBooksOAuthError && error.invalidGrant,
    missing: notConnected,
    revoked: reconnectRequired,
  });
}

export type QboConnection = typeof qboConnections.$inferSelect;

export async function connectionOf(db: Db, tenantId: string): Promise<QboConnection | undefined> {
  const [row] = await db.select().from(qboConnections).where(eq(qboConnections.tenantId, tenantId));
  return row;
}

export async function realmHolder(db: Db, realmId: string): Promise<string | undefined> {
  const [row] = await db
    .select({ tenantId: qboConnections.tenantId })
    .from(qboConnections)
    .where(eq(qboConnections.realmId, realmId));
  return row?.tenantId;
}

/**
 * Binds a company to the tenant with fresh tokens. Reconnecting replaces the tokens and clears
 * "needs reconnect"; the realm's unique index refuses a company another tenant holds. Switching
 * companies ends the old company's grant, which would otherwise stay alive with no one holding it.
 */
export async function saveConnection(
  deps: ConnectionDeps,
  tenantId: string,
  realmId: string,
  tokens: TokenResponse,
): Promise<void> {
  const store = quickbooksTokens(deps);
  const previous = await connectionOf(deps.db, tenantId);
  const switched = previous && previous.realmId !== realmId ? previous : undefined;
  const oldGrant = switched && (await store.find(tenantId));
  await deps.db
    .insert(qboConnections)
    .values({ tenantId, realmId })
    .onConflictDoUpdate({
      target: qboConnections.tenantId,
      // Another company's facts must not survive a switch of company, and a reconnect reads the
      // same company's again (its settings may have changed meanwhile).
      set: switched
        ? { realmId, company: null, connectedAt: new Date(), updatedAt: new Date() }
        : { company: null, updatedAt: new Date() },
    });
  if (switched) await forgetCustomers(deps.db, tenantId);
  await store.save(tenantId, issued(tokens));
  if (switched && oldGrant) {
    await revokeQuietly(deps, switched, decrypt(deps.encryptionKey, oldGrant.refreshToken));
  }
}

/**
 * Customer ids belong to one QuickBooks company: kept across a switch of company they would bill
 * whoever holds the same id in the new one.
 */
async function forgetCustomers(db: Db, tenantId: string): Promise<void> {
  await db.delete(customerMappings).where(eq(customerMappings.tenantId, tenantId));
}

/** A valid access token for the tenant's company, with the company it is for. */
export async function qboAccessToken(
  deps: TokenStoreDeps & { config: Config },
  tenantId: string,
  opts: { force?: boolean } = {},
): Promise<{ accessToken: string; realmId: string }> {
  const connection = await connectionOf(deps.db, tenantId);
  if (!connection) throw notConnected();
  const accessToken = await quickbooksTokens(deps).accessToken(tenantId, opts);
  return { accessToken, realmId: connection.realmId };
}

/**
 * Forgets the tenant's company and revokes the grant at Intuit. The rows go first: a revoke
 * Intuit does not answer must not keep a connection the admin asked to end, so its failure is
 * only logged.
 */
export async function disconnect(deps: ConnectionDeps, tenantId: string): Promise<{ realmId: string }> {
  let removed: QboConnection | undefined;
  const refreshToken = await quickbooksTokens(deps).remove(tenantId, async () => {
    [removed] = await deps.db.delete(qboConnections).where(eq(qboConnections.tenantId, tenantId)).returning();
  });
  if (!removed) throw notConnected();
  await forgetCustomers(deps.db, tenantId);
  if (refreshToken) await revokeQuietly(deps, removed, refreshToken);
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
