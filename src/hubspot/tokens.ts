import { eq } from 'drizzle-orm';
import type { TokenDeps } from '../context.ts';
import { DomainError } from '../domain/errors.ts';
import { decrypt, encrypt } from '../security/crypto.ts';
import { withLock } from '../security/redis-lock.ts';
import type { Queryable } from '../store/db.ts';
import { hubspotInstalls } from '../store/schema.ts';
import { HubSpotOAuthError, refreshTokens, type TokenResponse } from './oauth.ts';

/** Refresh this long before expiry so no request goes out with a token about to lapse. */
const REFRESH_MARGIN_MS = 5 * 60_000;

export type { TokenDeps };

/** Stores a portal's tokens (encrypted); a re-install of the same portal replaces them. */
export async function saveInstall(
  deps: TokenDeps,
  tenantId: string,
  portalId: string,
  tokens: TokenResponse,
  installedBy?: string,
): Promise<void> {
  const values = {
    accessToken: encrypt(deps.encryptionKey, tokens.access_token),
    refreshToken: encrypt(deps.encryptionKey, tokens.refresh_token),
    expiresAt: new Date(Date.now() + tokens.expires_in * 1000),
    scopes: tokens.scopes ?? [],
    status: 'active' as const,
    updatedAt: new Date(),
  };
  await deps.db
    .insert(hubspotInstalls)
    .values({ tenantId, portalId, installedBy: installedBy ?? null, ...values })
    .onConflictDoUpdate({ target: hubspotInstalls.tenantId, set: values });
}

async function readInstall(db: Queryable, tenantId: string) {
  const [install] = await db.select().from(hubspotInstalls).where(eq(hubspotInstalls.tenantId, tenantId));
  if (!install)
    throw new DomainError('hubspot_not_installed', 'the app is not installed in this HubSpot portal');
  if (install.status === 'needs_reauth') {
    throw new DomainError(
      'hubspot_reauth_required',
      'HubSpot revoked the app’s access; install the app again to reconnect',
    );
  }
  return install;
}

/**
 * A valid access token for the tenant's portal. Refreshing is single-flight across processes:
 * one holder of a Redis lock refreshes, re-reading the stored tokens first in case another
 * process just did; the new tokens are stored before anyone uses them.
 */
export async function accessToken(
  deps: TokenDeps,
  tenantId: string,
  opts: { force?: boolean } = {},
): Promise<string> {
  const install = await readInstall(deps.db, tenantId);
  const fresh = (i: typeof install) => i.expiresAt.getTime() - Date.now() > REFRESH_MARGIN_MS;
  if (fresh(install) && !opts.force) return decrypt(deps.encryptionKey, install.accessToken);
  return withLock(deps.redis, `lock:hubspot-refresh:${tenantId}`, async () => {
    const current = await readInstall(deps.db, tenantId);
    const refreshedMeanwhile = current.accessToken !== install.accessToken;
    if (fresh(current) && (!opts.force || refreshedMeanwhile))
      return decrypt(deps.encryptionKey, current.accessToken);
    try {
      const tokens = await refreshTokens(deps.config, decrypt(deps.encryptionKey, current.refreshToken));
      await saveInstall(deps, tenantId, current.portalId, tokens);
      return tokens.access_token;
    } catch (error) {
      if (error instanceof HubSpotOAuthError && error.revoked) {
        await deps.db
          .update(hubspotInstalls)
          .set({ status: 'needs_reauth', updatedAt: new Date() })
          .where(eq(hubspotInstalls.tenantId, tenantId));
        throw new DomainError(
          'hubspot_reauth_required',
          'HubSpot revoked the app’s access; install the app again to reconnect',
        );
      }
      throw error;
    }
  });
}
