import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signAcceptance } from '../../src/acceptance/signature.ts';
import { acceptances, inbox } from '../../src/store/schema.ts';
import { acceptanceSecret } from '../../src/tenants/repository.ts';
import { dealPropertyChangeEvent, signV1 } from '../sandboxes/hubspot/index.ts';
import { signedHeaders } from '../sandboxes/hubspot/webhooks.ts';
import { startTestApp, type TestApp, type TestTenant } from '../support/app.ts';
import {
  cardQuery,
  HUBSPOT_SECRET,
  intuitSignature,
  jobCount,
  PUBLIC_URL,
  QBO_VERIFIER_TOKEN,
  signedCard,
  signingEnv,
  twoMilestoneSchedule,
} from './helpers.ts';

/**
 * Signatures of every endpoint that takes a signed request (DESIGN §4.3, §4.2). Already proven
 * elsewhere, and not repeated here:
 * - /webhooks/hubspot — missing, wrong, one byte altered, 6 minutes old (no inbox row, no job),
 *   dated in the future, bytes swapped under the same text, a batch delivered again:
 *   test/hubspot/webhooks.test.ts.
 * - /webhooks/acceptance — missing, wrong secret, one byte altered, stale, invalid UTF-8 swap, a
 *   rotated secret, the same report id again: test/webhooks/acceptance.test.ts.
 * - /webhooks/quickbooks — a wrong verifier token; the same notification twice changes state once:
 *   test/quickbooks/payments.test.ts.
 * - /card/v1 — unsigned, wrong secret, altered body, stale, future-dated: test/card/api.test.ts.
 * What follows is the rest: every refusal here is a 401 that leaves no inbox row, no job and no
 * acceptance, and a replay (the very same bytes and headers again) has no second effect.
 */

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp(signingEnv);
});
afterAll(() => t?.close());

let deals = 0;
async function tenantWithSchedule() {
  const tenant = await t.tenant();
  const dealId = String(5_100_000 + ++deals);
  const res = await tenant.put(`/deals/${dealId}/schedule`, twoMilestoneSchedule('10000.00'));
  expect(res.status).toBe(200);
  return { tenant, dealId, milestoneId: res.body.milestones[0].id as string };
}

const inboxRows = async () => (await t.database.db.select({ id: inbox.id }).from(inbox)).length;
const acceptancesOf = async (tenant: TestTenant) =>
  (await t.database.db.select().from(acceptances).where(eq(acceptances.tenantId, tenant.tenant.id))).length;

/** Sends each request and expects all of them refused with 401, leaving nothing behind. */
async function expectRefusedWithoutTrace(
  send: (() => Promise<{ status: number; body: { code?: string } }>)[],
  tenant?: TestTenant,
) {
  const before = { inbox: await inboxRows(), jobs: await jobCount(t.ctx) };
  const answers = [];
  for (const request of send) answers.push(await request());
  expect(answers.map((a) => a.status)).toEqual(send.map(() => 401));
  expect(answers.map((a) => a.body.code)).toEqual(send.map(() => 'invalid_signature'));
  expect(await inboxRows()).toBe(before.inbox);
  expect(await jobCount(t.ctx)).toBe(before.jobs);
  if (tenant) expect(await acceptancesOf(tenant)).toBe(0);
}

describe('POST /webhooks/acceptance', () => {
  const post = (raw: string | Buffer, signature?: string) => {
    const req = t.http.post('/webhooks/acceptance').set('Content-Type', 'application/json');
    return (signature ? req.set('X-Acceptance-Signature', signature) : req).send(raw);
  };
  const report = (tenant: TestTenant, dealId: string, id = 'acc_sec_1') =>
    JSON.stringify({
      id,
      portalId: tenant.portalId,
      dealId,
      milestone: { key: 'design' },
      acceptedAt: new Date().toISOString(),
      acceptedBy: { name: 'Dana Client' },
    });

  it('refuses future-dated, malformed and cross-tenant signatures, storing and queueing nothing', async () => {
    const { tenant, dealId } = await tenantWithSchedule();
    const other = await t.tenant('Other Agency');
    const secret = acceptanceSecret(t.encryptionKey, tenant.tenant);
    const raw = report(tenant, dealId);
    const mac = signAcceptance(secret, raw).split('v1=')[1]!;
    await expectRefusedWithoutTrace(
      [
        () => post(raw, signAcceptance(secret, raw, Date.now() + 10 * 60_000)),
        // Seconds where milliseconds belong: 1970, not now.
        () => post(raw, signAcceptance(secret, raw, Math.floor(Date.now() / 1000))),
        () => post(raw, `v1=${mac}`),
        () => post(raw, `t=${Date.now()}`),
        () => post(raw, `t=soon,v1=${mac}`),
        () => post(raw, 'garbage'),
        // Signed with another tenant's secret, claiming this tenant's portal.
        () => post(raw, signAcceptance(acceptanceSecret(t.encryptionKey, other.tenant), raw)),
        // A body naming a portal no tenant has.
        () => post(raw.replace(tenant.portalId, '99999999999'), signAcceptance(secret, raw)),
      ],
      tenant,
    );
    // What was refused was the signature: the same body signed now is accepted.
    expect((await post(raw, signAcceptance(secret, raw))).status).toBe(200);
  });

  it('answers the very same signed request sent twice as a duplicate: one acceptance, one push job', async () => {
    const { tenant, dealId } = await tenantWithSchedule();
    const raw = report(tenant, dealId, 'acc_replayed');
    const signature = signAcceptance(acceptanceSecret(t.encryptionKey, tenant.tenant), raw);
    const jobs = await jobCount(t.ctx);
    const first = await post(raw, signature);
    expect(first.status).toBe(200);
    expect(first.body.outcome).toBe('accepted');
    const again = await post(raw, signature);
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ outcome: 'duplicate', acceptanceId: first.body.acceptanceId });
    expect(await acceptancesOf(tenant)).toBe(1);
    expect(await jobCount(t.ctx)).toBe(jobs + 1);
  });
});

describe('POST /webhooks/quickbooks', () => {
  // Intuit's signature has no timestamp, so there is no stale or future-dated request to refuse;
  // the inbox's dedupe on the event id is the replay defence (last test).
  const notification = (id: string, realmId = '9130000001') =>
    JSON.stringify([
      {
        specversion: '1.0',
        id,
        source: 'intuit.security',
        type: 'qbo.payment.created.v1',
        time: new Date().toISOString(),
        intuitentityid: '77',
        intuitaccountid: realmId,
      },
    ]);
  const post = (raw: string, signature?: string) => {
    const req = t.http.post('/webhooks/quickbooks').set('Content-Type', 'application/cloudevents+json');
    return (signature === undefined ? req : req.set('intuit-signature', signature)).send(raw);
  };

  it('refuses missing, wrong, malformed and other bodies’ signatures, and a body altered by one byte', async () => {
    const raw = notification('evt-sec-refused');
    const good = intuitSignature(QBO_VERIFIER_TOKEN, raw);
    const flipped = raw.replace('"77"', '"78"');
    expect(flipped).toHaveLength(raw.length);
    await expectRefusedWithoutTrace([
      () => post(raw),
      () => post(raw, ''),
      () => post(raw, intuitSignature('not-the-verifier', raw)),
      () => post(raw, intuitSignature(QBO_VERIFIER_TOKEN, notification('evt-other'))),
      () => post(flipped, good),
      () => post(raw, good.replace(/=+$/, '')),
      () => post(raw, Buffer.from(good, 'base64').toString('hex')),
      () => post(`${raw} `, good),
    ]);
    expect((await post(raw, good)).status).toBe(200);
  });

  it('keeps one inbox row and one job when the very same signed request comes twice', async () => {
    // A company of its own: a company's events share one job per window.
    const raw = notification('evt-sec-replayed', '9130000002');
    const signature = intuitSignature(QBO_VERIFIER_TOKEN, raw);
    const before = { inbox: await inboxRows(), jobs: await jobCount(t.ctx) };
    expect((await post(raw, signature)).body).toEqual({ received: 1, new: 1 });
    expect((await post(raw, signature)).body).toEqual({ received: 1, new: 0 });
    expect(await inboxRows()).toBe(before.inbox + 1);
    expect(await jobCount(t.ctx)).toBe(before.jobs + 1);
  });
});

describe('POST /webhooks/hubspot', () => {
  const url = `${PUBLIC_URL}/webhooks/hubspot`;
  const batch = (dealId: string) =>
    JSON.stringify([dealPropertyChangeEvent(4_040_404, dealId, 'dealstage', 'closedwon')]);
  const post = (raw: string, headers: Record<string, string>) =>
    t.http
      .post('/webhooks/hubspot')
      .set({ ...headers, 'Content-Type': 'application/json' })
      .send(raw);

  it('refuses a v1 signature alone, and a v3 signature made for another URL or method', async () => {
    const raw = batch('8800001');
    const signed = (over: { url?: string; method?: string; secret?: string }) =>
      signedHeaders(over.secret ?? HUBSPOT_SECRET, {
        method: over.method ?? 'POST',
        url: over.url ?? url,
        body: raw,
        timestamp: Date.now(),
      });
    const card = signedCard('POST', `/card/v1/portfolio-link?${cardQuery('4040404')}`, raw);
    await expectRefusedWithoutTrace([
      () =>
        post(raw, {
          'X-HubSpot-Signature': signV1(HUBSPOT_SECRET, raw),
          'X-HubSpot-Signature-Version': 'v1',
        }),
      () => post(raw, signed({ url: `${url}?portalId=1` })),
      () => post(raw, signed({ url: 'https://attacker.example/webhooks/hubspot' })),
      () => post(raw, signed({ method: 'PUT' })),
      // A card request's signature, sent to the webhook: same secret, another URL.
      () => post(raw, card.headers),
      () => post(raw, { ...signed({}), 'X-HubSpot-Request-Timestamp': 'now' }),
    ]);
    expect((await post(raw, signed({}))).status).toBe(200);
  });

  it('keeps one inbox row and one job when the very same signed request comes twice', async () => {
    const raw = batch('8800002');
    const headers = signedHeaders(HUBSPOT_SECRET, { method: 'POST', url, body: raw, timestamp: Date.now() });
    const before = { inbox: await inboxRows(), jobs: await jobCount(t.ctx) };
    expect((await post(raw, headers)).body).toEqual({ received: 1, new: 1 });
    expect((await post(raw, headers)).body).toEqual({ received: 1, new: 0 });
    expect(await inboxRows()).toBe(before.inbox + 1);
    expect(await jobCount(t.ctx)).toBe(before.jobs + 1);
  });
});

describe('the card API (/card/v1)', () => {
  const send = (method: 'post' | 'get', request: ReturnType<typeof signedCard>) => {
    const path = request.url.slice(PUBLIC_URL.length);
    const req = t.http[method](path).set(request.headers);
    return method === 'post' ? req.send(request.body as string) : req;
  };

  it('refuses a signed request replayed: the second acceptance of the same bytes changes nothing', async () => {
    const { tenant, milestoneId } = await tenantWithSchedule();
    const request = signedCard(
      'POST',
      `/card/v1/milestones/${milestoneId}/acceptances?${cardQuery(tenant.portalId)}`,
      JSON.stringify({ portion: { percent: '50' }, acceptedBy: { name: 'Dana Client' } }),
    );
    const jobs = await jobCount(t.ctx);
    const first = await send('post', request);
    expect(first.status, first.text).toBe(201);
    // Captured on the way (a proxy log, a browser extension) and sent again within the 5 minutes.
    const replayed = await send('post', request);
    expect(replayed.status).toBe(401);
    expect(replayed.body.code).toBe('invalid_signature');
    expect(replayed.body.detail).toContain('already');
    expect(await acceptancesOf(tenant)).toBe(1);
    expect(await jobCount(t.ctx)).toBe(jobs + 1);
    expect((await tenant.get(`/milestones/${milestoneId}/history`)).body.transitions).toHaveLength(2);
  });

  it("refuses a signature made for another portal's URL, another method or another path", async () => {
    const { tenant, milestoneId } = await tenantWithSchedule();
    const other = await t.tenant('Other Agency');
    const body = JSON.stringify({ portion: { percent: '50' } });
    const path = `/card/v1/milestones/${milestoneId}/acceptances`;
    const signedFor = (method: string, p: string) => signedCard(method, p, body);
    const sentAs = (signed: ReturnType<typeof signedCard>, p: string) =>
      t.http.post(p).set(signed.headers).send(body);
    const mine = `${path}?${cardQuery(tenant.portalId)}`;
    await expectRefusedWithoutTrace(
      [
        // Signed for the other portal (its own user, its own query), sent with this portal's.
        () => sentAs(signedFor('POST', `${path}?${cardQuery(other.portalId)}`), mine),
        // The same URL with the user swapped for an admin of the portal.
        () => sentAs(signedFor('POST', mine), `${mine}&permissions=integrations-management-write`),
        () => sentAs(signedFor('GET', mine), mine),
        () =>
          sentAs(
            signedFor('POST', `/card/v1/milestones/${milestoneId}/history?${cardQuery(tenant.portalId)}`),
            mine,
          ),
        () =>
          sentAs(
            signedFor('POST', mine),
            `/card/v1/milestones/${milestoneId}/acceptances/?${cardQuery(tenant.portalId)}`,
          ),
        () =>
          t.http
            .post(mine)
            .set({ ...signedFor('POST', mine).headers, 'X-HubSpot-Request-Timestamp': 'soon' })
            .send(body),
      ],
      tenant,
    );
    expect((await sentAs(signedFor('POST', mine), mine)).status).toBe(201);
  });
});
