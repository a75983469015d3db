import type { Config } from '../config.ts';
import { DomainError } from '../domain/errors.ts';
import { type IssuedTokens, type TokenStoreDeps, tokenStore } from '../oauth/token-store.ts';
import { HubSpotOAuthError, refreshTokens, type TokenResponse } from './oauth.ts';

export const issued = (tokens: TokenResponse): IssuedTokens => ({
  accessToken: tokens.access_token,
  refreshToken: tokens.refresh_token,
  expiresInS: tokens.expires_in,
  scopes: tokens.scopes,
});

const reauthRequired = () =>
  new DomainError(
    'hubspot_reauth_required',
    'HubSpot revoked the app’s access; install the app again to reconnect',
  );

/** The portal's HubSpot grant in the one token store. */
export function hubspotTokens(deps: TokenStoreDeps & { config: Config }) {
  return tokenStore(deps, {
    provider: 'hubspot',
    refresh: async (refreshToken) => issued(await refreshTokens(deps.config, refreshToken)),
    isRevoked: (error) => error instanceof HubSpotOAuthError && error.revoked,
    missing: () =>
      new DomainError('hubspot_not_installed', 'the app is not installed in this HubSpot portal'),
    revoked: reauthRequired,
  });
}
