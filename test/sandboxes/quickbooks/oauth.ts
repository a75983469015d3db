import express, { type Request, type Response } from 'express';
import { consentPage, oauthErrorPage } from './oauth-pages.ts';
import { intuitTid, randomToken } from './util.ts';

export type ConsentMode = 'approve' | 'prompt' | 'deny';

export interface OAuthConfig {
  clientId: string;
  clientSecret: string;
  /** Empty = accept any http(s) redirect URI. */
  redirectUris: string[];
  accessTokenTtlSeconds: number;
  refreshTokenTtlSeconds: number;
  defaultRealmId?: string;
  consent: ConsentMode;
}

export interface TokenResponse {
  token_type: 'bearer';
  access_token: string;
  expires_in: number;
  refresh_token: string;
  x_refresh_token_expires_in: number;
  x_refresh_token_hard_expires_in?: number;
}

export interface TokenRequestRecord {
  grantType: string;
  status: number;
  error?: string;
  at: string;
}

/** One call of the revoke endpoint, with the body's content type (form or JSON, both accepted). */
export interface RevokeRecord {
  contentType: string;
  status: number;
  at: string;
}

interface Grant {
  clientId: string;
  realmId: string;
  refreshToken: string;
  revoked: boolean;
  createdAt: number;
}

interface AccessToken {
  grantId: string;
  realmId: string;
  expiresAt: number;
}

interface AuthCode {
  clientId: string;
  redirectUri: string;
  realmId: string;
  expiresAt: number;
  used: boolean;
  grantId?: string;
}

export type AuthCheck =
  | { ok: true; realmId: string }
  | { ok: false; status: 401 | 403; kind: 'expired' | 'invalid' | 'revoked' | 'forbidden' };

const CODE_TTL_MS = 10 * 60_000;
const HARD_CAP_SECONDS = 5 * 365 * 24 * 3600;

/** Intuit's OAuth 2.0 server with the worst-case rotation rule: a superseded refresh token dies at once. */
export class OAuthServer {
  private readonly grants = new Map<string, Grant>();
  /** Every refresh token ever issued → its grant; only `grant.refreshToken` is still valid. */
  private readonly refreshTokens = new Map<string, string>();
  private readonly accessTokens = new Map<string, AccessToken>();
  private readonly codes = new Map<string, AuthCode>();
  readonly tokenLog: TokenRequestRecord[] = [];
  readonly revocations: RevokeRecord[] = [];
  /** Access tokens issued before this instant count as expired (per realm or '*' for all). */
  private readonly expiredBefore = new Map<string, number>();

  constructor(
    readonly config: OAuthConfig,
    private readonly realmIds: () => string[],
    private readonly faults: () => { expireTokens?: boolean; invalidGrant?: boolean },
  ) {}

  /** Mints a fresh grant without the browser dance, for tests and benchmarks. */
  issue(realmId: string, clientId = this.config.clientId): TokenResponse {
    return this.tokenResponse(this.createGrant(realmId, clientId), false);
  }

  private createGrant(realmId: string, clientId: string): string {
    const grantId = randomToken('g', 12);
    const refreshToken = this.newRefreshToken();
    this.grants.set(grantId, { clientId, realmId, refreshToken, revoked: false, createdAt: Date.now() });
    this.refreshTokens.set(refreshToken, grantId);
    return grantId;
  }

  private newRefreshToken(): string {
    return `RT1-${Math.floor(Math.random() * 900 + 100)}-H0-${Math.floor(Date.now() / 1000)}${randomToken('', 18)}`;
  }

  private tokenResponse(grantId: string, includeHardExpiry: boolean): TokenResponse {
    const grant = this.grants.get(grantId) as Grant;
    const accessToken = `eyJlbmMiOiJBMTI4Q0JDLUhTMjU2IiwiYWxnIjoiZGlyIn0..${randomToken('', 48)}`;
    this.accessTokens.set(accessToken, {
      grantId,
      realmId: grant.realmId,
      expiresAt: Date.now() + this.config.accessTokenTtlSeconds * 1000,
    });
    return {
      token_type: 'bearer',
      access_token: accessToken,
      expires_in: this.config.accessTokenTtlSeconds,
      refresh_token: grant.refreshToken,
      x_refresh_token_expires_in: this.config.refreshTokenTtlSeconds,
      ...(includeHardExpiry
        ? {
            x_refresh_token_hard_expires_in:
              HARD_CAP_SECONDS - Math.floor((Date.now() - grant.createdAt) / 1000),
          }
        : {}),
    };
  }

  authenticate(authorization: string | undefined, realmId: string): AuthCheck {
    const match = /^Bearer\s+(\S+)$/i.exec(authorization ?? '');
    if (!match) return { ok: false, status: 401, kind: 'invalid' };
    const token = this.accessTokens.get(match[1] as string);
    if (!token) return { ok: false, status: 401, kind: 'invalid' };
    const grant = this.grants.get(token.grantId);
    if (!grant || grant.revoked) return { ok: false, status: 401, kind: 'revoked' };
    const issuedAt = token.expiresAt - this.config.accessTokenTtlSeconds * 1000;
    const cutoff = Math.max(this.expiredBefore.get('*') ?? 0, this.expiredBefore.get(token.realmId) ?? 0);
    if (this.faults().expireTokens || Date.now() >= token.expiresAt || issuedAt < cutoff) {
      return { ok: false, status: 401, kind: 'expired' };
    }
    if (token.realmId !== realmId) return { ok: false, status: 403, kind: 'forbidden' };
    return { ok: true, realmId };
  }

  expire(realmId?: string): void {
    // +1 so tokens minted in this same millisecond are caught too.
    this.expiredBefore.set(realmId ?? '*', Date.now() + 1);
  }

  private clientFrom(req: Request): { id: string; secret: string } | undefined {
    const basic = /^Basic\s+(\S+)$/i.exec(req.get('authorization') ?? '');
    if (basic) {
      const decoded = Buffer.from(basic[1] as string, 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      if (colon < 0) return undefined;
      return {
        id: decodeURIComponent(decoded.slice(0, colon)),
        secret: decodeURIComponent(decoded.slice(colon + 1)),
      };
    }
    const body = (req.body ?? {}) as Record<string, unknown>;
    if (typeof body.client_id === 'string' && typeof body.client_secret === 'string') {
      return { id: body.client_id, secret: body.client_secret };
    }
    return undefined;
  }

  private clientValid(client: { id: string; secret: string } | undefined): boolean {
    return (
      client !== undefined && client.id === this.config.clientId && client.secret === this.config.clientSecret
    );
  }

  private redirectAllowed(uri: string): boolean {
    if (this.config.redirectUris.length > 0) return this.config.redirectUris.includes(uri);
    return /^https?:\/\//.test(uri);
  }

  router(): express.Router {
    const router = express.Router();
    router.use((_req, res, next) => {
      res.set('intuit_tid', intuitTid());
      next();
    });

    router.get('/connect/oauth2', (req, res) => this.authorize(req, res));
    router.post('/connect/oauth2/consent', express.urlencoded({ extended: false }), (req, res) =>
      this.consent(req, res),
    );
    router.post(
      '/oauth2/v1/tokens/bearer',
      express.urlencoded({ extended: false }),
      express.json(),
      (req, res) => this.token(req, res),
    );
    router.post(
      '/v2/oauth2/tokens/revoke',
      express.urlencoded({ extended: false }),
      express.json(),
      (req, res) => this.revoke(req, res),
    );
    return router;
  }

  private authorize(req: Request, res: Response): void {
    const q = req.query as Record<string, string | undefined>;
    if (q.client_id !== this.config.clientId) {
      res.status(400).type('html').send(oauthErrorPage('invalid_client', 'The client_id is not registered.'));
      return;
    }
    const redirectUri = q.redirect_uri ?? '';
    if (!this.redirectAllowed(redirectUri)) {
      res
        .status(400)
        .type('html')
        .send(
          oauthErrorPage(
            'invalid_request',
            "The redirect_uri does not match the app's registered redirect URIs.",
          ),
        );
      return;
    }
    const bounce = (params: Record<string, string | undefined>) => {
      const url = new URL(redirectUri);
      for (const [k, v] of Object.entries(params)) if (v !== undefined) url.searchParams.set(k, v);
      res.redirect(302, url.toString());
    };
    if (q.response_type !== 'code') {
      bounce({ error: 'unsupported_response_type', state: q.state });
      return;
    }
    const scopes = (q.scope ?? '').split(/[\s+]+/).filter(Boolean);
    if (
      !scopes.includes('com.intuit.quickbooks.accounting') &&
      !scopes.includes('com.intuit.quickbooks.payment')
    ) {
      bounce({ error: 'invalid_scope', state: q.state });
      return;
    }
    const realms = this.realmIds();
    const realmId = this.config.defaultRealmId ?? realms[0];
    if (!realmId) {
      res
        .status(400)
        .type('html')
        .send(oauthErrorPage('no_company', 'There is no QuickBooks company to connect. Add a realm first.'));
      return;
    }
    if (this.config.consent === 'deny') {
      bounce({ error: 'access_denied', state: q.state });
      return;
    }
    if (this.config.consent === 'prompt') {
      res.type('html').send(
        consentPage({
          clientId: this.config.clientId,
          redirectUri,
          state: q.state ?? '',
          realms,
          selected: realmId,
        }),
      );
      return;
    }
    bounce({ code: this.newCode(redirectUri, realmId), state: q.state, realmId });
  }

  private consent(req: Request, res: Response): void {
    const body = req.body as Record<string, string | undefined>;
    const redirectUri = body.redirect_uri ?? '';
    if (body.client_id !== this.config.clientId || !this.redirectAllowed(redirectUri)) {
      res.status(400).type('html').send(oauthErrorPage('invalid_request', 'Invalid consent submission.'));
      return;
    }
    const url = new URL(redirectUri);
    if (body.decision !== 'approve') {
      url.searchParams.set('error', 'access_denied');
    } else {
      const realmId =
        body.realmId && this.realmIds().includes(body.realmId) ? body.realmId : (this.realmIds()[0] ?? '');
      url.searchParams.set('code', this.newCode(redirectUri, realmId));
      url.searchParams.set('realmId', realmId);
    }
    if (body.state) url.searchParams.set('state', body.state);
    res.redirect(302, url.toString());
  }

  private newCode(redirectUri: string, realmId: string): string {
    const code = randomToken('AB11', 30);
    this.codes.set(code, {
      clientId: this.config.clientId,
      redirectUri,
      realmId,
      expiresAt: Date.now() + CODE_TTL_MS,
      used: false,
    });
    return code;
  }

  private token(req: Request, res: Response): void {
    const body = (req.body ?? {}) as Record<string, string | undefined>;
    const grantType = body.grant_type ?? '(missing)';
    const reply = (status: number, payload: object, error?: string) => {
      this.tokenLog.push({ grantType, status, ...(error ? { error } : {}), at: new Date().toISOString() });
      res
        .status(status)
        .set('Cache-Control', 'no-store')
        .type('application/json;charset=UTF-8')
        .send(JSON.stringify(payload));
    };
    const client = this.clientFrom(req);
    if (!this.clientValid(client)) {
      reply(401, { error: 'invalid_client' }, 'invalid_client');
      return;
    }
    const wantsHardExpiry = req.get('x-include-refresh-token-hard-expires-in') === 'true';
    if (grantType === 'authorization_code') {
      if (!body.code || !body.redirect_uri) {
        reply(400, { error: 'invalid_request' }, 'invalid_request');
        return;
      }
      const code = this.codes.get(body.code);
      if (
        !code ||
        code.expiresAt < Date.now() ||
        code.clientId !== client?.id ||
        code.redirectUri !== body.redirect_uri
      ) {
        reply(400, { error: 'invalid_grant' }, 'invalid_grant');
        return;
      }
      if (code.used) {
        // RFC 6749 §4.1.2: a replayed code revokes what it already produced.
        const grant = code.grantId ? this.grants.get(code.grantId) : undefined;
        if (grant) grant.revoked = true;
        reply(400, { error: 'invalid_grant' }, 'invalid_grant');
        return;
      }
      code.used = true;
      code.grantId = this.createGrant(code.realmId, code.clientId);
      reply(200, this.tokenResponse(code.grantId, wantsHardExpiry));
      return;
    }
    if (grantType === 'refresh_token') {
      if (!body.refresh_token) {
        reply(400, { error: 'invalid_request' }, 'invalid_request');
        return;
      }
      const grantId = this.refreshTokens.get(body.refresh_token);
      const grant = grantId ? this.grants.get(grantId) : undefined;
      const valid =
        grant && !grant.revoked && grant.refreshToken === body.refresh_token && grant.clientId === client?.id;
      if (this.faults().invalidGrant || !valid || !grantId) {
        reply(400, { error: 'invalid_grant', error_description: 'Token invalid' }, 'invalid_grant');
        return;
      }
      grant.refreshToken = this.newRefreshToken();
      this.refreshTokens.set(grant.refreshToken, grantId);
      reply(200, this.tokenResponse(grantId, wantsHardExpiry));
      return;
    }
    reply(400, { error: 'unsupported_grant_type' }, 'unsupported_grant_type');
  }

  private revoke(req: Request, res: Response): void {
    res.on('finish', () =>
      this.revocations.push({
        contentType: req.get('content-type') ?? '',
        status: res.statusCode,
        at: new Date().toISOString(),
      }),
    );
    if (!this.clientValid(this.clientFrom(req))) {
      res
        .status(401)
        .type('application/json')
        .send(JSON.stringify({ error: 'invalid_client' }));
      return;
    }
    const token = (req.body as Record<string, unknown> | undefined)?.token;
    if (typeof token !== 'string' || !token) {
      res
        .status(400)
        .type('application/json')
        .send(JSON.stringify({ error: 'invalid_request' }));
      return;
    }
    const grantId = this.refreshTokens.get(token) ?? this.accessTokens.get(token)?.grantId;
    const grant = grantId ? this.grants.get(grantId) : undefined;
    if (grant) grant.revoked = true;
    this.tokenLog.push({ grantType: 'revoke', status: 200, at: new Date().toISOString() });
    // RFC 7009: unknown tokens are answered 200 as well.
    res.status(200).end();
  }

  counts(): Record<string, number> {
    const counts: Record<string, number> = {};
    for (const r of this.tokenLog) counts[r.grantType] = (counts[r.grantType] ?? 0) + 1;
    return counts;
  }
}
