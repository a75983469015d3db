import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signAcceptance } from '../../src/acceptance/signature.ts';
import { acceptanceSecret, createApiKey } from '../../src/tenants/repository.ts';
import { adminCall, portfolioLink, refusedInvoice } from '../app/refused-invoice.ts';
import { type Billing, startBilling } from '../support/billing.ts';
import { confirmLink } from '../support/links.ts';
import { eventually } from '../support/net.ts';
import { tenantFingerprint } from './helpers.ts';

/**
 * Tenant A — through its API key, its browser session, its read-only share link, card requests
 * signed for its portal and its acceptance secret — never reads or changes tenant B's data.
 * Already proven elsewhere, not repeated: an API key reading another tenant's schedule and
 * milestone, or accepting it (test/api/schedules.test.ts "tenancy"); a card request reading
 * another portal's schedule or accepting its milestone (test/card/api.test.ts).
 */

let b: Billing;
let appUrl: string;
type Tenant = Awaited<ReturnType<Billing['connectedTenant']>>;
let a: Tenant;
let bee: Tenant;
/** B's deal whose first invoice QuickBooks refused, its milestones, and a deal invoiced fine. */
let bRefusedDeal: string;
let bMilestones: string[];
let bInvoicedDeal: string;
let bKeyId: string;
let bKey: string;
let bShare: { id: string; url: string };
let aDeal: string;
let aSession: string;
let aShareSession: string;
let bShareSession: string;

const B_AMOUNT = '7777.77';
const hop = (path: string, init: RequestInit = {}) =>
  fetch(path.startsWith('http') ? path : `${appUrl}${path}`, { redirect: 'manual', ...init });
const sessionOf = (res: Response) =>
  res.headers
    .getSetCookie()
    .find((c) => c.startsWith('mb_session='))!
    .split(';')[0]!;

async function stable<T>(probe: () => Promise<T>): Promise<T> {
  let last = JSON.stringify(await probe());
  return eventually(
    async () => {
      await new Promise((r) => setTimeout(r, 200));
      const now = JSON.stringify(await probe());
      const same = now === last;
      last = now;
      return same ? (JSON.parse(now) as T) : undefined;
    },
    (v) => v !== undefined,
  ) as Promise<T>;
}

beforeAll(async () => {
  b = await startBilling({ listen: true });
  appUrl = b.t.ctx.config.publicUrl;

  a = await b.connectedTenant();
  aDeal = a.dealNamed('Acme Widgets – Factory Expansion').id;
  expect(
    (await a.post(`/deals/${aDeal}/schedule/template`, { template: 'software', startDate: '2026-12-01' }))
      .status,
  ).toBe(201);
  await a.accept({ id: `ten-a-${a.portal}`, dealId: aDeal, milestone: { key: 'discovery' } });
  expect((await a.settled(1, { writtenBack: true }))[0]!.push.status).toBe('created');

  const refused = await refusedInvoice(b);
  bee = refused.tenant;
  bRefusedDeal = refused.deal.id;
  await refused.fix();
  bMilestones = (await bee.get(`/deals/${bRefusedDeal}/schedule`)).body.milestones.map(
    (m: { id: string }) => m.id,
  );
  bInvoicedDeal = bee.dealNamed('Acme Widgets – Annual Maintenance').id;
  const put = await bee.put(`/deals/${bInvoicedDeal}/schedule`, {
    contractValue: { amount: B_AMOUNT, currency: 'USD' },
    dealName: 'B only – maintenance',
    milestones: [
      {
        name: 'Support',
        key: 'support',
        deliverable: 'Support',
        acceptanceCriteria: 'Done',
        amount: B_AMOUNT,
        plannedDate: '2026-12-01',
      },
    ],
  });
  expect(put.status).toBe(200);
  await bee.accept({ id: `ten-b-${bee.portal}`, dealId: bInvoicedDeal, milestone: { key: 'support' } });
  const pushes = await bee.settled(2, { writtenBack: true });
  expect(pushes.map((p) => p.push.status).sort()).toEqual(['created', 'failed']);
  expect(
    (
      await bee.post('/templates', {
        key: 'b-only',
        name: 'B only',
        milestones: [
          { name: 'All', deliverable: 'D', acceptanceCriteria: 'A', percent: '100', offsetDays: 0 },
        ],
      })
    ).status,
  ).toBe(201);
  const created = await createApiKey(b.t.database.db, bee.tenant.id, 'b key');
  bKeyId = created.id;
  bKey = created.key;
  bShare = (await (
    await adminCall(b, bee.portal, 'POST', '/settings/share-links', { label: 'B books', days: 7 })
  ).json()) as {
    id: string;
    url: string;
  };
  const aShare = (await (
    await adminCall(b, a.portal, 'POST', '/settings/share-links', { label: 'A books', days: 7 })
  ).json()) as {
    url: string;
  };
  aSession = sessionOf((await confirmLink(await portfolioLink(b, a.portal))).answer);
  aShareSession = sessionOf((await confirmLink(aShare.url)).answer);
  bShareSession = sessionOf((await confirmLink(bShare.url)).answer);
}, 90_000);
afterAll(() => b?.close());

/** B as stored, once its own background work (write-backs, roll-ups) has settled. */
const bAsStored = () => stable(() => tenantFingerprint(b.t.database.db, bee.tenant.id));

describe("tenant A's API key", () => {
  it("reads none of B's deals, milestones or templates and changes nothing of B's", async () => {
    const before = await bAsStored();
    const [design] = bMilestones;
    const answers: Record<string, number> = {};
    const note = async (what: string, res: Promise<{ status: number }>) => {
      answers[what] = (await res).status;
    };
    await note('GET deal', a.get(`/deals/${bRefusedDeal}`));
    await note('GET card', a.get(`/deals/${bRefusedDeal}/card`));
    await note('GET versions', a.get(`/deals/${bRefusedDeal}/schedule/versions`));
    await note('GET version 1', a.get(`/deals/${bRefusedDeal}/schedule/versions/1`));
    await note('GET history', a.get(`/milestones/${design}/history`));
    await note('POST retry-invoice', a.post(`/milestones/${design}/retry-invoice`));
    await note('POST dispute', a.post(`/milestones/${bMilestones[1]}/dispute`, { reason: 'mine now' }));
    await note('POST resolve', a.post(`/milestones/${bMilestones[1]}/resolve`, {}));
    await note(
      'PUT schedule',
      a.put(`/deals/${bInvoicedDeal}/schedule`, {
        contractValue: { amount: '1.00', currency: 'USD' },
        milestones: [
          { name: 'X', deliverable: 'X', acceptanceCriteria: 'X', amount: '1.00', plannedDate: '2026-12-01' },
        ],
      }),
    );
    await note(
      'POST template',
      a.post(`/deals/${bInvoicedDeal}/schedule/template`, { template: 'software' }),
    );
    await note(
      'POST change order',
      a.post(`/deals/${bRefusedDeal}/schedule/change-orders`, {
        baseVersion: 1,
        reason: 'takeover',
        cancel: [bMilestones[2]],
      }),
    );
    const aVersion = (await a.get(`/deals/${aDeal}/schedule`)).body.version as number;
    // B's milestone ids in a change order of A's own schedule.
    await note(
      'cancel B in A',
      a.post(`/deals/${aDeal}/schedule/change-orders`, {
        baseVersion: aVersion,
        reason: 'takeover',
        cancel: [bMilestones[2]],
      }),
    );
    await note(
      'change B in A',
      a.post(`/deals/${aDeal}/schedule/change-orders`, {
        baseVersion: aVersion,
        reason: 'takeover',
        change: [{ id: bMilestones[2], name: 'Renamed by A' }],
      }),
    );
    await note(
      'PUT B template',
      a.put('/templates/b-only', {
        key: 'b-only',
        name: 'Taken',
        milestones: [
          { name: 'All', deliverable: 'D', acceptanceCriteria: 'A', percent: '100', offsetDays: 0 },
        ],
      }),
    );
    await note('DELETE B template', a.raw('delete' as 'post', '/templates/b-only'));
    expect(answers).toEqual({
      'GET deal': 404,
      'GET card': 404,
      'GET versions': 404,
      'GET version 1': 404,
      'GET history': 404,
      'POST retry-invoice': 404,
      'POST dispute': 404,
      'POST resolve': 404,
      'PUT schedule': 404,
      'POST template': 404,
      'POST change order': 404,
      'cancel B in A': expect.any(Number),
      'change B in A': expect.any(Number),
      'PUT B template': expect.any(Number),
      'DELETE B template': 404,
    });
    for (const what of ['cancel B in A', 'change B in A'])
      expect(answers[what], what).toBeGreaterThanOrEqual(400);
    expect(await tenantFingerprint(b.t.database.db, bee.tenant.id)).toEqual(before);
    expect((await a.get('/templates')).body.templates.map((t: { name: string }) => t.name)).not.toContain(
      'B only',
    );
    expect(
      (await bee.get('/templates')).body.templates.find((t: { key: string }) => t.key === 'b-only').name,
    ).toBe('B only');
  });

  it("sums only A's milestones in the portfolio, forecast and aging, whatever the filters", async () => {
    const customerId = (await bee.get('/portfolio/aging')).body.customers.find(
      (c: { total: { amount: string } }) => c.total.amount === B_AMOUNT,
    )?.customerId as string;
    expect(customerId).toBeTruthy();
    for (const path of [
      '/portfolio',
      '/portfolio/forecast',
      '/portfolio/aging',
      `/portfolio?customerId=${customerId}`,
      `/portfolio/aging?customerId=${customerId}`,
      '/portfolio/forecast/weeks/2026-11-30?currency=USD',
    ]) {
      const res = await a.get(path);
      expect(res.status, path).toBe(200);
      const text = JSON.stringify(res.body);
      expect(text, path).not.toContain(B_AMOUNT);
      expect(text, path).not.toContain(bRefusedDeal);
      expect(text, path).not.toContain(bInvoicedDeal);
      expect(text, path).not.toContain('B only');
    }
    // B's own key sees B's: the same queries are not merely empty.
    expect(JSON.stringify((await bee.get('/portfolio/aging')).body)).toContain(B_AMOUNT);
  });
});

describe('card requests signed for portal A', () => {
  const asA = (method: string, path: string, body?: unknown) => adminCall(b, a.portal, method, path, body);

  it("reach none of B's milestones, deals, API keys, share links or settings", async () => {
    const before = await bAsStored();
    const [design] = bMilestones;
    const statuses = {
      milestone: (await asA('GET', `/milestones/${design}`)).status,
      history: (await asA('GET', `/milestones/${design}/history`)).status,
      retry: (await asA('POST', `/milestones/${design}/retry-invoice`, {})).status,
      dispute: (await asA('POST', `/milestones/${bMilestones[1]}/dispute`, { reason: 'x' })).status,
      revokeKey: (await asA('DELETE', `/settings/api-keys/${bKeyId}`)).status,
      revokeShare: (await asA('DELETE', `/settings/share-links/${bShare.id}`)).status,
    };
    expect(statuses).toEqual({
      milestone: 404,
      history: 404,
      retry: 404,
      dispute: 404,
      revokeKey: 404,
      revokeShare: 404,
    });
    const card = await asA('GET', `/deals/${bRefusedDeal}/card`);
    expect(card.status).toBeGreaterThanOrEqual(400);
    expect(await card.text()).not.toContain(design!);
    // A's own settings change A's, and list only A's.
    expect((await asA('PUT', '/settings/invoice-defaults', { docNumberPrefix: 'AAA' })).status).toBe(200);
    const keys = JSON.stringify(await (await asA('GET', '/settings/api-keys')).json());
    expect(keys).not.toContain(bKeyId);
    const links = JSON.stringify(await (await asA('GET', '/settings/share-links')).json());
    expect(links).not.toContain(bShare.id);
    const revealed = (await (await asA('POST', '/settings/acceptance-webhook/reveal', {})).json()) as {
      secret: string;
    };
    expect(revealed.secret).toBe(acceptanceSecret(b.t.encryptionKey, a.tenant));
    expect(revealed.secret).not.toBe(acceptanceSecret(b.t.encryptionKey, bee.tenant));

    expect(await tenantFingerprint(b.t.database.db, bee.tenant.id)).toEqual(before);
    expect((await b.t.http.get('/api/v1/templates').set('Authorization', `Bearer ${bKey}`)).status).toBe(200);
    expect((await confirmLink(bShare.url)).answer.status).toBe(303);
  });

  it("cannot name B's portal in a card URL: HubSpot appends A's, and a key given twice is refused", async () => {
    const before = await bAsStored();
    const [design] = bMilestones;
    // A's card code asks for a URL naming a portal; HubSpot's proxy appends A's own after it.
    const fetchNaming = (portal: number, path: string, method = 'GET', body?: unknown) =>
      b.hs.hubspotFetch(`${b.t.ctx.config.publicUrl}/card/v1${path}?portalId=${portal}`, {
        method,
        body,
        as: { portalId: a.portal },
      });
    for (const portal of [bee.portal, a.portal]) {
      const res = await fetchNaming(portal, `/milestones/${design}/dispute`, 'POST', { reason: 'not ours' });
      expect(res.status, String(portal)).toBe(403);
      expect(((await res.json()) as { detail: string }).detail).toBe(
        'the query parameter portalId is given more than once',
      );
      expect((await fetchNaming(portal, `/deals/${aDeal}/card`)).status, String(portal)).toBe(403);
    }
    expect(await tenantFingerprint(b.t.database.db, bee.tenant.id)).toEqual(before);
  });
});

describe("A's acceptance secret", () => {
  it("accepts none of B's milestones, whatever the body names", async () => {
    const before = await bAsStored();
    const secret = acceptanceSecret(b.t.encryptionKey, a.tenant);
    const deliver = (body: Record<string, unknown>) => {
      const raw = JSON.stringify({
        acceptedAt: new Date().toISOString(),
        acceptedBy: { name: 'Mallory' },
        ...body,
      });
      return b.t.http
        .post('/webhooks/acceptance')
        .set('Content-Type', 'application/json')
        .set('X-Acceptance-Signature', signAcceptance(secret, raw))
        .send(raw);
    };
    const answers = [
      await deliver({
        id: 'x1',
        portalId: a.tenant.portalId,
        dealId: bRefusedDeal,
        milestone: { id: bMilestones[1] },
      }),
      await deliver({
        id: 'x2',
        portalId: a.tenant.portalId,
        dealId: aDeal,
        milestone: { id: bMilestones[1] },
      }),
      await deliver({
        id: 'x3',
        portalId: a.tenant.portalId,
        dealId: bRefusedDeal,
        milestone: { key: 'design' },
      }),
      // B's portal in the body, A's secret on it.
      await deliver({
        id: 'x4',
        portalId: bee.tenant.portalId,
        dealId: bRefusedDeal,
        milestone: { key: 'design' },
      }),
    ];
    expect(answers.map((r) => r.status)).toEqual([404, 404, 404, 401]);
    expect(await tenantFingerprint(b.t.database.db, bee.tenant.id)).toEqual(before);
  });
});

describe("A's browser sessions (signed in, and a read-only share link)", () => {
  const page = (path: string, cookie: string) => hop(path, { headers: { cookie } });

  it("show none of B's deals, pages or exports", async () => {
    for (const [who, cookie] of [
      ['session', aSession],
      ['share link', aShareSession],
    ] as const) {
      for (const deal of [bRefusedDeal, bInvoicedDeal]) {
        const res = await page(`/app/deals/${deal}`, cookie);
        expect(res.status, `${who} ${deal}`).toBe(404);
        expect(await res.text()).not.toContain('B only');
      }
      expect((await page(`/app/deals/${aDeal}`, cookie)).status, who).toBe(200);
      for (const path of [
        '/app/portfolio',
        '/app/forecast',
        '/app/aging',
        '/app/forecast?week=2026-11-30&weekCurrency=USD',
      ]) {
        const res = await page(path, cookie);
        expect(res.status, `${who} ${path}`).toBe(200);
        const html = await res.text();
        expect(html).not.toContain('7,777.77');
        expect(html).not.toContain(bRefusedDeal);
        expect(html).not.toContain(bInvoicedDeal);
      }
      for (const table of ['aging', 'attention', 'receivables', 'status', 'forecast']) {
        const res = await page(`/app/export/${table}.csv`, cookie);
        expect(res.status, `${who} ${table}`).toBe(200);
        const csv = await res.text();
        expect(csv, `${who} ${table}`).not.toContain(B_AMOUNT);
        expect(csv).not.toContain(bRefusedDeal);
      }
      // A's own invoice (Discovery, USD 25,000.00) is what A's aging export holds.
      const aging = await (await page('/app/export/aging.csv', cookie)).text();
      expect(aging.trim().split('\n')).toHaveLength(2);
      expect(aging).toContain('25000.00');
    }
  });

  it("cannot retry B's refused invoice; B's read-only share session cannot retry its own", async () => {
    const before = await bAsStored();
    const portfolioHtml = await (await page('/app/portfolio', aSession)).text();
    const csrf = /\/retry"><input type="hidden" name="_csrf" value="([^"]+)"/.exec(portfolioHtml)?.[1];
    expect(csrf).toBeUndefined(); // A has nothing to retry: take the token the way a form would carry it.
    const { csrfToken } = await import('../../src/http/csrf.ts');
    const token = (cookie: string) => encodeURIComponent(csrfToken(b.t.encryptionKey, cookie));
    const retry = (cookie: string) =>
      hop(`/app/milestones/${bMilestones[0]}/retry`, {
        method: 'POST',
        headers: { cookie, origin: appUrl, 'content-type': 'application/x-www-form-urlencoded' },
        body: `_csrf=${token(cookie)}`,
      });
    const byA = await retry(aSession);
    expect(byA.status).toBe(404);
    expect(byA.headers.get('location')).toBeNull();
    const byShareA = await retry(aShareSession);
    expect(byShareA.status).toBe(403);
    const byShareB = await retry(bShareSession);
    expect(byShareB.status).toBe(403);
    expect(await byShareB.text()).toContain('read-only');
    expect(await tenantFingerprint(b.t.database.db, bee.tenant.id)).toEqual(before);
    expect((await bee.pushesOf()).find((p) => p.push.status === 'failed')).toBeDefined();
  });

  it("a read-only share session cannot connect, replace or disconnect B's QuickBooks company", async () => {
    const before = await bAsStored();
    const connect = await page('/oauth/quickbooks/connect', bShareSession);
    expect(connect.status).toBe(403);
    expect(connect.headers.get('location')).toBeNull();
    const disconnect = await hop('/oauth/quickbooks/disconnect', {
      method: 'POST',
      headers: { cookie: bShareSession, origin: appUrl },
    });
    expect(disconnect.status).toBe(403);
    expect(await tenantFingerprint(b.t.database.db, bee.tenant.id)).toEqual(before);
    expect((await b.t.ctx.quickbooks.connection(bee.tenant.id)).realmId).toBe(bee.realmId);
  });
});
