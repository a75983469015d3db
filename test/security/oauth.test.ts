import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { oauthStates, sessions } from '../../src/store/schema.ts';
import { mintSignInLink } from '../../src/tenants/sign-in-links.ts';
import { adminCall, portfolioLink, refusedInvoice } from '../app/refused-invoice.ts';
import { type Billing, startBilling } from '../support/billing.ts';
import { confirmLink } from '../support/links.ts';

/**
 * The OAuth flows and every redirect the app answers. Already proven elsewhere, not repeated:
 * - HubSpot install: a forged and an expired state, a replayed callback, a callback opened in
 *   another browser (login CSRF) — test/hubspot/install.test.ts.
 * - QuickBooks connect: forged, expired, another tenant's and a HubSpot state, a replayed
 *   callback, a callback in another browser, a tampered realmId, a cross-site disconnect, no
 *   session — test/quickbooks/connect.test.ts.
 * What follows: the settings page's single-use connect link, the reverse provider mix-up, and the
 * places a browser is sent, which must stay on the app's origin or go to the platforms' own pages.
 */

let b: Billing;
let appUrl: string;
beforeAll(async () => {
  b = await startBilling({ listen: true });
  appUrl = b.t.ctx.config.publicUrl;
});
afterAll(() => b?.close());

const hop = (path: string, init: RequestInit = {}) =>
  fetch(path.startsWith('http') ? path : `${appUrl}${path}`, { redirect: 'manual', ...init });
const cookiesOf = (res: Response) => res.headers.getSetCookie().map((c) => c.split(';')[0]!);
const sessionCookie = (res: Response) => cookiesOf(res).find((c) => c.startsWith('mb_session='));
const count = async (table: typeof sessions | typeof oauthStates) =>
  (await b.t.database.db.select().from(table)).length;

/** A browser signed in to the tenant's portfolio (the link "Open portfolio" mints). */
async function signedIn(portal: number): Promise<string> {
  const { answer } = await confirmLink(await portfolioLink(b, portal));
  expect(answer.status).toBe(303);
  return sessionCookie(answer)!;
}

describe('the QuickBooks connect link of the settings page (/oauth/quickbooks/start)', () => {
  it('signs one window in, once: reused, forged, expired and other-purpose links sign no one in', async () => {
    const tenant = await b.connectedTenant();
    const minted = await adminCall(b, tenant.portal, 'POST', '/settings/quickbooks/connect-link', {});
    expect(minted.status).toBe(201);
    const { url } = (await minted.json()) as { url: string };
    expect(url.startsWith(`${appUrl}/oauth/quickbooks/start?link=`)).toBe(true);

    const { answer: first, page: asked } = await confirmLink(url);
    expect(asked).toContain(`HubSpot portal ${tenant.portal}`);
    expect(first.status).toBe(303);
    expect(new URL(first.headers.get('location')!).origin).toBe(new URL(b.qbo.authorizeUrl).origin);
    expect(sessionCookie(first)).toBeDefined();

    const before = { sessions: await count(sessions), states: await count(oauthStates) };
    const expired = await mintSignInLink(
      b.t.database.db,
      { tenantId: tenant.tenant.id, purpose: 'quickbooks_connect', actor: 'test', userEmail: null },
      { ttlMs: -1000 },
    );
    const portfolio = new URL(await portfolioLink(b, tenant.portal)).searchParams.get('link')!;
    const refused = [
      url,
      `/oauth/quickbooks/start?link=${'A'.repeat(43)}`,
      `/oauth/quickbooks/start?link=${expired.token}`,
      // A link minted to open the portfolio does not connect QuickBooks…
      `/oauth/quickbooks/start?link=${portfolio}`,
      '/oauth/quickbooks/start',
      `/oauth/quickbooks/start?link=${new URL(url).searchParams.get('link')}&link=x`,
    ];
    for (const link of refused) {
      const res = await hop(link);
      expect(res.status, link).toBe(403);
      expect(res.headers.get('location'), link).toBeNull();
      expect(sessionCookie(res), link).toBeUndefined();
    }
    expect(await count(sessions)).toBe(before.sessions);
    expect(await count(oauthStates)).toBe(before.states);
    // …and was not spent by being tried there; a connect link does not open the portfolio.
    expect((await confirmLink(`${appUrl}/app/sign-in?link=${portfolio}`)).answer.status).toBe(303);
    const connectLink = await mintSignInLink(b.t.database.db, {
      tenantId: tenant.tenant.id,
      purpose: 'quickbooks_connect',
      actor: 'test',
      userEmail: null,
    });
    expect((await hop(`/app/sign-in?link=${connectLink.token}`)).status).toBe(403);
  });

  it('the portfolio sign-in link is refused once used, expired or forged', async () => {
    const tenant = await b.connectedTenant();
    const link = await portfolioLink(b, tenant.portal);
    expect((await confirmLink(link)).answer.status).toBe(303);
    const expired = await mintSignInLink(
      b.t.database.db,
      { tenantId: tenant.tenant.id, purpose: 'portfolio', actor: 'test', userEmail: null },
      { ttlMs: -1000 },
    );
    const before = await count(sessions);
    for (const url of [link, `/app/sign-in?link=${expired.token}`, `/app/sign-in?link=${'b'.repeat(43)}`]) {
      const res = await hop(url);
      expect(res.status, url).toBe(403);
      expect(sessionCookie(res)).toBeUndefined();
    }
    expect(await count(sessions)).toBe(before);
  });
});

describe('OAuth states', () => {
  it('a state the QuickBooks connect made is refused at the HubSpot callback, exchanging nothing', async () => {
    const tenant = await b.connectedTenant();
    const cookie = await signedIn(tenant.portal);
    const start = await hop('/oauth/quickbooks/connect', { headers: { cookie } });
    expect(start.status).toBe(302);
    const state = new URL(start.headers.get('location')!).searchParams.get('state')!;
    // The browser that started it, its binding cookie offered under both providers' names.
    const bound = cookiesOf(start).find((c) => c.startsWith('mb_oauth_quickbooks='))!;
    const browser = [cookie, bound, bound.replace('mb_oauth_quickbooks=', 'mb_oauth_hubspot=')].join('; ');
    const exchanges = b.hs.tokenRequests.byGrantType.authorization_code ?? 0;
    const sessionsBefore = await count(sessions);
    const res = await hop(`/oauth/hubspot/callback?code=stolen-code&state=${encodeURIComponent(state)}`, {
      headers: { cookie: browser },
    });
    expect(res.status).toBe(403);
    expect(sessionCookie(res)).toBeUndefined();
    expect(b.hs.tokenRequests.byGrantType.authorization_code ?? 0).toBe(exchanges);
    expect(await count(sessions)).toBe(sessionsBefore);
  });

  it('a state is bound to its browser: the install cookie of another install does not match it', async () => {
    // Two installs started in two browsers: the attacker's callback URL with the victim's own cookie.
    const attacker = await hop('/oauth/hubspot/install');
    const victim = await hop('/oauth/hubspot/install');
    const consent = await fetch(attacker.headers.get('location')!, { redirect: 'manual' });
    const callback = new URL(consent.headers.get('location')!);
    const exchanges = b.hs.tokenRequests.byGrantType.authorization_code ?? 0;
    const res = await hop(callback.pathname + callback.search, {
      headers: { cookie: cookiesOf(victim).join('; ') },
    });
    expect(res.status).toBe(403);
    expect(sessionCookie(res)).toBeUndefined();
    expect(b.hs.tokenRequests.byGrantType.authorization_code ?? 0).toBe(exchanges);
    // The attacker's state was spent by the attempt: it cannot be used afterwards either.
    const later = await hop(callback.pathname + callback.search, {
      headers: { cookie: cookiesOf(attacker).join('; ') },
    });
    expect(later.status).toBe(403);
  });
});

describe('redirects', () => {
  /** Parameters other apps read as "where to go next", each with places off the app's origin. */
  const HOSTILE = ['https://evil.example/x', '//evil.example/x', '/\\evil.example', 'javascript:alert(1)'];
  const NEXT = ['redirect', 'redirect_uri', 'next', 'returnTo', 'return_to', 'url', 'continue', 'dest'];
  const hostileQuery = (i: number) =>
    `${NEXT.map((p) => `${p}=${encodeURIComponent(HOSTILE[i % HOSTILE.length]!)}`).join('&')}`;
  /** Proxies' headers a client can forge; the app builds its URLs from PUBLIC_URL alone. */
  const forgedHost = {
    'X-Forwarded-Host': 'evil.example',
    'X-Forwarded-Proto': 'https',
    Forwarded: 'host=evil.example;proto=https',
  };

  /** Where a Location sends a browser: the app's own origin, or a platform's authorize page. */
  function expectSafe(res: Response, allowed: 'app' | 'hubspot' | 'quickbooks') {
    const location = res.headers.get('location');
    expect(location).toBeTruthy();
    const target = new URL(location!, appUrl);
    if (allowed === 'app') {
      expect(location!.startsWith('/') && !location!.startsWith('//') && !location!.startsWith('/\\')).toBe(
        true,
      );
      expect(target.origin).toBe(appUrl);
      expect(location).not.toContain('evil.example');
      return;
    }
    const authorize = new URL(allowed === 'hubspot' ? `${b.hs.url}/oauth/authorize` : b.qbo.authorizeUrl);
    expect(target.origin + target.pathname).toBe(authorize.origin + authorize.pathname);
    // Where the platform sends the browser back is the app's own callback, nothing the request chose.
    expect(target.searchParams.get('redirect_uri')).toBe(`${appUrl}/oauth/${allowed}/callback`);
    expect(target.searchParams.getAll('redirect_uri')).toHaveLength(1);
    expect(location).not.toContain('evil.example');
  }

  it('every redirect in src/http is one of those tested here', () => {
    const root = join(import.meta.dirname, '../../src/http');
    const files = (dir: string): string[] =>
      readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
        e.isDirectory() ? files(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
      );
    const found = files(root).flatMap((file) => {
      const text = readFileSync(file, 'utf8');
      const n = (text.match(/\.redirect\(|['"]location['"]/gi) ?? []).length;
      return n ? [`${relative(root, file)}: ${n}`] : [];
    });
    // A new redirect (or a Location set by hand) needs its case below; then add it here.
    expect(found.sort()).toEqual([
      'routes/app/portfolio.ts: 1',
      'routes/app/sign-in.ts: 2',
      'routes/oauth/hubspot.ts: 1',
      'routes/oauth/quickbooks.ts: 2',
    ]);
  });

  it('the HubSpot install and the QuickBooks connect go to the platform, whatever the request asks', async () => {
    const tenant = await b.connectedTenant();
    const cookie = await signedIn(tenant.portal);
    for (let i = 0; i < HOSTILE.length; i++) {
      expectSafe(await hop(`/oauth/hubspot/install?${hostileQuery(i)}`, { headers: forgedHost }), 'hubspot');
      expectSafe(
        await hop(`/oauth/quickbooks/connect?${hostileQuery(i)}`, { headers: { ...forgedHost, cookie } }),
        'quickbooks',
      );
      const minted = await adminCall(b, tenant.portal, 'POST', '/settings/quickbooks/connect-link', {});
      const { url } = (await minted.json()) as { url: string };
      expectSafe(
        (await confirmLink(`${url}&${hostileQuery(i)}`, { headers: forgedHost })).answer,
        'quickbooks',
      );
    }
  });

  it('the links minted for browsers name PUBLIC_URL, not the host the request claimed', async () => {
    const tenant = await b.connectedTenant();
    const portalId = tenant.portal;
    // What HubSpot appends for the portal's super admin.
    const q = `userId=${b.hs.portalUserId(portalId)}&portalId=${portalId}`;
    for (const path of ['/card/v1/portfolio-link', '/card/v1/settings/quickbooks/connect-link']) {
      // The signature covers PUBLIC_URL + path: forged proxy headers change neither.
      const url = `${appUrl}${path}?${q}`;
      const signed = await fetch(url, {
        method: 'POST',
        headers: {
          ...b.hs.signedHeaders({ method: 'POST', url, body: '{}' }),
          ...forgedHost,
          'content-type': 'application/json',
        },
        body: '{}',
      });
      expect(signed.status).toBe(201);
      const minted = (await signed.json()) as { url: string };
      expect(new URL(minted.url).origin).toBe(appUrl);
    }
    const share = await adminCall(b, portalId, 'POST', '/settings/share-links', { label: 'Dana', days: 1 });
    expect(new URL(((await share.json()) as { url: string }).url).origin).toBe(appUrl);
  });

  it('signing in (portfolio link, share link) lands on the portfolio, whatever the link asks', async () => {
    const tenant = await b.connectedTenant();
    const share = await adminCall(b, tenant.portal, 'POST', '/settings/share-links', {
      label: 'Dana',
      days: 1,
    });
    const shareUrl = ((await share.json()) as { url: string }).url;
    for (let i = 0; i < HOSTILE.length; i++) {
      const { answer: signIn } = await confirmLink(
        `${await portfolioLink(b, tenant.portal)}&${hostileQuery(i)}`,
        {
          headers: forgedHost,
        },
      );
      expect(signIn.status).toBe(303);
      expectSafe(signIn, 'app');
      expect(signIn.headers.get('location')).toBe('/app/portfolio');
      const { answer: shared } = await confirmLink(`${shareUrl}&${hostileQuery(i)}`, { headers: forgedHost });
      expect(shared.status).toBe(303);
      expect(shared.headers.get('location')).toBe('/app/portfolio');
    }
  });

  it('Retry from the portfolio returns to the portfolio, its notice escaped', async () => {
    const { tenant, link } = await refusedInvoice(b);
    const { answer: signIn } = await confirmLink(link);
    const cookie = sessionCookie(signIn)!;
    const page = await (await hop('/app/portfolio', { headers: { cookie } })).text();
    const csrf = /name="_csrf" value="([^"]+)"/.exec(page)![1]!;
    const action = /action="(\/app\/milestones\/[^"]+\/retry)"/.exec(page)![1]!;
    const retried = await hop(`${action}?${hostileQuery(0)}`, {
      method: 'POST',
      headers: { cookie, origin: appUrl, 'content-type': 'application/x-www-form-urlencoded', ...forgedHost },
      body: `_csrf=${encodeURIComponent(csrf)}&${hostileQuery(1)}`,
    });
    expect(retried.status).toBe(303);
    expectSafe(retried, 'app');
    expect(new URL(retried.headers.get('location')!, appUrl).pathname).toBe('/app/portfolio');
    await tenant.settled(1);
    // The notice is the server's words for a code: text in the URL is never shown.
    const ours = await (await hop(retried.headers.get('location')!, { headers: { cookie } })).text();
    expect(ours).toContain('The invoice is on its way to QuickBooks again.');
    const notice = await (
      await hop(
        `/app/portfolio?done=${encodeURIComponent('<script>alert(1)</script>Your books were wiped, call +1 555')}`,
        { headers: { cookie } },
      )
    ).text();
    expect(notice).not.toContain('script');
    expect(notice).not.toContain('books were wiped');
    expect(notice).not.toContain('class="done"');
  }, 60_000);
});
