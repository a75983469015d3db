import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signAcceptance } from '../../src/acceptance/signature.ts';
import { acceptanceSecret } from '../../src/tenants/repository.ts';
import { adminCall, portfolioLink } from '../app/refused-invoice.ts';
import { startTestApp, type TestApp } from '../support/app.ts';
import { type Billing, startBilling } from '../support/billing.ts';
import { confirmLink, portfolioSession } from '../support/links.ts';

/**
 * Security headers on every kind of answer: the app's HTML pages, the OAuth pages and redirects,
 * problem pages (HTML and JSON), CSV exports, webhooks, the card API, health and metrics, the
 * operators' dashboard. test/http/security.test.ts checks four of them; this walks them all.
 */

let b: Billing;
let appUrl: string;
let cookie: string;
let dealId: string;
let portal: number;
const ADMIN_TOKEN = 'operator-token-for-the-security-suite';
let ops: TestApp;

const hop = (path: string, init: RequestInit = {}) =>
  fetch(path.startsWith('http') ? path : `${appUrl}${path}`, { redirect: 'manual', ...init });
const cookiesOf = (res: Response) => res.headers.getSetCookie().map((c) => c.split(';')[0]!);

beforeAll(async () => {
  b = await startBilling({ listen: true });
  appUrl = b.t.ctx.config.publicUrl;
  const tenant = await b.connectedTenant();
  portal = tenant.portal;
  dealId = tenant.dealNamed('Acme Widgets – Factory Expansion').id;
  expect(
    (
      await tenant.post(`/deals/${dealId}/schedule/template`, {
        template: 'software',
        startDate: '2026-12-01',
      })
    ).status,
  ).toBe(201);
  const { answer: signIn } = await confirmLink(await portfolioLink(b, tenant.portal));
  cookie = cookiesOf(signIn).find((c) => c.startsWith('mb_session='))!;
  ops = await startTestApp({ ADMIN_TOKEN });
});
afterAll(async () => {
  await ops?.close();
  await b?.close();
});

function expectSecurityHeaders(
  res: Response | { headers: Record<string, string | string[] | undefined> },
  what: string,
  csp = "default-src 'none'",
) {
  const get = (name: string) =>
    res.headers instanceof Headers
      ? res.headers.get(name)
      : ((res.headers as Record<string, string>)[name] ?? null);
  expect(get('content-security-policy'), what).toContain("frame-ancestors 'none'");
  expect(get('content-security-policy'), what).toContain(csp);
  expect(get('x-frame-options'), what).toBe('DENY');
  expect(get('x-content-type-options'), what).toBe('nosniff');
  expect(get('referrer-policy'), what).toBe('no-referrer');
  expect(get('strict-transport-security'), what).toMatch(/max-age=\d{6,}/);
  expect(get('x-powered-by'), what).toBeNull();
  // Receivables, schedules and sign-in answers stay out of browser and proxy caches.
  expect(get('cache-control'), what).toBe('no-store');
}

describe('security headers', () => {
  it('on every HTML page of the app, its CSV exports and its problem pages', async () => {
    const html = { headers: { cookie, accept: 'text/html' } };
    const pages: [string, RequestInit, number][] = [
      ['/app/portfolio', html, 200],
      ['/app/portfolio?done=Retried', html, 200],
      ['/app/forecast', html, 200],
      ['/app/forecast?week=2026-11-30&weekCurrency=USD', html, 200],
      ['/app/aging', html, 200],
      [`/app/deals/${dealId}`, html, 200],
      ['/app/deals/1', html, 404],
      ...['aging', 'attention', 'receivables', 'status', 'forecast'].map(
        (t) => [`/app/export/${t}.csv`, html, 200] as [string, RequestInit, number],
      ),
      ['/app/portfolio', { headers: { accept: 'text/html' } }, 401],
      ['/app/portfolio', {}, 401],
      ['/app/sign-in?link=expired-or-never-minted', html, 403],
      ['/app/shared?link=expired-or-never-minted', html, 403],
      ['/app/deals/1%00', html, 422],
      ['/nowhere', html, 404],
      ['/api/v1/templates', html, 401],
    ];
    for (const [path, init, status] of pages) {
      const res = await hop(path, init);
      expect(res.status, path).toBe(status);
      expectSecurityHeaders(res, path);
      if (status >= 400 && (init.headers as Record<string, string> | undefined)?.accept === 'text/html')
        expect(res.headers.get('content-type'), path).toMatch(/^text\/html/);
    }
    const retry = await hop('/app/milestones/ms_none/retry', {
      method: 'POST',
      headers: {
        cookie,
        origin: 'https://evil.example',
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: '_csrf=x',
    });
    expect(retry.status).toBe(403);
    expectSecurityHeaders(retry, 'cross-site retry');
  });

  it('on the OAuth redirects and pages, from install to connected', async () => {
    const install = await hop('/oauth/hubspot/install');
    expect(install.status).toBe(302);
    expectSecurityHeaders(install, 'install redirect');
    b.hs.choosePortal(portal);
    const consent = await fetch(install.headers.get('location')!, { redirect: 'manual' });
    const callback = new URL(consent.headers.get('location')!);
    const installed = await hop(callback.pathname + callback.search, {
      headers: { cookie: cookiesOf(install).join('; ') },
    });
    expect(installed.status).toBe(200);
    expectSecurityHeaders(installed, 'installed page');
    const session = cookiesOf(installed).find((c) => c.startsWith('mb_session='))!;

    const connect = await hop('/oauth/quickbooks/connect', { headers: { cookie: session } });
    expect(connect.status).toBe(302);
    expectSecurityHeaders(connect, 'connect redirect');
    const realmId = '9139999001';
    b.qbo.addRealm(realmId, {
      companyName: 'Headers Co',
      country: 'US',
      homeCurrency: 'USD',
      multiCurrency: true,
    });
    b.qbo.chooseRealm(realmId);
    const approved = await fetch(connect.headers.get('location')!, { redirect: 'manual' });
    const back = new URL(approved.headers.get('location')!);
    const connected = await hop(back.pathname + back.search, {
      headers: { cookie: [session, ...cookiesOf(connect)].join('; ') },
    });
    expect(connected.status, await connected.clone().text()).toBe(200);
    expectSecurityHeaders(connected, 'connected page');

    const minted = await adminCall(b, portal, 'POST', '/settings/quickbooks/connect-link', {});
    const link = ((await minted.json()) as { url: string }).url;
    const asked = await hop(link);
    expect(asked.status).toBe(200);
    expectSecurityHeaders(asked, 'connect link confirmation page');
    const { answer: start } = await confirmLink(link);
    expect(start.status).toBe(303);
    expectSecurityHeaders(start, 'connect link redirect');
    for (const [path, status] of [
      ['/oauth/quickbooks/disconnected', 200],
      ['/oauth/hubspot/callback?code=x&state=forged', 403],
      ['/oauth/quickbooks/callback?error=access_denied', 401],
      ['/oauth/quickbooks/start?link=never-minted-link-x', 403],
    ] as const) {
      const res = await hop(path, { headers: { accept: 'text/html' } });
      expect(res.status, path).toBe(status);
      expectSecurityHeaders(res, path);
    }
  });

  it('on webhooks, the card API, the JSON API, health and metrics', async () => {
    const tenant = await b.connectedTenant();
    const raw = JSON.stringify({
      id: 'acc_h',
      portalId: tenant.portalId,
      dealId: '1',
      milestone: { key: 'x' },
      acceptedAt: new Date().toISOString(),
      acceptedBy: {},
    });
    const answers: [string, Response][] = [
      ['/healthz', await hop('/healthz')],
      ['/readyz', await hop('/readyz')],
      ['/metrics', await hop('/metrics')],
      ['/api/v1/templates', await hop('/api/v1/templates')],
      [
        'card API',
        await b.hs.hubspotFetch(`${appUrl}/card/v1/templates`, { as: { portalId: tenant.portal } }),
      ],
      ['card API unsigned', await hop(`/card/v1/templates?portalId=${tenant.portal}&userId=1`)],
      ['hubspot webhook unsigned', await hop('/webhooks/hubspot', { method: 'POST', body: '[]' })],
      ['quickbooks webhook unsigned', await hop('/webhooks/quickbooks', { method: 'POST', body: '[]' })],
      [
        'acceptance webhook',
        await hop('/webhooks/acceptance', {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            'x-acceptance-signature': signAcceptance(acceptanceSecret(b.t.encryptionKey, tenant.tenant), raw),
          },
          body: raw,
        }),
      ],
      [
        'too large',
        await hop('/api/v1/templates', {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: ' '.repeat(1024 * 1024 + 1),
        }),
      ],
    ];
    for (const [what, res] of answers) expectSecurityHeaders(res, what);
    expect(answers.map(([, r]) => r.status)).toEqual([200, 200, 200, 401, 200, 401, 401, 401, 404, 413]);
  });

  it("on the operators' queue dashboard: its own CSP, still never framed", async () => {
    const refused = await ops.http.get('/admin/queues');
    expect(refused.status).toBe(401);
    expectSecurityHeaders(refused, 'dashboard refused');
    const board = await ops.http.get('/admin/queues').set('Authorization', `Bearer ${ADMIN_TOKEN}`);
    expect(board.status).toBe(200);
    expectSecurityHeaders(board, 'dashboard', "default-src 'self'");
    expect(board.headers['content-security-policy']).not.toContain('unsafe-eval');
    expect(board.headers['content-security-policy']).toContain("script-src 'self'");
  });
});

describe('cookies', () => {
  it('the session and OAuth cookies are HttpOnly, SameSite=Lax, scoped, and Secure behind https', async () => {
    const https = await startTestApp({
      PUBLIC_URL: 'https://billing.example',
      HUBSPOT_CLIENT_ID: 'c',
      HUBSPOT_CLIENT_SECRET: 's',
    });
    try {
      for (const [app, secure] of [
        [b.t, false],
        [https, true],
      ] as const) {
        const tenant = await app.tenant();
        const { setCookie } = await portfolioSession(app, tenant.tenant.id);
        const session = setCookie.find((c) => c.startsWith('mb_session='))!;
        expect(session).toMatch(/; HttpOnly/i);
        expect(session).toMatch(/; SameSite=Lax/i);
        expect(/; Secure/i.test(session)).toBe(secure);
        const install = await app.http.get('/oauth/hubspot/install');
        const state = (install.headers['set-cookie'] as unknown as string[]).find((c) =>
          c.startsWith('mb_oauth_hubspot='),
        )!;
        expect(state).toMatch(/; Path=\/oauth\/hubspot/);
        expect(state).toMatch(/; HttpOnly/i);
        expect(/; Secure/i.test(state)).toBe(secure);
        expectSecurityHeaders(install, 'install');
      }
    } finally {
      await https.close();
    }
  });
});
