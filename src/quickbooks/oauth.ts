import { z } from 'zod';
import type { Config } from '../config.ts';
import { DomainError } from '../domain/errors.ts';

/** Invoices, customers, items and payments: the accounting scope is all the app needs. */
export const SCOPE = 'com.intuit.quickbooks.accounting';

const TokenResponse = z.object({
  access_token: z.string().min(1),
  refresh_token: z.string().min(1),
  expires_in: z.number().int().positive(),
  // Seconds the refresh token has left; Intuit sends it, but the connection works without it.
  x_refresh_token_expires_in: z.number().int().positive().optional(),
});
export type TokenResponse = z.infer<typeof TokenResponse>;

const OAuthErrorBody = z.object({
  error: z.string().optional(),
  error_description: z.string().optional(),
});

/**
 * Intuit refused (or never answered) an OAuth request. `error` is Intuit's code (`invalid_grant`,
 * `invalid_client`, …) or ours (`http_<status>`, `network_error`, `invalid_response`);
 * `intuitTid` is what Intuit support asks for. Messages never carry a token.
 */
export class QuickBooksOAuthError extends Error {
  constructor(
    readonly error: string,
    readonly intuitTid: string | undefined,
    message: string,
  ) {
    super(message);
    this.name = 'QuickBooksOAuthError';
  }
  /** The grant is gone (rotated away, revoked, expired): only a reconnect helps. */
  get invalidGrant(): boolean {
    return this.error === 'invalid_grant';
  }
}

export function quickbooksApp(config: Config) {
  const { clientId, clientSecret } = config.quickbooks;
  if (!clientId || !clientSecret) {
    throw new DomainError(
      'unavailable',
      'the QuickBooks app is not configured: set QBO_CLIENT_ID and QBO_CLIENT_SECRET',
    );
  }
  return { clientId, clientSecret, redirectUri: `${config.publicUrl}/oauth/quickbooks/callback` };
}

export function authorizeUrl(config: Config, state: string): string {
  const app = quickbooksApp(config);
  const url = new URL(config.quickbooks.authUrl);
  url.searchParams.set('client_id', app.clientId);
  url.searchParams.set('response_type', 'code');
  url.searchParams.set('scope', SCOPE);
  url.searchParams.set('redirect_uri', app.redirectUri);
  url.searchParams.set('state', state);
  return url.toString();
}

/** client_secret_basic, joined as Intuit's own SDK joins it (Intuit's ids and secrets are alphanumeric). */
function basicAuth(config: Config): string {
  const app = quickbooksApp(config);
  return `Basic ${Buffer.from(`${app.clientId}:${app.clientSecret}`).toString('base64')}`;
}

type Body = { form: Record<string, string> } | { json: Record<string, string> };

async function post(config: Config, url: string, what: string, body: Body) {
  try {
    return await fetch(url, {
      method: 'POST',
      headers: {
        authorization: basicAuth(config),
        'content-type': 'form' in body ? 'application/x-www-form-urlencoded' : 'application/json',
        accept: 'application/json',
      },
      body: 'form' in body ? new URLSearchParams(body.form) : JSON.stringify(body.json),
      signal: AbortSignal.timeout(15_000),
    });
  } catch (error) {
    if (error instanceof DomainError) throw error;
    // Only the cause's own message: the request (and its token) is never echoed.
    const reason = error instanceof Error ? error.message : String(error);
    throw new QuickBooksOAuthError('network_error', undefined, `Intuit's ${what} did not answer: ${reason}`);
  }
}

async function refusal(response: Response, what: string): Promise<QuickBooksOAuthError> {
  const tid = response.headers.get('intuit_tid') ?? undefined;
  const body = OAuthErrorBody.safeParse(await response.json().catch(() => ({})));
  const error = body.data?.error ?? `http_${response.status}`;
  const description = body.data?.error_description ?? response.statusText;
  return new QuickBooksOAuthError(
    error,
    tid,
    `Intuit refused the ${what}: ${error}${description ? ` (${description})` : ''}${tid ? ` [intuit_tid ${tid}]` : ''}`,
  );
}

async function tokenRequest(config: Config, form: Record<string, string>): Promise<TokenResponse> {
  const response = await post(config, config.quickbooks.tokenUrl, 'token request', { form });
  if (!response.ok) throw await refusal(response, 'token request');
  const tid = response.headers.get('intuit_tid') ?? undefined;
  const parsed = TokenResponse.safeParse(await response.json().catch(() => undefined));
  if (!parsed.success) {
    // Paths only: the body holds tokens, which must not reach a message or a log.
    const fields = parsed.error.issues.map((i) => i.path.join('.') || '(body)').join(', ');
    throw new QuickBooksOAuthError(
      'invalid_response',
      tid,
      `Intuit's token response is not what OAuth promises (check ${fields})`,
    );
  }
  return parsed.data;
}

export function exchangeCode(config: Config, code: string): Promise<TokenResponse> {
  return tokenRequest(config, {
    grant_type: 'authorization_code',
    code,
    redirect_uri: quickbooksApp(config).redirectUri,
  });
}

/** Intuit rotates the refresh token: the one in the answer is the only one that works afterwards. */
export function refreshTokens(config: Config, refreshToken: string): Promise<TokenResponse> {
  return tokenRequest(config, { grant_type: 'refresh_token', refresh_token: refreshToken });
}

/**
 * Revoking the refresh token ends the app's connection to the company. A JSON body, as Intuit's
 * own client (intuit-oauth) sends it.
 */
export async function revokeToken(config: Config, token: string): Promise<void> {
  const response = await post(config, config.quickbooks.revokeUrl, 'revoke request', { json: { token } });
  if (!response.ok) throw await refusal(response, 'revoke request');
  await response.body?.cancel();
}
