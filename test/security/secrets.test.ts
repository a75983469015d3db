import { randomBytes } from 'node:crypto';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signAcceptance } from '../../src/acceptance/signature.ts';
import { decrypt } from '../../src/security/crypto.ts';
import { invoicePushes, oauthGrants, tenants } from '../../src/store/schema.ts';
import { mintSignInLink } from '../../src/tenants/sign-in-links.ts';
import { confirmLink } from '../support/links.ts';
import { eventually } from '../support/net.ts';
import { QBO_VERIFIER } from '../support/sandbox-env.ts';
import { dumpAsText } from './helpers.ts';
import { type LoggedBilling, startLoggedBilling } from './logged-app.ts';

/**
 * Secrets never reach the logs, and the database holds none readable without ENCRYPTION_KEY.
 * One run of the representative flows, as people and platforms make them: the HubSpot install
 * and the QuickBooks connection through their redirect flows, an API key made and used, the
 * acceptance secret revealed, used and rotated, an invoice pushed, card calls, the portfolio
 * sign-in link, a bookkeeper's share link, a reconnect through the settings page's link, tokens
 * refreshed on both platforms, a payment brought back by Intuit's webhook, an invoice QuickBooks
 * refuses, and a disconnect. Every secret met on the way is collected, then looked for.
 * test/process/log.test.ts proves the logger's redaction on one line; this proves the flows.
 */

const PORTAL = 24_681_999;
const REALM = '9137777001';

let s: LoggedBilling;
/** Every secret value seen during the flows, by what it is. */
const secrets = new Map<string, string>();
/** The database as text, taken before the disconnect forgets the QuickBooks grant. */
let dump: string;
let tenantId: string;

const keep = (what: string, value: string | null | undefined) => {
  expect(value, what).toBeTruthy();
  secrets.set(what, value!);
};
const hop = (url: string, cookie?: string, init: RequestInit = {}) =>
  fetch(url.startsWith('http') ? url : `${s.appUrl}${url}`, {
    redirect: 'manual',
    ...init,
    headers: { ...(cookie ? { cookie } : {}), ...(init.headers as Record<string, string>) },
  });
const cookiesOf = (res: Response) => res.headers.getSetCookie().map((c) => c.split(';')[0]!);
const sessionOf = (res: Response) => cookiesOf(res).find((c) => c.startsWith('mb_session='))!;

/** A card call from the settings page or the deal card, signed v3 by HubSpot. */
const card = (method: string, path: string, body?: unknown) =>
  s.hs.hubspotFetch(`${s.appUrl}/card/v1${path}`, { method, body, as: { portalId: PORTAL } });

/** The tokens of the tenant's grants, as the platforms issued them (decrypted with the app's key). */
async function keepGrants(label: string) {
  const rows = await s.db.select().from(oauthGrants).where(eq(oauthGrants.tenantId, tenantId));
  for (const row of rows) {
    keep(`${row.provider} access token (${label})`, decrypt(s.encryptionKey, row.accessToken));
    keep(`${row.provider} refresh token (${label})`, decrypt(s.encryptionKey, row.refreshToken));
  }
  return rows;
}

/** A link's confirmation page, confirmed; its form token and cookie are kept as secrets too. */
async function confirmed(link: string, what: string) {
  const { answer, page, cookie } = await confirmLink(link);
  keep(`${what} confirmation token`, /name="_csrf" value="([^"]+)"/.exec(page)?.[1]);
  for (const c of cookie.split('; ')) keep(`${what} confirmation cookie ${c.split('=')[0]}`, c.split('=')[1]);
  return answer;
}

/** Walks an OAuth redirect flow from its first hop: the platform's page approves, the callback lands. */
async function oauthFlow(startUrl: string, cookie: string | undefined, what: string) {
  // A connect link's page names the portal first; the flow goes on from its confirmation.
  const start = startUrl.includes('/oauth/quickbooks/start?')
    ? await confirmed(startUrl, what)
    : await hop(startUrl, cookie);
  expect([302, 303], what).toContain(start.status);
  const authorize = new URL(start.headers.get('location')!);
  keep(`${what} state`, authorize.searchParams.get('state'));
  for (const c of cookiesOf(start)) keep(`${what} cookie ${c.split('=')[0]}`, c.split('=')[1]);
  const consent = await fetch(authorize, { redirect: 'manual' });
  const callback = new URL(consent.headers.get('location')!);
  keep(`${what} authorization code`, callback.searchParams.get('code'));
  const done = await hop(
    callback.pathname + callback.search,
    [cookie, ...cookiesOf(start)].filter(Boolean).join('; '),
  );
  expect(done.status, `${what}: ${await done.clone().text()}`).toBe(200);
  return done;
}

async function pushesSettled(count: number) {
  return eventually(
    () => s.db.select().from(invoicePushes).where(eq(invoicePushes.tenantId, tenantId)),
    (rows) => rows.length === count && rows.every((r) => r.status === 'created' || r.status === 'failed'),
    30_000,
  );
}

beforeAll(async () => {
  s = await startLoggedBilling();
  keep('HubSpot client secret', s.hs.clientSecret);
  keep('QuickBooks client secret', s.qbo.clientSecret);
  keep(
    'QuickBooks Basic credentials',
    Buffer.from(`${s.qbo.clientId}:${s.qbo.clientSecret}`).toString('base64'),
  );
  keep('Intuit webhook verifier token', QBO_VERIFIER);
  keep('ENCRYPTION_KEY', s.encryptionKeyBase64);
  keep('ENCRYPTION_KEY (hex)', s.encryptionKey.toString('hex'));

  // The admin installs the app in HubSpot, then connects QuickBooks.
  s.hs.seedRealistic(PORTAL);
  s.hs.choosePortal(PORTAL);
  const installed = await oauthFlow('/oauth/hubspot/install', undefined, 'HubSpot install');
  const admin = sessionOf(installed);
  keep('install session', admin.split('=')[1]);
  const [installedTenant] = await s.db
    .select({ id: tenants.id })
    .from(tenants)
    .where(eq(tenants.portalId, String(PORTAL)));
  tenantId = installedTenant!.id;
  s.qbo.addRealm(REALM, {
    companyName: 'Books of Secrets',
    country: 'US',
    homeCurrency: 'USD',
    multiCurrency: true,
  });
  s.qbo.chooseRealm(REALM);
  await oauthFlow('/oauth/quickbooks/connect', admin, 'QuickBooks connect');
  await keepGrants('first');

  // An API key from the settings page, used for a schedule.
  const created = await card('POST', '/settings/api-keys', { name: 'CI' });
  expect(created.status).toBe(201);
  const apiKey = ((await created.json()) as { key: string }).key;
  keep('API key', apiKey);
  const api = (method: string, path: string, body?: unknown) =>
    hop(`/api/v1${path}`, undefined, {
      method,
      headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
  const deal = s.hs
    .listDeals(PORTAL)
    .find((d) => d.properties.dealname === 'Acme Widgets – Factory Expansion')!;
  expect(
    (
      await api('POST', `/deals/${deal.id}/schedule/template`, {
        template: 'software',
        startDate: '2026-12-01',
      })
    ).status,
  ).toBe(201);
  expect((await api('GET', '/templates')).status).toBe(200);
  // The key sent where it does not belong is still not written down.
  expect(
    (await hop('/card/v1/templates', undefined, { headers: { authorization: `Bearer ${apiKey}` } })).status,
  ).toBe(401);

  // The acceptance secret, revealed and used: an invoice goes to QuickBooks, a note to HubSpot.
  const revealed = await card('POST', '/settings/acceptance-webhook/reveal', {});
  const secret = ((await revealed.json()) as { secret: string }).secret;
  keep('acceptance secret', secret);
  const accept = (key: string, sign = secret) => {
    const raw = JSON.stringify({
      id: `acc-${key}`,
      portalId: String(PORTAL),
      dealId: deal.id,
      milestone: { key },
      acceptedAt: new Date().toISOString(),
      acceptedBy: { name: 'Dana Client', email: 'dana@client.example' },
    });
    return hop('/webhooks/acceptance', undefined, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-acceptance-signature': signAcceptance(sign, raw) },
      body: raw,
    });
  };
  expect((await accept('discovery')).status).toBe(200);
  const [first] = await pushesSettled(1);
  expect(first!.status).toBe('created');

  // Card calls, the portfolio sign-in link and a bookkeeper's share link.
  expect((await card('GET', `/deals/${deal.id}/card`)).status).toBe(200);
  const link = ((await (await card('POST', '/portfolio-link', {})).json()) as { url: string }).url;
  keep('portfolio sign-in link', new URL(link).searchParams.get('link'));
  const signedIn = await confirmed(link, 'portfolio sign-in');
  keep('portfolio session', sessionOf(signedIn).split('=')[1]);
  expect((await hop('/app/portfolio', sessionOf(signedIn))).status).toBe(200);
  const share = (await (
    await card('POST', '/settings/share-links', { label: 'Dana (books)', days: 7 })
  ).json()) as {
    url: string;
  };
  keep('share link', new URL(share.url).searchParams.get('link'));
  const shared = await confirmed(share.url, 'share link');
  keep('share session', sessionOf(shared).split('=')[1]);
  expect((await hop('/app/aging', sessionOf(shared))).status).toBe(200);

  // Reconnect through the settings page's single-use link (new tokens), then both tokens refresh.
  const connectLink = (
    (await (await card('POST', '/settings/quickbooks/connect-link', {})).json()) as { url: string }
  ).url;
  keep('QuickBooks connect link', new URL(connectLink).searchParams.get('link'));
  await oauthFlow(connectLink, undefined, 'QuickBooks reconnect');
  await keepGrants('reconnected');
  s.hs.expireAccessTokens(PORTAL);
  s.qbo.expireAccessTokens(REALM);
  expect((await api('GET', `/deals/${deal.id}`)).status).toBe(200);
  expect((await accept('design')).status).toBe(200);
  expect((await pushesSettled(2)).every((p) => p.status === 'created')).toBe(true);
  await keepGrants('refreshed');
  expect(s.hs.tokenRequests.byGrantType.refresh_token).toBeGreaterThanOrEqual(1);
  expect(s.qbo.tokenRequests.refresh_token).toBeGreaterThanOrEqual(1);

  // A payment Intuit reports by webhook (signed with the verifier token).
  s.qbo.configureWebhooks({
    url: `${s.appUrl}/webhooks/quickbooks`,
    verifierToken: QBO_VERIFIER,
    format: 'cloudevents',
    batchMs: 20,
  });
  s.qbo.recordPayment(REALM, first!.qboInvoiceId!, 100);
  await eventually(
    () => s.db.select().from(invoicePushes).where(eq(invoicePushes.id, first!.id)),
    ([row]) => (row?.paidAmount ?? 0) > 0,
    20_000,
  );

  // An invoice QuickBooks refuses (an item it does not know): its error is logged.
  expect((await card('PUT', '/settings/invoice-defaults', { incomeItemId: '999999' })).status).toBe(200);
  expect((await accept('build')).status).toBe(200);
  expect((await pushesSettled(3)).filter((p) => p.status === 'failed')).toHaveLength(1);

  // Rotated: the new secret works, the old one is refused.
  const rotated = (
    (await (await card('POST', '/settings/acceptance-webhook/rotate', {})).json()) as { secret: string }
  ).secret;
  keep('rotated acceptance secret', rotated);
  expect((await accept('launch')).status).toBe(401);

  // Links minted and never opened: the table keeps only their hashes.
  for (const purpose of ['portfolio', 'quickbooks_connect'] as const) {
    const unused = await mintSignInLink(s.db, { tenantId, purpose, actor: 'test', userEmail: null });
    keep(`unused ${purpose} link`, unused.token);
  }
  dump = await dumpAsText(s.db);

  // Finally the admin disconnects QuickBooks: the grant is revoked at Intuit.
  const off = await hop('/oauth/quickbooks/disconnect', admin, {
    method: 'POST',
    headers: { origin: s.appUrl },
  });
  expect(off.status).toBe(200);
  await s.qbo.webhooksIdle();
}, 120_000);
afterAll(() => s?.close());

/** Where each secret shows in `text`, as it is and as a URL or a header would carry it. */
function leaks(text: string): string[] {
  const found: string[] = [];
  for (const [what, value] of secrets) {
    const forms = new Set([value, encodeURIComponent(value), JSON.stringify(value).slice(1, -1)]);
    for (const form of forms) {
      const at = text.indexOf(form);
      if (at >= 0) {
        found.push(`${what} at …${text.slice(Math.max(0, at - 120), at + form.length + 40)}…`);
        break;
      }
    }
  }
  return found;
}

describe('secrets in the logs', () => {
  it('were logged about, every flow ran: lines for requests, jobs and each deliberate act', () => {
    const messages = s.lines.map((l) => (JSON.parse(l) as { msg: string }).msg);
    expect(messages.filter((m) => m === 'request').length).toBeGreaterThan(20);
    for (const msg of [
      'QuickBooks company connected',
      'API key created',
      'acceptance webhook secret revealed',
      'acceptance webhook secret rotated',
      'share link created',
      'invoice defaults changed',
    ])
      expect(messages, msg).toContain(msg);
    // QuickBooks' refusal is logged with its code: the lines say what happened, not the secrets.
    expect(s.lines.some((l) => l.includes('"errorCode"'))).toBe(true);
    expect(secrets.size).toBeGreaterThan(25);
  });

  it('hold none of the tokens, codes, keys, link tokens, session ids or secrets met on the way', () => {
    expect(leaks(s.lines.join('\n'))).toEqual([]);
  });
});

describe('secrets at rest', () => {
  it('no token, key, link, session id or secret is readable in a dump of the database', () => {
    expect(dump).toContain('-- oauth_grants');
    expect(dump).toContain('-- sessions');
    expect(leaks(dump)).toEqual([]);
  });

  it('the sealed columns open with the key, and with no other key, and not once altered', async () => {
    const grants = await s.db.select().from(oauthGrants).where(eq(oauthGrants.tenantId, tenantId));
    const [tenant] = await s.db.select().from(tenants).where(eq(tenants.id, tenantId));
    // The HubSpot grant (the QuickBooks one was revoked and forgotten by the disconnect).
    expect(grants.map((g) => g.provider)).toEqual(['hubspot']);
    const sealed = [grants[0]!.accessToken, grants[0]!.refreshToken, tenant!.acceptanceSecret];
    const otherKey = randomBytes(32);
    for (const value of sealed) {
      expect(value).toMatch(/^v1\.[\w-]+\.[\w-]+\.[\w-]+$/);
      expect(decrypt(s.encryptionKey, value).length).toBeGreaterThan(20);
      expect(() => decrypt(otherKey, value)).toThrow();
      const [v, nonce, tag, body] = value.split('.');
      const flipped = `${body!.slice(0, -2)}${body!.at(-2) === 'A' ? 'B' : 'A'}${body!.at(-1)}`;
      expect(() => decrypt(s.encryptionKey, [v, nonce, tag, flipped].join('.'))).toThrow();
    }
    expect(decrypt(s.encryptionKey, tenant!.acceptanceSecret)).toBe(secrets.get('rotated acceptance secret'));
  });
});
