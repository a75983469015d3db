import { z } from 'zod';
import type { Config } from '../config.ts';
import { DomainError } from '../domain/errors.ts';

/** What the app asks a portal for (DESIGN §4.5 and plugin-manifest/src/app/app-hsmeta.json). */
export const SCOPES = [
  'oauth',
  'crm.objects.deals.read',
  'crm.objects.deals.write',
  'crm.objects.companies.read',
  'crm.objects.contacts.read',
  'crm.objects.contacts.write',
  'crm.schemas.deals.write',
];

/**
 * Asked for, not required, at install: owners name deals' owners in the portfolio; `settings.users.read`
 * lets the app ask HubSpot whether a user may manage it (user provisioning, 2026-03).
 */
export const OPTIONAL_SCOPES = ['crm.objects.owners.read', 'settings.users.read'];

const TokenResponse = z.object({
  access_token: z.string().min(1),
  refresh_token: z.string().min(1),
  expires_in: z.number().int().positive(),
  hub_id: z.number().int().optional(),
  user_id: z.number().int().optional(),
  scopes: z.array(z.string()).optional(),
});
export type TokenResponse = z.infer<typeof TokenResponse>;

const Introspection = z.object({
  active: z.boolean().optional(),
  hub_id: z.number().int(),
  hub_domain: z.string().optional(),
  user: z.string().optional(),
});

const OAuthErrorBody = z.object({
  error: z.string().optional(),
  error_description: z.string().optional(),
  status: z.string().optional(),
  message: z.string().optional(),
});

/** HubSpot refused a token request; `revoked` means the install must be authorised again. */
export class HubSpotOAuthError extends Error {
  constructor(
    readonly error: string,
    readonly status: string | undefined,
    message: string,
  ) {
    super(message);
  }
  get revoked(): boolean {
    return this.error === 'invalid_grant' || this.status === 'BAD_REFRESH_TOKEN';
  }
}

export function hubspotApp(config: Config) {
  const { clientId, clientSecret } = config.hubspot;
  if (!clientId || !clientSecret) {
    throw new DomainError(
      'unavailable',
      'the HubSpot app is not configured: set HUBSPOT_CLIENT_ID and HUBSPOT_CLIENT_SECRET',
    );
  }
  return { clientId, clientSecret, redirectUri: `${config.publicUrl}/oauth/hubspot/callback` };
}

export function authorizeUrl(config: Config, state: string): string {
  const app = hubspotApp(config);
  const url = new URL(config.hubspot.authUrl);
  url.searchParams.set('client_id', app.clientId);
  url.searchParams.set('redirect_uri', app.redirectUri);
  url.searchParams.set('scope', SCOPES.join(' '));
  url.searchParams.set('optional_scope', OPTIONAL_SCOPES.join(' '));
  url.searchParams.set('state', state);
  return url.toString();
}

/**
 * The dated token endpoint: @hubspot/api-client 13 only wraps /oauth/v1, which HubSpot removes on
 * 2027-02-16, so the form post is made here.
 */
async function tokenRequest(config: Config, path: string, form: Record<string, string>): Promise<unknown> {
  const response = await fetch(`${config.hubspot.apiBaseUrl}/oauth/2026-03/${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
    body: new URLSearchParams(form),
    signal: AbortSignal.timeout(15_000),
  });
  const body = await response.json().catch(() => ({}));
  if (!response.ok) {
    const parsed = OAuthErrorBody.safeParse(body);
    const error = parsed.data?.error ?? `http_${response.status}`;
    const description = parsed.data?.error_description ?? parsed.data?.message ?? response.statusText;
    throw new HubSpotOAuthError(
      error,
      parsed.data?.status,
      `HubSpot refused the token request: ${error} (${description})`,
    );
  }
  return body;
}

export async function exchangeCode(config: Config, code: string): Promise<TokenResponse> {
  const app = hubspotApp(config);
  return TokenResponse.parse(
    await tokenRequest(config, 'token', {
      grant_type: 'authorization_code',
      client_id: app.clientId,
      client_secret: app.clientSecret,
      redirect_uri: app.redirectUri,
      code,
    }),
  );
}

export async function refreshTokens(config: Config, refreshToken: string): Promise<TokenResponse> {
  const app = hubspotApp(config);
  return TokenResponse.parse(
    await tokenRequest(config, 'token', {
      grant_type: 'refresh_token',
      client_id: app.clientId,
      client_secret: app.clientSecret,
      refresh_token: refreshToken,
    }),
  );
}

/** The portal behind an access token, with its domain (used to name a new tenant). */
export async function introspect(config: Config, accessToken: string) {
  const app = hubspotApp(config);
  return Introspection.parse(
    await tokenRequest(config, 'token/introspect', {
      client_id: app.clientId,
      client_secret: app.clientSecret,
      token: accessToken,
      token_type_hint: 'access_token',
    }),
  );
}
