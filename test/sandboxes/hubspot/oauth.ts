import { randomBytes, randomUUID } from 'node:crypto';
import express, { type Request, type Response, Router } from 'express';
import type { SandboxContext } from './context.ts';
import { correlationId, sendError } from './errors.ts';
import type { AccessTokenRecord, Portal, RefreshTokenRecord } from './types.ts';

const AUTH_CODE_TTL_MS = 10 * 60 * 1000;

/** HubSpot access tokens are opaque base64url blobs of ~60-300 chars; length here is ~70. */
function newAccessToken(): string {
  return `C${randomBytes(52).toString('base64url')}`;
}

export function issueRefreshToken(ctx: SandboxContext, portal: Portal, scopes: string[]): RefreshTokenRecord {
  const record: RefreshTokenRecord = {
    token: randomUUID(),
    portalId: portal.id,
    userId: portal.userId,
    userEmail: portal.userEmail,
    scopes,
    clientId: ctx.config.clientId,
    revoked: false,
  };
  ctx.state.refreshTokens.set(record.token, record);
  return record;
}

export function issueAccessToken(ctx: SandboxContext, refresh: RefreshTokenRecord): AccessTokenRecord {
  const now = Date.now();
  const record: AccessTokenRecord = {
    token: newAccessToken(),
    portalId: refresh.portalId,
    userId: refresh.userId,
    userEmail: refresh.userEmail,
    scopes: refresh.scopes,
    clientId: refresh.clientId,
    issuedAt: now,
    expiresAt: now + ctx.config.accessTokenTtlSeconds * 1000,
    revoked: false,
    refreshToken: refresh.token,
  };
  ctx.state.accessTokens.set(record.token, record);
  return record;
}

function tokenResponse(access: AccessTokenRecord) {
  return {
    token_type: 'bearer',
    access_token: access.token,
    refresh_token: access.refreshToken,
    expires_in: Math.max(0, Math.round((access.expiresAt - Date.now()) / 1000)),
    token_use: 'access_token',
    hub_id: access.portalId,
    user_id: access.userId,
    scopes: access.scopes,
  };
}

/** HubSpot's standardised OAuth error: RFC 6749 fields plus the legacy `status`/`message`. */
function tokenErrorBody(error: string, status: string, description: string) {
  return {
    error,
    error_description: description,
    status,
    message: description,
    correlationId: correlationId(),
  };
}

function splitScopes(raw: unknown): string[] {
  return typeof raw === 'string' ? raw.split(/[\s+]+/).filter(Boolean) : [];
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function errorPage(res: Response, message: string): void {
  res
    .status(400)
    .type('html')
    .send(
      `<!doctype html><html><head><title>HubSpot – Authorization error</title></head><body><h1>Authorization error</h1><p>${escapeHtml(message)}</p></body></html>`,
    );
}

interface AuthorizeParams {
  clientId: string;
  redirectUri: string;
  scopes: string[];
  optionalScopes: string[];
  state?: string;
  portalHint?: string;
}

function readAuthorizeParams(source: Record<string, unknown>): AuthorizeParams {
  const str = (v: unknown) => (typeof v === 'string' ? v : undefined);
  return {
    clientId: str(source.client_id) ?? '',
    redirectUri: str(source.redirect_uri) ?? '',
    scopes: splitScopes(source.scope),
    optionalScopes: splitScopes(source.optional_scope),
    state: str(source.state),
    portalHint: str(source.portalId),
  };
}

/** Returns an error message, or undefined if the request may proceed to consent. */
function checkAuthorize(ctx: SandboxContext, p: AuthorizeParams): string | undefined {
  if (p.clientId !== ctx.config.clientId)
    return `Authorization failed because the client ID "${p.clientId}" is invalid.`;
  if (!p.redirectUri) return 'Authorization failed because the redirect_uri parameter is missing.';
  try {
    new URL(p.redirectUri);
  } catch {
    return 'Authorization failed because the redirect_uri is not a valid URL.';
  }
  if (ctx.config.redirectUris && !ctx.config.redirectUris.includes(p.redirectUri)) {
    return "Authorization failed because the redirect URI doesn't match any of the app's redirect URLs.";
  }
  if (p.scopes.length === 0) return 'Authorization failed because no scopes were requested.';
  return undefined;
}

function choosePortal(ctx: SandboxContext, hint: string | undefined): Portal | string {
  if (hint) {
    return ctx.state.portals.get(Number(hint)) ?? `No HubSpot account ${hint} exists in this sandbox.`;
  }
  const id = ctx.config.defaultPortalId ?? ctx.state.portals.keys().next().value;
  const portal = id === undefined ? undefined : ctx.state.portals.get(id);
  return portal ?? 'No HubSpot account exists in this sandbox; call addPortal() first.';
}

function redirectWith(res: Response, redirectUri: string, params: Record<string, string | undefined>): void {
  const target = new URL(redirectUri);
  for (const [k, v] of Object.entries(params)) if (v !== undefined) target.searchParams.set(k, v);
  res.redirect(302, target.toString());
}

function approve(ctx: SandboxContext, res: Response, p: AuthorizeParams, portal: Portal): void {
  const code = randomUUID();
  ctx.state.authCodes.set(code, {
    code,
    clientId: p.clientId,
    redirectUri: p.redirectUri,
    portalId: portal.id,
    scopes: [...new Set([...p.scopes, ...p.optionalScopes])],
    expiresAt: Date.now() + AUTH_CODE_TTL_MS,
    used: false,
  });
  redirectWith(res, p.redirectUri, { code, state: p.state });
}

function consentPage(ctx: SandboxContext, p: AuthorizeParams, selected: Portal): string {
  const hidden = (name: string, value: string | undefined) =>
    value === undefined ? '' : `<input type="hidden" name="${name}" value="${escapeHtml(value)}">`;
  const portals = [...ctx.state.portals.values()]
    .map(
      (portal) =>
        `<option value="${portal.id}"${portal.id === selected.id ? ' selected' : ''}>${escapeHtml(portal.hubDomain)} (${portal.id})</option>`,
    )
    .join('');
  const scopeItems = [...p.scopes, ...p.optionalScopes]
    .map((s) => `<li><code>${escapeHtml(s)}</code></li>`)
    .join('');
  return `<!doctype html>
<html><head><meta charset="utf-8"><title>Connect app – HubSpot sandbox</title>
<style>body{font-family:system-ui,sans-serif;max-width:36rem;margin:3rem auto;color:#33475b}
button{padding:.6rem 1.2rem;border-radius:3px;border:0;font-size:1rem;cursor:pointer}
.primary{background:#ff7a59;color:#fff}.secondary{background:#eaf0f6;color:#33475b}</style></head>
<body><h1>Connect app to HubSpot</h1>
<p>App <strong>${escapeHtml(p.clientId)}</strong> is requesting access to:</p><ul>${scopeItems}</ul>
<form method="post" action="/oauth/authorize">
${hidden('client_id', p.clientId)}${hidden('redirect_uri', p.redirectUri)}${hidden('scope', p.scopes.join(' '))}
${hidden('optional_scope', p.optionalScopes.join(' ') || undefined)}${hidden('state', p.state)}
<p><label>Account <select name="portalId">${portals}</select></label></p>
<button class="primary" type="submit" name="decision" value="approve">Connect app</button>
<button class="secondary" type="submit" name="decision" value="deny">Cancel</button>
</form></body></html>`;
}

export function oauthRouter(ctx: SandboxContext): Router {
  const router = Router();
  const form = express.urlencoded({ extended: false, type: 'application/x-www-form-urlencoded' });

  // Real HubSpot serves this on app.hubspot.com; the sandbox serves it on the same origin as the API.
  router.get('/oauth/authorize', (req, res) => {
    const p = readAuthorizeParams(req.query as Record<string, unknown>);
    const problem = checkAuthorize(ctx, p);
    if (problem) return errorPage(res, problem);
    const portal = choosePortal(ctx, p.portalHint);
    if (typeof portal === 'string') return errorPage(res, portal);
    if (ctx.config.autoApprove) return approve(ctx, res, p, portal);
    res.type('html').send(consentPage(ctx, p, portal));
  });

  router.post('/oauth/authorize', form, (req, res) => {
    const body = (req.body ?? {}) as Record<string, unknown>;
    const p = readAuthorizeParams(body);
    const problem = checkAuthorize(ctx, p);
    if (problem) return errorPage(res, problem);
    if (body.decision !== 'approve') {
      return redirectWith(res, p.redirectUri, {
        error: 'access_denied',
        error_description: 'The user declined to install the app.',
        state: p.state,
      });
    }
    const portal = choosePortal(ctx, p.portalHint);
    if (typeof portal === 'string') return errorPage(res, portal);
    approve(ctx, res, p, portal);
  });

  const tokenPaths = ['/oauth/2026-03/token', '/oauth/v3/token', '/oauth/v1/token'];
  router.post(tokenPaths, form, (req, res) => handleToken(ctx, req, res));

  const introspectPaths = ['/oauth/2026-03/token/introspect', '/oauth/v3/token/introspect'];
  router.post(introspectPaths, form, (req, res) => handleIntrospect(ctx, req, res));

  const revokePaths = ['/oauth/2026-03/token/revoke', '/oauth/v3/token/revoke'];
  router.post(revokePaths, form, (req, res) => {
    const body = (req.body ?? {}) as Record<string, string | undefined>;
    const clientProblem = checkClient(ctx, body);
    if (clientProblem) return res.status(400).json(clientProblem);
    const token = body.token ?? '';
    const refresh = ctx.state.refreshTokens.get(token);
    if (refresh) refresh.revoked = true;
    const access = ctx.state.accessTokens.get(token);
    if (access) access.revoked = true;
    res.status(200).end();
  });

  router.get('/oauth/v1/access-tokens/:token', (req, res) => {
    const access = ctx.state.accessTokens.get(req.params.token);
    if (!access || access.revoked || access.expiresAt <= Date.now()) {
      return sendError(res, 404, 'The access token is invalid, expired or revoked.', 'OBJECT_NOT_FOUND');
    }
    const portal = ctx.state.requirePortal(access.portalId);
    res.json({
      token: access.token,
      user: access.userEmail,
      hub_domain: portal.hubDomain,
      scopes: access.scopes,
      hub_id: access.portalId,
      app_id: ctx.config.appId,
      expires_in: Math.round((access.expiresAt - Date.now()) / 1000),
      user_id: access.userId,
      token_type: 'access',
      is_private_distribution: false,
    });
  });

  router.get('/oauth/v1/refresh-tokens/:token', (req, res) => {
    const refresh = ctx.state.refreshTokens.get(req.params.token);
    if (!refresh || refresh.revoked) {
      return sendError(res, 404, 'The refresh token is invalid, expired or revoked.', 'OBJECT_NOT_FOUND');
    }
    const portal = ctx.state.requirePortal(refresh.portalId);
    res.json({
      token: refresh.token,
      user: refresh.userEmail,
      hub_domain: portal.hubDomain,
      scopes: refresh.scopes,
      hub_id: refresh.portalId,
      client_id: refresh.clientId,
      user_id: refresh.userId,
      token_type: 'refresh',
    });
  });

  router.delete('/oauth/v1/refresh-tokens/:token', (req, res) => {
    const refresh = ctx.state.refreshTokens.get(req.params.token);
    if (!refresh)
      return sendError(res, 404, 'The refresh token is invalid, expired or revoked.', 'OBJECT_NOT_FOUND');
    refresh.revoked = true;
    res.status(204).end();
  });

  return router;
}

function checkClient(ctx: SandboxContext, body: Record<string, string | undefined>) {
  if (!body.client_id || body.client_id !== ctx.config.clientId) {
    return tokenErrorBody('invalid_client', 'BAD_CLIENT_ID', 'missing or unknown client id');
  }
  if (!body.client_secret || body.client_secret !== ctx.config.clientSecret) {
    return tokenErrorBody('invalid_client', 'BAD_CLIENT_SECRET', 'missing or invalid client secret');
  }
  return undefined;
}

function handleToken(ctx: SandboxContext, req: Request, res: Response) {
  const body = (req.body ?? {}) as Record<string, string | undefined>;
  const grantType = body.grant_type ?? '';
  const finish = (status: number, payload: Record<string, unknown>, portalId?: number) => {
    ctx.state.tokenRequestLog.push({
      grantType: grantType || '(none)',
      path: req.path,
      status,
      portalId,
      error: typeof payload.status === 'string' && status >= 400 ? payload.status : undefined,
      at: Date.now(),
    });
    res.locals.portalId = portalId;
    res.status(status).json(payload);
  };

  if (!req.is('application/x-www-form-urlencoded')) {
    return finish(
      400,
      tokenErrorBody(
        'invalid_request',
        'BAD_REQUEST',
        'The request body must be application/x-www-form-urlencoded',
      ),
    );
  }
  if (grantType !== 'authorization_code' && grantType !== 'refresh_token') {
    return finish(
      400,
      tokenErrorBody('unsupported_grant_type', 'BAD_GRANT_TYPE', 'missing or unknown grant type'),
    );
  }
  const clientProblem = checkClient(ctx, body);
  if (clientProblem) return finish(400, clientProblem);

  if (grantType === 'authorization_code') {
    const code = ctx.state.authCodes.get(body.code ?? '');
    if (!code || code.used || code.expiresAt <= Date.now() || code.clientId !== body.client_id) {
      return finish(400, tokenErrorBody('invalid_grant', 'BAD_AUTH_CODE', 'missing or unknown auth code'));
    }
    if (code.redirectUri !== body.redirect_uri) {
      return finish(
        400,
        tokenErrorBody(
          'invalid_grant',
          'BAD_REDIRECT_URI',
          'redirect_uri does not match the one used to obtain the code',
        ),
      );
    }
    code.used = true;
    const portal = ctx.state.requirePortal(code.portalId);
    const access = issueAccessToken(ctx, issueRefreshToken(ctx, portal, code.scopes));
    return finish(200, tokenResponse(access), portal.id);
  }

  const refresh = ctx.state.refreshTokens.get(body.refresh_token ?? '');
  if (!refresh || refresh.revoked || refresh.clientId !== body.client_id) {
    return finish(
      400,
      tokenErrorBody('invalid_grant', 'BAD_REFRESH_TOKEN', 'refresh token is invalid, expired or revoked'),
      refresh?.portalId,
    );
  }
  // HubSpot refresh tokens do not rotate: the same refresh token comes back.
  return finish(200, tokenResponse(issueAccessToken(ctx, refresh)), refresh.portalId);
}

function handleIntrospect(ctx: SandboxContext, req: Request, res: Response): void {
  const body = (req.body ?? {}) as Record<string, string | undefined>;
  const clientProblem = checkClient(ctx, body);
  if (clientProblem) {
    res.status(400).json(clientProblem);
    return;
  }
  // Access and refresh tokens have distinct formats, so `token_type_hint` never changes the answer here.
  const token = body.token ?? '';
  const access = ctx.state.accessTokens.get(token);
  const refresh = ctx.state.refreshTokens.get(token);
  const describe = (rec: { portalId: number; userId: number; userEmail: string; scopes: string[] }) => ({
    active: true,
    hub_id: rec.portalId,
    app_id: ctx.config.appId,
    client_id: ctx.config.clientId,
    user_id: rec.userId,
    user: rec.userEmail,
    hub_domain: ctx.state.requirePortal(rec.portalId).hubDomain,
    scopes: rec.scopes,
  });
  if (access && !access.revoked && access.expiresAt > Date.now()) {
    res.json({
      ...describe(access),
      expires_in: Math.round((access.expiresAt - Date.now()) / 1000),
      token_type: 'bearer',
      token_use: 'access_token',
    });
    return;
  }
  if (refresh && !refresh.revoked) {
    res.json({ ...describe(refresh), token_type: 'refresh', token_use: 'refresh_token' });
    return;
  }
  res.json({ active: false });
}
