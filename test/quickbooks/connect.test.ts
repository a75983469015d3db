import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { and, eq } from 'drizzle-orm';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config.ts';
import { DomainError } from '../../src/domain/errors.ts';
import {
  authorizeUrl,
  QuickBooksOAuthError,
  refreshTokens,
  revokeToken,
} from '../../src/quickbooks/oauth.ts';
import { connectionOf, disconnect, qboAccessToken, saveConnection } from '../../src/quickbooks/tokens.ts';
import { decrypt, encrypt, randomSecret, sha256 } from '../../src/security/crypto.ts';
import { oauthGrants, oauthStates, sessions } from '../../src/store/schema.ts';
import { type QuickBooksSandbox, startQuickBooksSandbox } from '../sandboxes/quickbooks/index.ts';
import { startTestApp, type TestApp } from '../support/app.ts';
import { killStarted } from '../support/processes.ts';
import { raceProcesses } from '../support/together.ts';

const REALM = '9130357766941826';
const OTHER_REALM = '9130357766941899';
let qbo: QuickBooksSandbox;
let t: TestApp;
let tenantA: string;
let tenantB: string;
let cookieA: string;
let cookieB: string;

beforeAll(async () => {
  qbo = await startQuickBooksSandbox();
  qbo.addRealm(REALM, { companyName: 'Acme Books', country: 'US', homeCurrency: 'USD', multiCurrency: true });
  qbo.addRealm(OTHER_REALM, {
    companyName: 'Other Books',
    country: 'GB',
    homeCurrency: 'GBP',
    multiCurrency: false,
  });
  // A server database: the refresh test shares it with two separate processes.
  t = await startTestApp(
    {
      QBO_CLIENT_ID: qbo.clientId,
      QBO_CLIENT_SECRET: qbo.clientSecret,
      QBO_AUTH_URL: qbo.authorizeUrl,
      QBO_TOKEN_URL: qbo.tokenUrl,
      QBO_REVOKE_URL: qbo.revokeUrl,
      QBO_API_BASE_URL: qbo.apiBaseUrl,
    },
    { server: true },
  );
  tenantA = (await t.tenant('Acme Agency')).tenant.id;
  tenantB = (await t.tenant('Other Agency')).tenant.id;
  cookieA = await signIn(tenantA);
  cookieB = await signIn(tenantB);
});
afterAll(async () => {
  await killStarted();
  await t?.close();
  await qbo?.close();
});

/** A signed-in admin, as the HubSpot install leaves one: the cookie holds the id, the table its hash. */
async function signIn(tenantId: string, expiresInMs = 60 * 60_000): Promise<string> {
  const id = randomSecret('', 32);
  await t.database.db
    .insert(sessions)
    .values({ idHash: sha256(id), tenantId, expiresAt: new Date(Date.now() + expiresInMs) });
  return `mb_session=${id}`;
}

/** Follows the real redirects: the app's connect link, Intuit's authorize page, back to the callback. */
async function connect(cookie: string) {
  const start = await t.http.get('/oauth/quickbooks/connect').set('Cookie', cookie);
  expect(start.status, start.text).toBe(302);
  const authorize = new URL(start.headers.location!);
  const consent = await fetch(authorize, { redirect: 'manual' });
  expect(consent.status).toBe(302);
  const callback = new URL(consent.headers.get('location')!);
  expect(callback.pathname).toBe('/oauth/quickbooks/callback');
  // The same browser: the session and the cookie the connect set.
  const bound = (start.headers['set-cookie'] as unknown as string[]).map((c) => c.split(';')[0]);
  const done = await t.http
    .get(callback.pathname + callback.search)
    .set('Cookie', [cookie, ...bound].join('; '));
  return { start, authorize, callback, done, bound };
}

const deps = () => ({ ...t.ctx, db: t.database.db });
const grantOf = (tenantId: string) =>
  and(eq(oauthGrants.tenantId, tenantId), eq(oauthGrants.provider, 'quickbooks'));
/** The connection with its grant, as stored. */
const rowOf = async (tenantId: string) => {
  const connection = (await connectionOf(t.database.db, tenantId))!;
  const [grant] = await t.database.db.select().from(oauthGrants).where(grantOf(tenantId));
  return { ...connection, ...grant! };
};
const storedRefreshToken = async (tenantId: string) =>
  decrypt(t.encryptionKey, (await rowOf(tenantId)).refreshToken);

/** The sandbox's own API: does it accept this access token for this company? */
const companyInfoStatus = async (realmId: string, accessToken: string) =>
  (
    await fetch(`${qbo.apiBaseUrl}/v3/company/${realmId}/companyinfo/${realmId}?minorversion=75`, {
      headers: { authorization: `Bearer ${accessToken}`, accept: 'application/json' },
    })
  ).status;

function capturingLogger() {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk, _enc, done) {
      lines.push(String(chunk));
      done();
    },
  });
  return { logger: pino({ level: 'info' }, sink), lines };
}

describe('QuickBooks connection', () => {
  it('connects through the redirect flow and stores the realm with encrypted tokens', async () => {
    const { start, authorize, callback, done } = await connect(cookieA);
    expect(authorize.origin + authorize.pathname).toBe(qbo.authorizeUrl);
    expect(Object.fromEntries(authorize.searchParams)).toMatchObject({
      client_id: qbo.clientId,
      response_type: 'code',
      scope: 'com.intuit.quickbooks.accounting',
      redirect_uri: 'http://localhost:3000/oauth/quickbooks/callback',
    });
    const state = authorize.searchParams.get('state')!;
    expect(state.length).toBeGreaterThanOrEqual(32);
    expect(start.headers.location).toContain(encodeURIComponent(state));
    expect(callback.searchParams.get('realmId')).toBe(REALM);

    expect(done.status, done.text).toBe(200);
    expect(done.headers['content-type']).toMatch(/^text\/html/);
    expect(done.text).toContain(`QuickBooks company ${REALM} connected`);
    expect(qbo.tokenRequests.authorization_code).toBe(1);

    const row = await rowOf(tenantA);
    expect(row).toMatchObject({ realmId: REALM, status: 'active' });
    expect(row.accessToken).toMatch(/^v1\./);
    expect(row.refreshToken).toMatch(/^v1\./);
    expect(row.expiresAt.getTime() - Date.now()).toBeGreaterThan(55 * 60_000);
    expect(row.refreshExpiresAt!.getTime() - Date.now()).toBeGreaterThan(100 * 86_400_000);
    // The tokens Intuit issued work, and are nowhere in the row in readable form.
    const { accessToken, realmId } = await qboAccessToken(deps(), tenantA);
    expect(realmId).toBe(REALM);
    expect(await companyInfoStatus(REALM, accessToken)).toBe(200);
    const refresh = await storedRefreshToken(tenantA);
    expect(refresh).toMatch(/^RT1-/);
    const raw = JSON.stringify(row);
    expect(raw).not.toContain(accessToken);
    expect(raw).not.toContain(refresh);

    // The state was consumed: replaying the callback is refused and exchanges nothing.
    expect(await t.database.db.select().from(oauthStates).where(eq(oauthStates.state, state))).toHaveLength(
      0,
    );
    const replay = await t.http.get(callback.pathname + callback.search).set('Cookie', cookieA);
    expect(replay.status).toBe(403);
    expect(replay.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(replay.body.detail).toContain('expired, was already used');
    expect(qbo.tokenRequests.authorization_code).toBe(1);
  });

  it('refuses forged, expired, foreign and HubSpot states', async () => {
    const forged = await t.http
      .get(`/oauth/quickbooks/callback?code=AB11x&state=forged&realmId=${REALM}`)
      .set('Cookie', cookieA);
    expect(forged.status).toBe(403);
    expect(forged.body.code).toBe('forbidden');

    const now = Date.now();
    await t.database.db.insert(oauthStates).values([
      { state: 'old', provider: 'quickbooks', tenantId: tenantA, expiresAt: new Date(now - 1000) },
      { state: 'hub', provider: 'hubspot', tenantId: tenantA, expiresAt: new Date(now + 60_000) },
      { state: 'theirs', provider: 'quickbooks', tenantId: tenantB, expiresAt: new Date(now + 60_000) },
    ]);
    for (const state of ['old', 'hub', 'theirs']) {
      const res = await t.http
        .get(`/oauth/quickbooks/callback?code=AB11x&state=${state}&realmId=${REALM}`)
        .set('Cookie', cookieA);
      expect(res.status, state).toBe(403);
    }
    // A state started by tenant B and completed in A's browser binds nothing, and cannot be reused.
    expect(
      await t.database.db.select().from(oauthStates).where(eq(oauthStates.state, 'theirs')),
    ).toHaveLength(0);
    expect(await connectionOf(t.database.db, tenantB)).toBeUndefined();
    expect(qbo.tokenRequests.authorization_code).toBe(1);
  });

  it('needs a signed-in admin to connect, complete or disconnect', async () => {
    const anonymous = await t.http.get('/oauth/quickbooks/connect');
    expect(anonymous.status).toBe(401);
    expect(anonymous.body).toMatchObject({ code: 'unauthorized' });
    expect(anonymous.body.detail).toContain('install it first');

    const unknown = await t.http
      .get('/oauth/quickbooks/connect')
      .set('Cookie', `mb_session=${randomSecret('', 32)}`);
    expect(unknown.status).toBe(401);
    const expired = await t.http.get('/oauth/quickbooks/connect').set('Cookie', await signIn(tenantA, -1000));
    expect(expired.status).toBe(401);
    const garbage = await t.http.get('/oauth/quickbooks/connect').set('Cookie', 'mb_session=%E0%A4%A');
    expect(garbage.status).toBe(401);

    const callback = await t.http.get(`/oauth/quickbooks/callback?code=AB11x&state=x&realmId=${REALM}`);
    expect(callback.status).toBe(401);
    const off = await t.http.post('/oauth/quickbooks/disconnect');
    expect(off.status).toBe(401);
    expect((await rowOf(tenantA)).status).toBe('active');

    // The session cookie is found among others.
    const signedIn = await t.http
      .get('/oauth/quickbooks/connect')
      .set('Cookie', `theme=dark; ${cookieB}; x=1`);
    expect(signedIn.status).toBe(302);
  });

  it('explains a declined consent and consumes its state', async () => {
    qbo.setConsent('deny');
    try {
      const start = await t.http.get('/oauth/quickbooks/connect').set('Cookie', cookieB);
      const state = new URL(start.headers.location!).searchParams.get('state')!;
      const consent = await fetch(start.headers.location!, { redirect: 'manual' });
      const callback = new URL(consent.headers.get('location')!);
      expect(callback.searchParams.get('error')).toBe('access_denied');
      const res = await t.http.get(callback.pathname + callback.search).set('Cookie', cookieB);
      expect(res.status).toBe(403);
      expect(res.body.detail).toContain('access was declined');
      expect(await t.database.db.select().from(oauthStates).where(eq(oauthStates.state, state))).toHaveLength(
        0,
      );
      expect(await connectionOf(t.database.db, tenantB)).toBeUndefined();
    } finally {
      qbo.setConsent('approve');
    }
  });

  it('refuses a company already connected to another tenant, before any code exchange', async () => {
    const exchanges = qbo.tokenRequests.authorization_code;
    const { done } = await connect(cookieB);
    expect(done.status).toBe(409);
    expect(done.body).toMatchObject({ code: 'quickbooks_realm_in_use', status: 409 });
    expect(done.body.detail).toContain(REALM);
    expect(qbo.tokenRequests.authorization_code).toBe(exchanges);
    expect(await connectionOf(t.database.db, tenantB)).toBeUndefined();
    expect((await rowOf(tenantA)).realmId).toBe(REALM);
  });

  it('two worker processes needing an expired token cause exactly one refresh', async () => {
    await t.database.db
      .update(oauthGrants)
      .set({ expiresAt: new Date(Date.now() - 60_000) })
      .where(grantOf(tenantA));
    qbo.expireAccessTokens(REALM);
    const before = await storedRefreshToken(tenantA);
    const refreshesBefore = qbo.tokenRequests.refresh_token ?? 0;
    const outputs = await raceProcesses(join(import.meta.dirname, '../support/qbo-refresh-child.ts'), {
      PATH: process.env.PATH!,
      DATABASE_URL: t.database.url!,
      REDIS_URL: t.ctx.config.redisUrl,
      ENCRYPTION_KEY: t.encryptionKey.toString('base64'),
      QBO_CLIENT_ID: qbo.clientId,
      QBO_CLIENT_SECRET: qbo.clientSecret,
      QBO_TOKEN_URL: qbo.tokenUrl,
      TENANT_ID: tenantA,
    });
    const [a, b] = outputs.map((out) => JSON.parse(out)) as { accessToken: string; realmId: string }[] as [
      { accessToken: string; realmId: string },
      { accessToken: string; realmId: string },
    ];
    expect(qbo.tokenRequests.refresh_token).toBe(refreshesBefore + 1);
    expect(qbo.tokenLog.filter((r) => r.grantType === 'refresh_token').every((r) => r.status === 200)).toBe(
      true,
    );
    expect(a).toEqual(b);
    expect(a.realmId).toBe(REALM);
    expect(await companyInfoStatus(REALM, a.accessToken)).toBe(200);

    // The rotated refresh token is the one stored: the row's token changed and the old one is dead.
    const row = await rowOf(tenantA);
    expect(row.expiresAt.getTime()).toBeGreaterThan(Date.now() + 55 * 60_000);
    expect(decrypt(t.encryptionKey, row.accessToken)).toBe(a.accessToken);
    const after = await storedRefreshToken(tenantA);
    expect(after).not.toBe(before);
    const dead = await refreshTokens(t.ctx.config, before).catch((e: unknown) => e);
    expect(dead).toBeInstanceOf(QuickBooksOAuthError);
    expect(dead).toMatchObject({ error: 'invalid_grant', invalidGrant: true });
    expect((dead as Error).message).not.toContain(before);
    expect((dead as QuickBooksOAuthError).intuitTid).toMatch(/^1-/);
    // …and the stored one is live: a forced refresh uses it and stores the next pair.
    const forced = await qboAccessToken(deps(), tenantA, { force: true });
    expect(forced.accessToken).not.toBe(a.accessToken);
    expect(await storedRefreshToken(tenantA)).not.toBe(after);
    expect((await rowOf(tenantA)).status).toBe('active');
  }, 60_000);

  it('retries once with a newer grant another writer stored while its refresh was refused', async () => {
    // A proxy in front of the token endpoint stores a newer grant (as a reconnect would) while the
    // refresh with the old, already superseded token is in flight.
    const stale = await storedRefreshToken(tenantA);
    await qboAccessToken(deps(), tenantA, { force: true }); // rotates: `stale` is now dead
    await t.database.db
      .update(oauthGrants)
      .set({ refreshToken: encrypt(t.encryptionKey, stale) })
      .where(grantOf(tenantA));
    const newer = qbo.issueTokens(REALM);
    let intercepted = 0;
    const proxy: Server = createServer(async (req, res) => {
      const chunks: Buffer[] = [];
      for await (const c of req) chunks.push(c as Buffer);
      const body = Buffer.concat(chunks).toString();
      if (new URLSearchParams(body).get('refresh_token') === stale && intercepted++ === 0) {
        await saveConnection(deps(), tenantA, REALM, newer);
      }
      const upstream = await fetch(qbo.tokenUrl, {
        method: 'POST',
        headers: { authorization: req.headers.authorization!, 'content-type': req.headers['content-type']! },
        body,
      });
      res.writeHead(upstream.status, {
        'content-type': 'application/json',
        intuit_tid: upstream.headers.get('intuit_tid') ?? '',
      });
      res.end(await upstream.text());
    });
    await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
    try {
      const port = (proxy.address() as AddressInfo).port;
      const config = {
        ...t.ctx.config,
        quickbooks: { ...t.ctx.config.quickbooks, tokenUrl: `http://127.0.0.1:${port}/` },
      };
      await t.database.db
        .update(oauthGrants)
        .set({ expiresAt: new Date(Date.now() - 60_000) })
        .where(grantOf(tenantA));
      const refreshes = qbo.tokenRequests.refresh_token ?? 0;
      const got = await qboAccessToken({ ...deps(), config }, tenantA);
      expect(intercepted).toBe(1);
      // The stored newer grant had a fresh access token: it is used as it is, with no second refresh.
      expect(got.accessToken).toBe(newer.access_token);
      expect(qbo.tokenRequests.refresh_token).toBe(refreshes + 1);
      expect((await rowOf(tenantA)).status).toBe('active');
      expect(await storedRefreshToken(tenantA)).toBe(newer.refresh_token);
    } finally {
      await new Promise((r) => proxy.close(r));
    }
  });

  it('marks the connection needs_reconnect when Intuit answers invalid_grant', async () => {
    qbo.setFaults({ invalidGrant: true });
    try {
      const error = await qboAccessToken(deps(), tenantA, { force: true }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(DomainError);
      expect(error).toMatchObject({
        code: 'quickbooks_reconnect_required',
        message: 'QuickBooks refused the stored authorisation; reconnect QuickBooks',
      });
      expect((await rowOf(tenantA)).status).toBe('needs_reconnect');
      // Later callers learn it from the row without another doomed refresh.
      const refreshes = qbo.tokenRequests.refresh_token;
      await expect(qboAccessToken(deps(), tenantA)).rejects.toMatchObject({
        code: 'quickbooks_reconnect_required',
      });
      expect(qbo.tokenRequests.refresh_token).toBe(refreshes);
    } finally {
      qbo.clearFaults();
    }
    // Reconnecting the same company heals the connection.
    const { done } = await connect(cookieA);
    expect(done.status, done.text).toBe(200);
    expect((await rowOf(tenantA)).status).toBe('active');
    expect((await qboAccessToken(deps(), tenantA)).realmId).toBe(REALM);
  });

  it('refuses a cross-site disconnect made with the session cookie', async () => {
    const crossSite = await t.http
      .post('/oauth/quickbooks/disconnect')
      .set('Cookie', cookieA)
      .set('Sec-Fetch-Site', 'cross-site');
    expect(crossSite.status).toBe(403);
    const foreign = await t.http
      .post('/oauth/quickbooks/disconnect')
      .set('Cookie', cookieA)
      .set('Origin', 'https://attacker.example');
    expect(foreign.status).toBe(403);
    expect(foreign.body.detail).toContain('must come from http://localhost:3000');
    expect((await rowOf(tenantA)).realmId).toBe(REALM);
  });

  it('disconnect revokes the grant at Intuit and forgets the company', async () => {
    const refresh = await storedRefreshToken(tenantA);
    const { accessToken } = await qboAccessToken(deps(), tenantA);
    expect(await companyInfoStatus(REALM, accessToken)).toBe(200);

    const res = await t.http.post('/oauth/quickbooks/disconnect').set('Cookie', cookieA);
    expect(res.status, res.text).toBe(200);
    expect(res.body).toEqual({ disconnected: true, realmId: REALM });
    // A JSON body, as Intuit's own client sends it.
    expect(qbo.revocations.at(-1)).toMatchObject({ contentType: 'application/json', status: 200 });
    expect(await connectionOf(t.database.db, tenantA)).toBeUndefined();
    // Intuit no longer honours either token of the grant.
    await expect(refreshTokens(t.ctx.config, refresh)).rejects.toMatchObject({ error: 'invalid_grant' });
    expect(await companyInfoStatus(REALM, accessToken)).toBe(401);
    await expect(qboAccessToken(deps(), tenantA)).rejects.toMatchObject({ code: 'quickbooks_not_connected' });

    const again = await t.http.post('/oauth/quickbooks/disconnect').set('Cookie', cookieA);
    expect(again.status).toBe(409);
    expect(again.body.code).toBe('quickbooks_not_connected');

    // Once free, the company can be connected by the other tenant.
    const { done } = await connect(cookieB);
    expect(done.status, done.text).toBe(200);
    expect((await rowOf(tenantB)).realmId).toBe(REALM);
  });

  it('forgets the company even when Intuit does not answer the revoke, and logs no token', async () => {
    const refresh = await storedRefreshToken(tenantB);
    const { logger, lines } = capturingLogger();
    const config = {
      ...t.ctx.config,
      quickbooks: { ...t.ctx.config.quickbooks, revokeUrl: 'http://127.0.0.1:9/revoke' },
    };
    await expect(disconnect({ ...deps(), config, logger }, tenantB)).resolves.toEqual({ realmId: REALM });
    expect(await connectionOf(t.database.db, tenantB)).toBeUndefined();
    const log = lines.join('');
    expect(log).toContain('revoking the QuickBooks grant failed');
    expect(log).toContain('network_error');
    expect(log).not.toContain(refresh);
    // The grant is still alive at Intuit (the revoke never arrived); end it for good.
    await revokeToken(t.ctx.config, refresh);
    await expect(refreshTokens(t.ctx.config, refresh)).rejects.toBeInstanceOf(QuickBooksOAuthError);
  });

  it('refuses a tampered realmId: the new tokens are checked against it, nothing is bound and the grant is ended', async () => {
    // After the tests above, neither tenant holds a company.
    expect(await connectionOf(t.database.db, tenantB)).toBeUndefined();
    const start = await t.http.get('/oauth/quickbooks/connect').set('Cookie', cookieB);
    const bound = (start.headers['set-cookie'] as unknown as string[]).map((c) => c.split(';')[0]);
    const consent = await fetch(new URL(start.headers.location!), { redirect: 'manual' });
    const callback = new URL(consent.headers.get('location')!);
    expect(callback.searchParams.get('realmId')).toBe(REALM);
    // Someone else's company id in the callback, in place of the one approved.
    callback.searchParams.set('realmId', OTHER_REALM);
    const revokes = qbo.tokenRequests.revoke ?? 0;
    const done = await t.http
      .get(callback.pathname + callback.search)
      .set('Cookie', [cookieB, ...bound].join('; '));
    expect(done.status).toBe(403);
    expect(done.body.detail).toContain(`did not authorise company ${OTHER_REALM}`);
    expect(await connectionOf(t.database.db, tenantB)).toBeUndefined();
    expect(await t.ctx.quickbooks.realmHolder(OTHER_REALM)).toBeUndefined();
    expect(qbo.tokenRequests.revoke ?? 0).toBe(revokes + 1);
  });

  it('refuses a callback opened in another browser than the one that started the connect', async () => {
    const start = await t.http.get('/oauth/quickbooks/connect').set('Cookie', cookieB);
    const consent = await fetch(new URL(start.headers.location!), { redirect: 'manual' });
    const callback = new URL(consent.headers.get('location')!);
    const exchanges = qbo.tokenRequests.authorization_code;
    // Signed in, but without the cookie the connect set in the browser that started it.
    const done = await t.http.get(callback.pathname + callback.search).set('Cookie', cookieB);
    expect(done.status).toBe(403);
    expect(qbo.tokenRequests.authorization_code).toBe(exchanges);
    expect(await connectionOf(t.database.db, tenantB)).toBeUndefined();
  });

  it('an unconfigured Intuit app is reported as unavailable', () => {
    const bare = parseConfig({ NODE_ENV: 'test' });
    expect(() => authorizeUrl(bare, 'state')).toThrow(
      expect.objectContaining({ code: 'unavailable', message: expect.stringContaining('QBO_CLIENT_ID') }),
    );
  });
});
