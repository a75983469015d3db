import { once } from 'node:events';
import type { AddressInfo, Server } from 'node:net';
import { brotliCompressSync, gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signAcceptance } from '../../src/acceptance/signature.ts';
import { acceptanceSecret, createApiKey } from '../../src/tenants/repository.ts';
import { dealPropertyChangeEvent, type HubSpotSandbox } from '../sandboxes/hubspot/index.ts';
import { signedHeaders } from '../sandboxes/hubspot/webhooks.ts';
import { startTestApp, type TestApp, type TestTenant } from '../support/app.ts';
import { portfolioSession } from '../support/links.ts';
import {
  cardQuery,
  fingerprint,
  HUBSPOT_SECRET,
  hubspotEnv,
  installIn,
  intuitSignature,
  jobCount,
  PUBLIC_URL,
  QBO_VERIFIER_TOKEN,
  signedCard,
  startUsersSandbox,
} from './helpers.ts';

/**
 * Bodies too large, nested too deeply, or holding control characters. Already proven elsewhere:
 * U+0000 in an API body, path and query, and in an acceptance note (test/api/bad-input.test.ts);
 * a signed acceptance nested 100,000 levels deep, kept as text (test/webhooks/acceptance.test.ts);
 * an unstorable NUL in a signed HubSpot batch (test/hubspot/webhooks.test.ts).
 */

let t: TestApp;
let hs: HubSpotSandbox;
let tenant: TestTenant;
/** The portal's super admin, who may use the settings routes. */
let admin: string;
let cookie: string;
let apiKey: string;
let server: Server;
let base: string;
beforeAll(async () => {
  hs = await startUsersSandbox();
  t = await startTestApp(hubspotEnv(hs));
  tenant = await t.tenant();
  admin = await installIn(hs, t, tenant);
  apiKey = (await createApiKey(t.database.db, tenant.tenant.id, 'limits')).key;
  server = t.app.listen(0, '127.0.0.1');
  await once(server, 'listening');
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const signedIn = await portfolioSession(t, tenant.tenant.id);
  expect(signedIn.answer.status).toBe(303);
  cookie = signedIn.cookie!;
});
afterAll(async () => {
  server?.close();
  await t?.close();
  await hs?.close();
});

const MB = 1024 * 1024;
/** `json` padded with trailing spaces (still the same JSON) to exactly `bytes` bytes. */
const padded = (json: string, bytes: number) => {
  const pad = bytes - Buffer.byteLength(json);
  expect(pad).toBeGreaterThanOrEqual(0);
  return json + ' '.repeat(pad);
};

const schedule = {
  contractValue: { amount: '5000.00', currency: 'USD' },
  milestones: [
    {
      name: 'Design',
      deliverable: 'D',
      acceptanceCriteria: 'A',
      amount: '5000.00',
      plannedDate: '2026-12-01',
    },
  ],
};

const hubspotUrl = `${PUBLIC_URL}/webhooks/hubspot`;

interface Route {
  method: 'POST' | 'PUT';
  path: () => string;
  limit: number;
  /** A body the route takes (the size and shape tests pad or wrap it). */
  valid: () => string;
  /** Its signature, API key or session: right for the body, so only size or shape counts. */
  headers: (raw: string | Buffer, path: string) => Record<string, string>;
}

const json = { 'Content-Type': 'application/json' };
/** Each body route of the app, with its limit. */
const routes: Record<string, Route> = {
  'POST /webhooks/hubspot': {
    method: 'POST',
    path: () => '/webhooks/hubspot',
    limit: 2 * MB,
    valid: () => JSON.stringify([dealPropertyChangeEvent(Number(tenant.portalId), '6100001', 'amount', '1')]),
    headers: (raw) => ({
      ...json,
      ...signedHeaders(HUBSPOT_SECRET, { method: 'POST', url: hubspotUrl, body: raw, timestamp: Date.now() }),
    }),
  },
  'POST /webhooks/quickbooks': {
    method: 'POST',
    path: () => '/webhooks/quickbooks',
    limit: 2 * MB,
    valid: () =>
      JSON.stringify([
        {
          specversion: '1.0',
          id: `evt-limit-${Math.random()}`,
          type: 'qbo.invoice.updated.v1',
          intuitentityid: '1',
          intuitaccountid: '9130000002',
        },
      ]),
    headers: (raw) => ({ ...json, 'intuit-signature': intuitSignature(QBO_VERIFIER_TOKEN, raw) }),
  },
  'POST /webhooks/acceptance': {
    method: 'POST',
    path: () => '/webhooks/acceptance',
    limit: MB,
    // A deal with no schedule: a signed, well-formed report the app answers 404, keeping the event.
    valid: () =>
      JSON.stringify({
        id: `acc-limit-${Math.random()}`,
        portalId: tenant.portalId,
        dealId: '6100002',
        milestone: { key: 'design' },
        acceptedAt: new Date().toISOString(),
        acceptedBy: { name: 'Dana' },
      }),
    headers: (raw) => ({
      ...json,
      'X-Acceptance-Signature': signAcceptance(acceptanceSecret(t.encryptionKey, tenant.tenant), raw),
    }),
  },
  'PUT /api/v1/deals/:dealId/schedule': {
    method: 'PUT',
    path: () => '/api/v1/deals/6100003/schedule',
    limit: MB,
    valid: () => JSON.stringify(schedule),
    headers: () => ({ ...json, Authorization: `Bearer ${apiKey}` }),
  },
  'POST /card/v1/settings/share-links': {
    method: 'POST',
    path: () => `/card/v1/settings/share-links?${cardQuery(tenant.portalId, { userId: admin })}`,
    limit: MB,
    valid: () => JSON.stringify({ label: 'Bookkeeper', days: 7 }),
    headers: (raw, path) => signedCard('POST', path, raw).headers,
  },
  'POST /app/milestones/:id/retry (form)': {
    method: 'POST',
    path: () => '/app/milestones/ms_limit/retry',
    limit: 10 * 1024,
    valid: () => '_csrf=x',
    headers: () => ({ Cookie: cookie, 'Content-Type': 'application/x-www-form-urlencoded' }),
  },
};

/** Over real HTTP (supertest re-encodes compressed bodies): the status and the parsed answer. */
async function send(route: Route, raw: string | Buffer, extra: Record<string, string> = {}) {
  const path = route.path();
  const res = await fetch(`${base}${path}`, {
    method: route.method,
    headers: { ...route.headers(raw, path), ...extra },
    body: raw,
    redirect: 'manual',
  });
  const text = await res.text();
  let body: { code?: string; detail?: string } = {};
  try {
    body = JSON.parse(text);
  } catch {}
  return { status: res.status, body };
}

describe('bodies over the limit', () => {
  it.each(Object.entries(routes))(
    '%s: 413 one byte over its limit, nothing stored or queued',
    async (_route, r) => {
      const before = { db: await fingerprint(t.database.db), jobs: await jobCount(t.ctx) };
      const over = await send(r, padded(r.valid(), r.limit + 1));
      expect(over.status).toBe(413);
      expect(over.body.code).toBe('payload_too_large');
      expect(await fingerprint(t.database.db)).toEqual(before.db);
      expect(await jobCount(t.ctx)).toBe(before.jobs);
      // At the limit exactly, the same body is read (whatever the route then answers of it).
      expect((await send(r, padded(r.valid(), r.limit))).status).not.toBe(413);
    },
  );

  it.each(Object.entries(routes))(
    '%s: a compressed body is measured inflated (a gzip or brotli bomb is 413), a corrupt one is a 400',
    async (_route, r) => {
      const before = { db: await fingerprint(t.database.db), jobs: await jobCount(t.ctx) };
      const inflated = padded(r.valid(), r.limit * 16);
      for (const [encoding, bomb] of [
        ['gzip', gzipSync(inflated)],
        ['br', brotliCompressSync(inflated)],
      ] as const) {
        expect(bomb.length).toBeLessThan(r.limit);
        const res = await send(r, bomb, { 'Content-Encoding': encoding });
        expect(res.status, encoding).toBe(413);
      }
      const corrupt = await send(r, Buffer.from(r.valid()), { 'Content-Encoding': 'gzip' });
      expect(corrupt.status).toBe(400);
      expect(corrupt.body.code).toBe('malformed_body');
      expect(await fingerprint(t.database.db)).toEqual(before.db);
      expect(await jobCount(t.ctx)).toBe(before.jobs);
      // Compressed and honest, the body is read.
      expect((await send(r, gzipSync(r.valid()), { 'Content-Encoding': 'gzip' })).status).not.toBe(413);
    },
  );
});

describe('JSON nested 100,000 levels deep', () => {
  const deepArray = `${'['.repeat(100_000)}${']'.repeat(100_000)}`;
  const deepObject = `${'{"a":'.repeat(100_000)}1${'}'.repeat(100_000)}`;
  const shapes = [
    ['a deep array as the body', () => deepArray],
    ['a deep object as the body', () => deepObject],
    [
      'a deep value inside a valid body',
      (valid: string) =>
        valid.startsWith('[') ? `[${deepArray},${valid.slice(1)}` : `{"deep":${deepArray},${valid.slice(1)}`,
    ],
  ] as const;
  const bodyRoutes = Object.entries(routes).filter(([name]) => !name.includes('(form)'));

  it.each(bodyRoutes.flatMap(([name, r]) => shapes.map(([shape, make]) => [name, shape, r, make] as const)))(
    '%s, %s: no 5xx, and the process keeps answering',
    async (_name, _shape, r, make) => {
      const res = await send(r, make(r.valid()));
      expect(res.status).toBeLessThan(500);
      expect((await t.http.get('/healthz')).status).toBe(200);
    },
  );

  it('API and card bodies nested too deeply are refused with 4xx and store nothing', async () => {
    for (const [name, r] of bodyRoutes.filter(([n]) => !n.includes('webhooks'))) {
      const before = await fingerprint(t.database.db);
      for (const [, make] of shapes) {
        const res = await send(r, make(r.valid()));
        expect(res.status, name).toBeGreaterThanOrEqual(400);
        expect(res.status, name).toBeLessThan(500);
      }
      expect(await fingerprint(t.database.db), name).toEqual(before);
    }
  });

  it('a query string of deep brackets and thousands of keys is read flat, not as a tree', async () => {
    const deep = `a${'[b]'.repeat(10_000)}=1`;
    const many = Array.from({ length: 5000 }, (_, i) => `k${i}=v`).join('&');
    for (const query of [deep, many]) {
      const res = await tenant.get(`/portfolio?${query}`);
      expect(res.status).toBeGreaterThanOrEqual(400);
      expect(res.status).toBeLessThan(500);
    }
  });
});

describe('control characters', () => {
  const namesWhere = (
    res: { status: number; body: { errors?: { path: string }[]; detail?: string } },
    where: string,
  ) => {
    expect(res.status).toBe(422);
    expect(res.body.errors?.map((e) => e.path)).toContain(where);
    expect(res.body.detail).toContain('control character');
  };

  it.each([
    ['U+0000', '\u0000'],
    ['U+001F', '\u001f'],
    ['U+007F', '\u007f'],
  ])('%s in a card API body value and key: 422 naming the field, nothing stored', async (_name, char) => {
    const before = await fingerprint(t.database.db);
    const path = `/card/v1/settings/share-links?${cardQuery(tenant.portalId, { userId: admin })}`;
    for (const [body, where] of [
      [{ label: `Dana${char}`, days: 7 }, 'label'],
      [{ label: 'Dana', [`da${char}ys`]: 7 }, `da${char}ys`],
    ] as const) {
      const signed = signedCard('POST', path, JSON.stringify(body));
      namesWhere(
        await t.http
          .post(path)
          .set(signed.headers)
          .send(signed.body as string),
        where,
      );
    }
    const template = await tenant.post('/templates', {
      key: 'ctl',
      name: 'Control',
      milestones: [
        { name: 'All', deliverable: `D${char}`, acceptanceCriteria: 'A', percent: '100', offsetDays: 0 },
      ],
    });
    namesWhere(template, 'milestones[0].deliverable');
    expect(await fingerprint(t.database.db)).toEqual(before);
  });

  it.each([
    ['a card API path', () => `/card/v1/milestones/ms%00x?${cardQuery(tenant.portalId)}`, 'path'],
    [
      'a card API query',
      () => `/card/v1/portfolio?${cardQuery(tenant.portalId)}&currency=US%00`,
      'query.currency',
    ],
    ['a sign-in link', () => '/app/sign-in?link=abc%00def', 'query.link'],
    ['a share link', () => '/app/shared?link=%01', 'query.link'],
    ['a page path', () => '/app/deals/1%00', 'path'],
    ['a page filter', () => '/app/portfolio?ownerId=%1F', 'query.ownerId'],
    ['the HubSpot OAuth callback', () => '/oauth/hubspot/callback?code=a%00&state=b', 'query.code'],
    [
      'the QuickBooks OAuth callback',
      () => '/oauth/quickbooks/callback?code=a&state=%7F&realmId=1',
      'query.state',
    ],
    ['the QuickBooks connect link', () => '/oauth/quickbooks/start?link=%00', 'query.link'],
  ])('in %s: 422 naming where, before any session or signature is looked at', async (_what, url, where) => {
    const before = await fingerprint(t.database.db);
    namesWhere(await t.http.get(url()).set('Cookie', cookie), where);
    expect(await fingerprint(t.database.db)).toEqual(before);
  });

  it('in a webhook URL: 422 naming where, nothing stored or queued', async () => {
    const before = { db: await fingerprint(t.database.db), jobs: await jobCount(t.ctx) };
    for (const path of ['/webhooks/hubspot?x=%00', '/webhooks/quickbooks%00', '/webhooks/acceptance?t=%07']) {
      const raw = routes['POST /webhooks/hubspot']!.valid();
      const res = await t.http.post(path).set('Content-Type', 'application/json').send(raw);
      expect(res.status, path).toBe(422);
      expect(res.body.detail).toContain('control character');
    }
    expect(await fingerprint(t.database.db)).toEqual(before.db);
    expect(await jobCount(t.ctx)).toBe(before.jobs);
  });
});
