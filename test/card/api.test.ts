import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signV3 } from '../sandboxes/hubspot/index.ts';
import { type Billing, startBilling } from '../support/billing.ts';

let b: Billing;
let appUrl: string;
beforeAll(async () => {
  b = await startBilling({ listen: true });
  appUrl = b.t.ctx.config.publicUrl;
});
afterAll(() => b?.close());

type Tenant = Awaited<ReturnType<Billing['connectedTenant']>>;

/** Sam, a sales rep of the tenant's portal, whose card calls the app through `hubspot.fetch`. */
function asSam(tenant: Tenant) {
  b.hs.addUser(tenant.portal, { id: 4242, email: 'sam@agency.example' });
  return { portalId: tenant.portal, userId: 4242 };
}

/** A card call as HubSpot relays it: the path the card asked for, then who asks and the signature. */
const card = (tenant: Tenant, path: string, init: { method?: string; body?: unknown } = {}) =>
  b.hs.hubspotFetch(`${appUrl}/card/v1${path}`, { ...init, as: asSam(tenant) });

/** The URL HubSpot sends a card call of Sam's to. */
const cardUrl = (tenant: Tenant, path: string) =>
  `${appUrl}/card/v1${path}?userId=4242&portalId=${tenant.portal}&userEmail=sam%40agency.example&appId=${b.hs.appId}`;

const template = { template: 'software', startDate: '2026-12-01' };

async function scheduleOf(tenant: Tenant, dealId: string) {
  return (await tenant.get(`/deals/${dealId}/schedule`)).status;
}

describe('card API (hubspot.fetch)', () => {
  it('serves a signed request and records the HubSpot user as the actor of each change', async () => {
    const tenant = await b.connectedTenant();
    const deal = tenant.dealNamed('Acme Widgets – Factory Expansion');
    const applied = await card(tenant, `/deals/${deal.id}/schedule/template`, {
      method: 'POST',
      body: template,
    });
    expect(applied.status).toBe(201);
    const schedule = (await applied.json()) as { milestones: { id: string }[] };
    const milestoneId = schedule.milestones[0]!.id;
    const accepted = await card(tenant, `/milestones/${milestoneId}/acceptances`, {
      method: 'POST',
      body: { portion: { percent: '50' }, acceptedBy: { name: 'Dana Client' } },
    });
    expect(accepted.status).toBe(201);
    const history = await card(tenant, `/milestones/${milestoneId}/history`);
    expect(history.status).toBe(200);
    const { transitions } = (await history.json()) as { transitions: { event: string; actor: string }[] };
    expect(transitions.map((e) => [e.event, e.actor])).toEqual(
      expect.arrayContaining([
        ['plan', 'hubspot_user:4242 <sam@agency.example>'],
        ['accept', 'hubspot_user:4242 <sam@agency.example>'],
      ]),
    );
  });

  it('refuses unsigned, wrongly signed, altered, stale and future-dated requests, changing nothing', async () => {
    const tenant = await b.connectedTenant();
    const deal = tenant.dealNamed('Acme Widgets – Factory Expansion');
    const url = cardUrl(tenant, `/deals/${deal.id}/schedule/template`);
    const body = JSON.stringify(template);
    const post = (headers: Record<string, string>, sent = body) =>
      fetch(url, { method: 'POST', headers: { ...headers, 'content-type': 'application/json' }, body: sent });
    const signed = (secret: string, timestamp = Date.now()) => ({
      'X-HubSpot-Signature-v3': signV3(secret, { method: 'POST', url, body, timestamp }),
      'X-HubSpot-Request-Timestamp': String(timestamp),
    });
    const answers = [
      await post({}),
      await post(signed('not-the-client-secret')),
      await post(signed(b.hs.clientSecret), JSON.stringify({ ...template, template: 'construction' })),
      await post(signed(b.hs.clientSecret, Date.now() - 6 * 60_000)),
      await post(signed(b.hs.clientSecret, Date.now() + 10 * 60_000)),
    ];
    expect(answers.map((a) => a.status)).toEqual([401, 401, 401, 401, 401]);
    expect(await scheduleOf(tenant, deal.id)).toBe(404);
    // The same request, correctly signed, goes through: what was refused was the signature.
    expect((await post(signed(b.hs.clientSecret))).status).toBe(201);
  });

  it("answers a signed request for another portal's deal with 404", async () => {
    const owner = await b.connectedTenant();
    const other = await b.connectedTenant();
    const deal = owner.dealNamed('Acme Widgets – Factory Expansion');
    expect((await owner.post(`/deals/${deal.id}/schedule/template`, template)).status).toBe(201);
    const milestoneId = (await owner.get(`/deals/${deal.id}/schedule`)).body.milestones[0].id as string;

    const read = await card(other, `/deals/${deal.id}/schedule`);
    expect(read.status).toBe(404);
    const accept = await card(other, `/milestones/${milestoneId}/acceptances`, {
      method: 'POST',
      body: {},
    });
    expect(accept.status).toBe(404);
    expect((await owner.get(`/milestones/${milestoneId}`)).body.status).toBe('planned');
  });
});
