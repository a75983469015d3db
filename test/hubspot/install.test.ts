import { join } from 'node:path';
import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hubspotLimiter } from '../../src/hubspot/client.ts';
import { fetchDeal } from '../../src/hubspot/deals.ts';
import { writeBillingSummaries } from '../../src/hubspot/properties.ts';
import { SlidingWindowLimiter } from '../../src/redis/rate-limit.ts';
import { hubspotInstalls, oauthGrants, oauthStates, sessions, tenants } from '../../src/store/schema.ts';
import { createApiKey } from '../../src/tenants/repository.ts';
import { type HubSpotSandbox, startHubSpotSandbox } from '../sandboxes/hubspot/index.ts';
import { startTestApp, type TestApp } from '../support/app.ts';
import { killStarted } from '../support/processes.ts';
import { raceProcesses } from '../support/together.ts';

const PORTAL = 24681357;
let hs: HubSpotSandbox;
let t: TestApp;

beforeAll(async () => {
  hs = await startHubSpotSandbox();
  hs.seedRealistic(PORTAL);
  // A server database: the refresh test shares it with two separate processes.
  t = await startTestApp(
    {
      HUBSPOT_CLIENT_ID: hs.clientId,
      HUBSPOT_CLIENT_SECRET: hs.clientSecret,
      HUBSPOT_API_BASE_URL: hs.url,
      HUBSPOT_AUTH_URL: `${hs.url}/oauth/authorize`,
    },
    { server: true },
  );
});
afterAll(async () => {
  await killStarted();
  await t?.close();
  await hs?.close();
});

/** Follows the real redirects: the app's install link, HubSpot's authorize page, back to the callback. */
async function install() {
  const start = await t.http.get('/oauth/hubspot/install');
  expect(start.status).toBe(302);
  const authorize = new URL(start.headers.location!);
  expect(authorize.origin + authorize.pathname).toBe(`${hs.url}/oauth/authorize`);
  expect(authorize.searchParams.get('scope')).toContain('crm.objects.deals.read');
  const consent = await fetch(authorize, { redirect: 'manual' });
  expect(consent.status).toBe(302);
  const callback = new URL(consent.headers.get('location')!);
  expect(callback.pathname).toBe('/oauth/hubspot/callback');
  // The same browser: it holds the cookie the install set.
  const browser = (start.headers['set-cookie'] as unknown as string[]).map((c) => c.split(';')[0]).join('; ');
  const done = await t.http.get(callback.pathname + callback.search).set('Cookie', browser);
  return { done, callback, browser };
}

const tenantOf = async () =>
  (
    await t.database.db
      .select()
      .from(tenants)
      .where(eq(tenants.portalId, String(PORTAL)))
  )[0];
/** The install with its grant, as stored. */
const installOf = async (tenantId: string) => {
  const db = t.database.db;
  const [install] = await db.select().from(hubspotInstalls).where(eq(hubspotInstalls.tenantId, tenantId));
  const [grant] = await db
    .select()
    .from(oauthGrants)
    .where(and(eq(oauthGrants.tenantId, tenantId), eq(oauthGrants.provider, 'hubspot')));
  return { ...install!, ...grant! };
};
/** How the adapter reaches the portal, with a limiter of the caller's choice. */
const conn = (limiter = hubspotLimiter(t.redis)) => ({
  config: t.ctx.config,
  redis: t.redis,
  limiter,
  accessToken: t.ctx.hubspot.accessToken,
});

describe('HubSpot install', () => {
  it('installs through the redirect flow and stores the portal with encrypted tokens', async () => {
    const { done, callback } = await install();
    expect(done.status, done.text).toBe(200);
    expect(done.text).toContain('Milestone Billing is installed');
    expect(done.headers['set-cookie']).toContainEqual(expect.stringMatching(/^mb_session=.+HttpOnly/));
    const tenant = await tenantOf();
    expect(tenant).toBeDefined();
    const row = await installOf(tenant!.id);
    expect(row).toMatchObject({ portalId: String(PORTAL), status: 'active' });
    expect(row.expiresAt.getTime() - Date.now()).toBeGreaterThan(25 * 60_000);
    // The tokens HubSpot issued are nowhere in the row in readable form.
    const issued = hs.tokenRequests.list.at(-1)!;
    expect(hs.tokenRequests.byGrantType.authorization_code).toBeGreaterThanOrEqual(1);
    const plain = await t.ctx.hubspot.accessToken(tenant!.id);
    expect(plain.length).toBeGreaterThan(20);
    expect(JSON.stringify(row)).not.toContain(plain);
    expect(row.accessToken).toMatch(/^v1\./);
    expect(issued).toBeDefined();

    // Replaying the callback (same state) is refused.
    const replay = await t.http.get(callback.pathname + callback.search);
    expect(replay.status).toBe(403);
    expect(replay.body.detail).toContain('expired or was already used');
  });

  it('refuses a forged state and an expired one', async () => {
    const forged = await t.http.get('/oauth/hubspot/callback?code=abc&state=forged');
    expect(forged.status).toBe(403);
    await t.database.db
      .insert(oauthStates)
      .values({ state: 'old', provider: 'hubspot', expiresAt: new Date(Date.now() - 1000) });
    const expired = await t.http.get('/oauth/hubspot/callback?code=abc&state=old');
    expect(expired.status).toBe(403);
  });

  it('signs no one in from a callback opened in another browser than the one that started the install (login CSRF)', async () => {
    // The attacker starts the install and approves it in their own browser…
    const start = await t.http.get('/oauth/hubspot/install');
    const consent = await fetch(new URL(start.headers.location!), { redirect: 'manual' });
    const callback = new URL(consent.headers.get('location')!);
    const sessionsBefore = (await t.database.db.select().from(sessions)).length;
    const exchanges = hs.tokenRequests.byGrantType.authorization_code ?? 0;
    // …and the victim opens the callback URL, without the attacker's cookie.
    const victim = await t.http
      .get(callback.pathname + callback.search)
      .set('Cookie', 'mb_oauth_hubspot=victims-own');
    expect(victim.status).toBe(403);
    expect(victim.body.detail).toContain('started in another browser');
    expect(victim.headers['set-cookie'] ?? []).not.toContainEqual(expect.stringMatching(/^mb_session=/));
    expect(await t.database.db.select().from(sessions)).toHaveLength(sessionsBefore);
    expect(hs.tokenRequests.byGrantType.authorization_code ?? 0).toBe(exchanges);
  });

  it('answers an authorization code HubSpot refuses with a 4xx page, not a 500', async () => {
    const start = await t.http.get('/oauth/hubspot/install');
    const state = new URL(start.headers.location!).searchParams.get('state')!;
    const browser = (start.headers['set-cookie'] as unknown as string[])
      .map((c) => c.split(';')[0])
      .join('; ');
    const done = await t.http
      .get(`/oauth/hubspot/callback?code=not-a-code&state=${state}`)
      .set('Cookie', browser)
      .set('Accept', 'text/html,application/xhtml+xml,*/*;q=0.8');
    expect(done.status).toBe(403);
    expect(done.headers['content-type']).toMatch(/^text\/html/);
    expect(done.text).toContain('HubSpot did not accept the authorisation');
  });

  it('re-installing the same portal updates the tenant instead of duplicating it', async () => {
    const before = await tenantOf();
    const oldTokens = await installOf(before!.id);
    const { done } = await install();
    expect(done.status).toBe(200);
    const all = await t.database.db
      .select()
      .from(tenants)
      .where(eq(tenants.portalId, String(PORTAL)));
    expect(all).toHaveLength(1);
    expect(all[0]!.id).toBe(before!.id);
    expect((await installOf(before!.id)).accessToken).not.toBe(oldTokens.accessToken);
  });

  it('two worker processes needing an expired token cause exactly one refresh', async () => {
    const tenant = (await tenantOf())!;
    await t.database.db
      .update(oauthGrants)
      .set({ expiresAt: new Date(Date.now() - 60_000) })
      .where(and(eq(oauthGrants.tenantId, tenant.id), eq(oauthGrants.provider, 'hubspot')));
    hs.expireAccessTokens(PORTAL);
    const refreshesBefore = hs.tokenRequests.byGrantType.refresh_token ?? 0;
    const [a, b] = await raceProcesses(join(import.meta.dirname, '../support/refresh-child.ts'), {
      PATH: process.env.PATH!,
      DATABASE_URL: t.database.url!,
      REDIS_URL: t.ctx.config.redisUrl,
      ENCRYPTION_KEY: t.encryptionKey.toString('base64'),
      HUBSPOT_CLIENT_ID: hs.clientId,
      HUBSPOT_CLIENT_SECRET: hs.clientSecret,
      HUBSPOT_API_BASE_URL: hs.url,
      TENANT_ID: tenant.id,
    });
    expect(hs.tokenRequests.byGrantType.refresh_token).toBe(refreshesBefore + 1);
    expect(a).toBe(b);
    expect((await installOf(tenant.id)).expiresAt.getTime()).toBeGreaterThan(Date.now() + 25 * 60_000);
  }, 60_000);

  it('reads a deal with its primary company and contacts, amounts exact', async () => {
    const tenant = (await tenantOf())!;
    const seeded = hs.listDeals(PORTAL).find((d) => d.properties.amount === '12000.50')!;
    const deal = await fetchDeal(conn(), { tenantId: tenant.id, portalId: String(PORTAL) }, seeded.id);
    expect(deal).toMatchObject({
      id: seeded.id,
      name: 'Müller & Schmidt – Warehouse Retrofit',
      amount: 1_200_050,
      currency: 'EUR',
      stage: 'decisionmakerboughtin',
      closeDate: '2026-12-15',
    });
    expect(deal.company?.id).toBe(seeded.primaryCompanyId);
    expect(deal.company?.name).toBeTruthy();
    expect(deal.contacts.map((c) => c.id).sort()).toEqual([...seeded.contactIds].sort());
    expect(deal.contacts.every((c) => c.email?.includes('@'))).toBe(true);
  });

  it('takes the portal’s company currency for a deal without one, asking HubSpot once per portal', async () => {
    const portalId = 24_690_000 + Math.floor(Math.random() * 9_999);
    hs.addPortal(portalId, { companyCurrency: 'EUR', currencies: ['EUR', 'USD'] });
    const { dealId } = await hs.createDeal(portalId, {
      dealname: 'No currency of its own',
      amount: '1500.5',
    });
    const { accessToken } = hs.issueTokens(portalId);
    const direct = { ...conn(), accessToken: async () => accessToken };
    const portal = { tenantId: `tenant-of-${portalId}`, portalId: String(portalId) };
    expect(await fetchDeal(direct, portal, dealId)).toMatchObject({ currency: 'EUR', amount: 150_050 });
    await fetchDeal(direct, portal, dealId);
    const asked = hs.requests.filter((r) => r.portalId === portalId && r.path.startsWith('/account-info/'));
    expect(asked.map((r) => `${r.method} ${r.path} ${r.status}`)).toEqual([
      'GET /account-info/2026-03/details 200',
    ]);
  });

  it('serves the deal with its billing party and prices a template from the deal amount', async () => {
    const tenant = (await tenantOf())!;
    const { key } = await createApiKey(t.database.db, tenant.id, 'test');
    const auth = { Authorization: `Bearer ${key}` };
    const seeded = hs.listDeals(PORTAL).find((d) => d.properties.amount === '12000.50')!;
    const read = await t.http.get(`/api/v1/deals/${seeded.id}`).set(auth);
    expect(read.status).toBe(200);
    expect(read.body).toMatchObject({
      deal: {
        id: seeded.id,
        amount: { amount: '12000.50', currency: 'EUR' },
        company: { id: seeded.primaryCompanyId },
      },
      schedule: null,
    });
    const applied = await t.http
      .post(`/api/v1/deals/${seeded.id}/schedule/template`)
      .set(auth)
      .send({ template: 'consulting', startDate: '2026-12-01' });
    expect(applied.status).toBe(201);
    expect(applied.body).toMatchObject({
      dealName: 'Müller & Schmidt – Warehouse Retrofit',
      contractValue: { amount: '12000.50', currency: 'EUR' },
      totals: { scheduled: { amount: '12000.50' } },
    });
    const missing = await t.http.get('/api/v1/deals/404404404').set(auth);
    expect(missing.status).toBe(404);
    expect(missing.body.code).toBe('hubspot_not_found');
  });

  it('refuses a schedule for a deal the portal does not know, naming the deal', async () => {
    const tenant = (await tenantOf())!;
    const { key } = await createApiKey(t.database.db, tenant.id, 'test');
    const res = await t.http
      .put('/api/v1/deals/404404405/schedule')
      .set({ Authorization: `Bearer ${key}` })
      .send({
        contractValue: { amount: '100.00', currency: 'EUR' },
        milestones: [
          {
            name: 'All',
            deliverable: 'All',
            acceptanceCriteria: 'Done',
            percent: '100',
            plannedDate: '2026-12-01',
          },
        ],
      });
    expect(res.status).toBe(404);
    expect(res.body).toMatchObject({ code: 'unknown_deal' });
    expect(res.body.detail).toBe(`deal 404404405 does not exist in HubSpot portal ${PORTAL}`);
    expect(
      (await t.http.get('/api/v1/deals/404404405/schedule').set({ Authorization: `Bearer ${key}` })).status,
    ).toBe(404);
  });

  it('answers 503 with Retry-After when a request would wait too long for HubSpot budget', async () => {
    const tenant = (await tenantOf())!;
    const { key } = await createApiKey(t.database.db, tenant.id, 'test');
    // Other work of this portal has just used the whole window.
    const window = `ratelimit:hubspot:${PORTAL}`;
    const now = Date.now();
    await t.redis.zadd(window, ...Array.from({ length: 105 }, (_, i) => [now, `other-${i}`]).flat());
    try {
      const dealId = hs.listDeals(PORTAL)[0]!.id;
      const res = await t.http.get(`/api/v1/deals/${dealId}`).set({ Authorization: `Bearer ${key}` });
      expect(res.status).toBe(503);
      expect(res.headers['retry-after']).toBe('10');
      expect(res.body).toMatchObject({ code: 'hubspot_busy' });
    } finally {
      await t.redis.del(window);
    }
  });

  it('retries 5xx and keeps within 110 requests per 10 s per portal', async () => {
    const tenant = (await tenantOf())!;
    const portal = { tenantId: tenant.id, portalId: String(PORTAL) };
    const dealId = hs.listDeals(PORTAL)[0]!.id;
    hs.failNext(2, 503);
    expect((await fetchDeal(conn(), portal, dealId)).id).toBe(dealId);

    // HubSpot's limit scaled down tenfold (11 per second). Two limiters on separate connections,
    // as two processes have, share one budget of 10 per 1.25 s: unshared they would send 20 per
    // window and draw 429s. (The guard of time is wider than production's 0.5 s in 10 s because
    // scheduling jitter on a loaded 2-core machine does not shrink with the scale.)
    hs.resetRateLimits();
    hs.setRateLimit({ max: 11, windowMs: 1000 });
    const second = new SlidingWindowLimiter(t.redis.duplicate(), 10, 1250);
    const tight = new SlidingWindowLimiter(t.redis, 10, 1250);
    hs.clearLogs();
    const reads = Array.from({ length: 10 }, (_, i) =>
      fetchDeal(conn(i % 2 ? tight : second), portal, dealId),
    );
    await Promise.all(reads);
    expect(hs.requests.filter((r) => r.status === 429)).toHaveLength(0);
    expect(hs.requests.filter((r) => r.path.startsWith('/crm/')).length).toBeGreaterThanOrEqual(30);
    hs.setRateLimit({ max: 110, windowMs: 10_000 });
  }, 30_000);

  it("keeps part of a portal's budget free of background work: a deal read passes a backlog of write-backs", async () => {
    const tenant = (await tenantOf())!;
    const portal = { tenantId: tenant.id, portalId: String(PORTAL) };
    const dealId = hs.listDeals(PORTAL)[0]!.id;
    const summary = {
      status: 'active',
      currency: 'USD',
      invoiced: 100,
      paid: 0,
      outstanding: 100,
      overdue: 0,
      nextMilestoneDate: null,
    } as const;
    // 10 requests per second for this portal; write-backs may fill 8 of them.
    const limiter = new SlidingWindowLimiter(t.redis, 10, 1000);
    await writeBillingSummaries({ ...conn(limiter), db: t.database.db }, portal, [{ dealId, summary }]);
    await new Promise((r) => setTimeout(r, 1100));
    const finished: string[] = [];
    const backlog = Array.from({ length: 24 }, (_, i) =>
      writeBillingSummaries({ ...conn(limiter), db: t.database.db }, portal, [{ dealId, summary }]).then(() =>
        finished.push(`write ${i}`),
      ),
    );
    await new Promise((r) => setTimeout(r, 50));
    const read = fetchDeal(conn(limiter), portal, dealId).then(() => finished.push('deal read'));
    await Promise.all([...backlog, read]);
    // The backlog takes three windows; the read (deal, then its company and contacts) is not last
    // in line behind it but goes in the first windows' reserve.
    expect(finished.indexOf('deal read'), finished.join(', ')).toBeLessThan(16);
  }, 30_000);

  it('after a 429 waits out the window HubSpot names before trying again', async () => {
    const tenant = (await tenantOf())!;
    const portal = { tenantId: tenant.id, portalId: String(PORTAL) };
    const dealId = hs.listDeals(PORTAL)[0]!.id;
    // Two requests per 1.5 s, and a limiter far looser than that: the deal read, then its
    // company and contacts together, runs into HubSpot's own limit once.
    hs.resetRateLimits();
    hs.setRateLimit({ max: 2, windowMs: 1500 });
    hs.clearLogs();
    try {
      const deal = await fetchDeal(conn(new SlidingWindowLimiter(t.redis, 100, 1000)), portal, dealId);
      expect(deal.contacts.length).toBeGreaterThan(0);
    } finally {
      hs.setRateLimit({ max: 110, windowMs: 10_000 });
      hs.resetRateLimits();
    }
    const crm = hs.requests.filter((r) => r.path.startsWith('/crm/'));
    const refused = crm.filter((r) => r.status === 429);
    // A short backoff would have come back inside the window and been refused again.
    expect(refused).toHaveLength(1);
    const retry = crm.find((r) => r.path === refused[0]!.path && r.at > refused[0]!.at);
    expect(retry?.status).toBe(200);
    expect(retry!.at - refused[0]!.at).toBeGreaterThanOrEqual(1500);
  }, 30_000);

  it('marks the install as needing re-authorisation when HubSpot revokes it', async () => {
    const tenant = (await tenantOf())!;
    hs.revokeRefreshTokens(PORTAL);
    await expect(t.ctx.hubspot.accessToken(tenant.id, { force: true })).rejects.toMatchObject({
      code: 'hubspot_reauth_required',
    });
    expect((await installOf(tenant.id)).status).toBe('needs_reconnect');
  });
});
