import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { oauthStates, sessions } from '../../src/store/schema.ts';
import { adminCall, portfolioLink } from '../app/refused-invoice.ts';
import { type Billing, startBilling } from '../support/billing.ts';
import { confirmLink, sessionCookie } from '../support/links.ts';

/**
 * Links that sign a browser in (QuickBooks connect, "Open portfolio", share links) never do it on
 * opening: a page names the portal and only its own same-origin POST, with a token bound to a
 * cookie the page set, goes on. The attack replayed: someone mints a link in their own portal and
 * gets another person to open it.
 */

let b: Billing;
let appUrl: string;
type Tenant = Awaited<ReturnType<Billing['connectedTenant']>>;
let attacker: Tenant;
let victim: Tenant;
beforeAll(async () => {
  b = await startBilling({ listen: true });
  appUrl = b.t.ctx.config.publicUrl;
  attacker = await b.connectedTenant();
  victim = await b.connectedTenant();
});
afterAll(() => b?.close());

const hop = (path: string, init: RequestInit = {}) =>
  fetch(path.startsWith('http') ? path : `${appUrl}${path}`, { redirect: 'manual', ...init });
const count = async (table: typeof sessions | typeof oauthStates) =>
  (await b.t.database.db.select().from(table)).length;
const linkOf = async (res: Response) => ((await res.json()) as { url: string }).url;
const portfolioAs = async (cookie: string) => {
  const res = await hop('/app/portfolio', { headers: { cookie } });
  return { status: res.status, html: await res.text() };
};

describe('the QuickBooks connect link', () => {
  it('binds no company without the person confirming on a page that names the minting portal', async () => {
    const url = await linkOf(
      await adminCall(b, attacker.portal, 'POST', '/settings/quickbooks/connect-link', {}),
    );
    const before = { sessions: await count(sessions), states: await count(oauthStates) };

    // The victim opens it: a page, no session, no OAuth state, no way to Intuit yet.
    const opened = await hop(url);
    const page = await opened.text();
    expect(opened.status).toBe(200);
    expect(page).toContain(`Connect QuickBooks to ${attacker.tenant.name}`);
    expect(page).toContain(`HubSpot portal ${attacker.portal}`);
    expect(page).toContain('will be bound to that HubSpot portal');
    expect(opened.headers.get('location')).toBeNull();
    expect(sessionCookie(opened)).toBeUndefined();

    // The attacker's own page posts the form for them: from another origin, or without the
    // cookie the victim's page set, it is refused and the link is not spent.
    const token = new URL(url).searchParams.get('link')!;
    const mine = await hop(url);
    const theirCsrf = /name="_csrf" value="([^"]+)"/.exec(await mine.text())![1]!;
    const theirCookie = mine.headers.getSetCookie()[0]!.split(';')[0]!;
    const forged: Record<string, string>[] = [
      { origin: 'https://evil.example', cookie: theirCookie },
      { 'sec-fetch-site': 'cross-site', cookie: theirCookie },
      {}, // no cookie at all: a SameSite=Strict cookie is never sent with another site's POST
      { cookie: 'mb_confirm=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' },
    ];
    for (const headers of forged) {
      const res = await hop('/oauth/quickbooks/start', {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
        body: new URLSearchParams({ link: token, _csrf: theirCsrf }).toString(),
      });
      expect(res.status, JSON.stringify(headers)).toBe(403);
      expect(res.headers.get('location')).toBeNull();
      expect(sessionCookie(res)).toBeUndefined();
    }
    expect(await count(sessions)).toBe(before.sessions);
    expect(await count(oauthStates)).toBe(before.states);

    // Confirmed on that page, the window goes on to Intuit, signed in for the portal it named.
    const { answer } = await confirmLink(url);
    expect(answer.status).toBe(303);
    expect(new URL(answer.headers.get('location')!).origin).toBe(new URL(b.qbo.authorizeUrl).origin);
    expect(await count(oauthStates)).toBe(before.states + 1);
  });
});

describe('a share link or portfolio link opened by someone signed in elsewhere', () => {
  it('keeps their session unless they confirm, and the page says what confirming does', async () => {
    const { answer } = await confirmLink(await portfolioLink(b, victim.portal));
    const session = sessionCookie(answer)!;
    expect((await portfolioAs(session)).html).toContain(victim.tenant.name);

    const share = await linkOf(
      await adminCall(b, attacker.portal, 'POST', '/settings/share-links', { label: 'Anyone', days: 90 }),
    );
    for (const link of [share, await portfolioLink(b, attacker.portal)]) {
      const opened = await hop(link, { headers: { cookie: session } });
      const page = await opened.text();
      expect(opened.status).toBe(200);
      expect(page).toContain(`HubSpot portal ${attacker.portal}`);
      expect(page).toContain(
        `This browser is signed in to ${victim.tenant.name} (HubSpot portal ${victim.portal}). Continuing signs it out of that portal.`,
      );
      expect(sessionCookie(opened)).toBeUndefined();
      const still = await portfolioAs(session);
      expect(still.status).toBe(200);
      expect(still.html).toContain(victim.tenant.name);
    }

    // Confirming is a choice: the browser is then in the other portal.
    const { answer: switched } = await confirmLink(share, { cookie: session });
    const other = sessionCookie(switched)!;
    expect((await portfolioAs(other)).html).toContain(attacker.tenant.name);
  });
});

describe('signing out', () => {
  it('ends this browser\'s session (POST /app/sign-out), and "end every portfolio session" ends the tenant\'s', async () => {
    const sessionOf = async (tenant: Tenant) =>
      sessionCookie((await confirmLink(await portfolioLink(b, tenant.portal))).answer)!;
    const one = await sessionOf(victim);
    const csrf = /action="\/app\/sign-out"[^>]*><input type="hidden" name="_csrf" value="([^"]+)"/.exec(
      (await portfolioAs(one)).html,
    )![1]!;
    const out = await hop('/app/sign-out', {
      method: 'POST',
      headers: { cookie: one, origin: appUrl, 'content-type': 'application/x-www-form-urlencoded' },
      body: `_csrf=${encodeURIComponent(csrf)}`,
    });
    expect(out.status).toBe(200);
    expect(await out.text()).toContain('signed out');
    expect((await portfolioAs(one)).status).toBe(401);

    const [two, three, elsewhere] = [
      await sessionOf(victim),
      await sessionOf(victim),
      await sessionOf(attacker),
    ];
    const victims = (await b.t.database.db.select().from(sessions)).filter(
      (s) => s.tenantId === victim.tenant.id,
    ).length;
    expect(victims).toBeGreaterThanOrEqual(2);
    const ended = await adminCall(b, victim.portal, 'POST', '/settings/sessions/end', {});
    expect(await ended.json()).toEqual({ ended: victims });
    expect((await portfolioAs(two)).status).toBe(401);
    expect((await portfolioAs(three)).status).toBe(401);
    expect((await portfolioAs(elsewhere)).status).toBe(200);
  });
});
