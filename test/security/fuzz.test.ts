import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HubSpotSandbox } from '../sandboxes/hubspot/index.ts';
import { startTestApp, type TestApp, type TestTenant } from '../support/app.ts';
import {
  cardQuery,
  fingerprint,
  hubspotEnv,
  installIn,
  PUBLIC_URL,
  signedCard,
  startUsersSandbox,
} from './helpers.ts';

/**
 * Every JSON body the app accepts, fuzzed: random JSON values, and the route's own valid body with
 * its fields dropped, swapped for odd values or joined by unknown ones. Whatever comes, the answer
 * is never a 5xx, and a 4xx leaves every row of every table as it was. Each API route is sent
 * both with an API key (express.json) and as a signed card request (the card's own raw parse);
 * the settings routes exist on the card API only.
 */

const RUNS = Number(process.env.FUZZ_RUNS ?? 30);

let t: TestApp;
let hs: HubSpotSandbox;
let tenant: TestTenant;
/** The portal's super admin, who may use the settings routes. */
let admin: string;
beforeAll(async () => {
  hs = await startUsersSandbox();
  // Fuzzing sends far more than a tenant's 600 requests a minute: the limit is not what it tests.
  t = await startTestApp({ ...hubspotEnv(hs), API_REQUESTS_PER_MINUTE: '1000000' });
  tenant = await t.tenant();
  admin = await installIn(hs, t, tenant);
});
afterAll(async () => {
  await t?.close();
  await hs?.close();
});

const milestone = (name: string, amount: Record<string, string>) => ({
  name,
  key: name.toLowerCase(),
  deliverable: `${name} deliverable`,
  acceptanceCriteria: `${name} approved`,
  plannedDate: '2026-12-01',
  triggerStage: 'closedwon',
  paymentTerms: 'net_15',
  ...amount,
});

let deals = 0;
/** A fresh deal with a two-milestone schedule, so each route starts from the same state. */
async function freshSchedule() {
  const dealId = String(7_300_000 + ++deals);
  hs.seed(Number(tenant.portalId), {
    deals: [
      { id: dealId, properties: { dealname: `Fuzzed ${dealId}`, amount: '10000', dealstage: 'closedwon' } },
    ],
  });
  const res = await tenant.put(`/deals/${dealId}/schedule`, {
    contractValue: { amount: '10000.00', currency: 'USD' },
    paymentTerms: 'net_30',
    milestones: [milestone('Design', { percent: '40' }), milestone('Build', { amount: '6000.00' })],
  });
  expect(res.status).toBe(200);
  return {
    dealId,
    version: res.body.version as number,
    ids: res.body.milestones.map((m: { id: string }) => m.id),
  };
}

type Fresh = Awaited<ReturnType<typeof freshSchedule>>;

interface Route {
  method: 'POST' | 'PUT';
  path: (s: Fresh) => string;
  valid: (s: Fresh) => unknown;
}

const template = {
  key: 'fuzzed',
  name: 'Fuzzed',
  description: 'd',
  paymentTerms: { customDays: 10 },
  retainagePercent: '5',
  milestones: [
    {
      name: 'A',
      deliverable: 'D',
      acceptanceCriteria: 'C',
      percent: '60',
      offsetDays: 0,
      triggerStageLabel: 'Won',
    },
    { name: 'B', deliverable: 'D', acceptanceCriteria: 'C', percent: 40, offsetDays: 30 },
  ],
};

/** The POST and PUT routes of src/http/routes/api/*.ts (served as /api/v1 and /card/v1). */
const API: Record<string, Route> = {
  'PUT /deals/:dealId/schedule': {
    method: 'PUT',
    path: (s) => `/deals/${s.dealId}/schedule`,
    valid: (s) => ({
      baseVersion: s.version,
      dealName: 'Fuzz',
      contractValue: { amount: '5000.00', currency: 'EUR' },
      paymentTerms: { customDays: 45 },
      retainagePercent: '10',
      milestones: [
        milestone('One', { percent: '90' }),
        { ...milestone('Release', {}), kind: 'retainage_release', key: 'release' },
      ],
    }),
  },
  'POST /deals/:dealId/schedule/template': {
    method: 'POST',
    path: () => `/deals/${7_399_000 + ++deals}/schedule/template`,
    valid: () => ({
      template: 'software',
      contractValue: { amount: '100000.00', currency: 'USD' },
      startDate: '2026-11-02',
      useTriggerStages: false,
    }),
  },
  'POST /deals/:dealId/schedule/change-orders': {
    method: 'POST',
    path: (s) => `/deals/${s.dealId}/schedule/change-orders`,
    valid: (s) => ({
      baseVersion: s.version,
      reason: 'scope grew',
      contractValue: { amount: '12000.00', currency: 'USD' },
      add: [milestone('Extra', { amount: '2000.00' })],
      change: [{ id: s.ids[0], name: 'Design v2', percent: '30' }],
      cancel: [],
    }),
  },
  'POST /milestones/:id/acceptances': {
    method: 'POST',
    path: (s) => `/milestones/${s.ids[0]}/acceptances`,
    valid: () => ({
      portion: { percent: '25' },
      acceptedAt: '2026-11-20T15:04:05Z',
      acceptedBy: { name: 'Dana', email: 'dana@client.example' },
      evidence: [{ name: 'Sign-off.pdf', url: 'https://files.client.example/s.pdf' }],
      note: 'ok',
    }),
  },
  'POST /milestones/:id/retry-invoice': {
    method: 'POST',
    path: (s) => `/milestones/${s.ids[0]}/retry-invoice`,
    valid: () => ({}),
  },
  'POST /milestones/:id/dispute': {
    method: 'POST',
    path: (s) => `/milestones/${s.ids[1]}/dispute`,
    valid: () => ({ reason: 'not delivered' }),
  },
  'POST /milestones/:id/resolve': {
    method: 'POST',
    path: (s) => `/milestones/${s.ids[1]}/resolve`,
    valid: () => ({ reason: 'delivered after all' }),
  },
  'POST /templates': { method: 'POST', path: () => '/templates', valid: () => template },
  'PUT /templates/:key': { method: 'PUT', path: () => '/templates/fuzzed', valid: () => template },
  'POST /portfolio-link': { method: 'POST', path: () => '/portfolio-link', valid: () => ({}) },
};

/** The settings page's routes (src/http/routes/settings/*.ts), card API only. */
const SETTINGS: Record<string, Route> = {
  'PUT /settings/reminders': {
    method: 'PUT',
    path: () => '/settings/reminders',
    valid: () => ({
      enabled: true,
      firstAfterDays: 3,
      everyDays: 7,
      maxReminders: 3,
      excludedCustomerIds: ['58'],
    }),
  },
  'PUT /settings/invoice-defaults': {
    method: 'PUT',
    path: () => '/settings/invoice-defaults',
    valid: () => ({
      incomeItemId: '1',
      defaultPaymentTerms: 'net_15',
      taxCodeId: 'TAX',
      taxable: true,
      docNumberPrefix: 'MB-',
      emailInvoices: false,
    }),
  },
  'POST /settings/api-keys': {
    method: 'POST',
    path: () => '/settings/api-keys',
    valid: () => ({ name: 'CI' }),
  },
  'POST /settings/share-links': {
    method: 'POST',
    path: () => '/settings/share-links',
    valid: () => ({ label: 'Bookkeeper', days: 30 }),
  },
  'POST /settings/quickbooks/connect-link': {
    method: 'POST',
    path: () => '/settings/quickbooks/connect-link',
    valid: () => ({}),
  },
  'POST /settings/quickbooks/disconnect': {
    method: 'POST',
    path: () => '/settings/quickbooks/disconnect',
    valid: () => ({}),
  },
  'POST /settings/acceptance-webhook/reveal': {
    method: 'POST',
    path: () => '/settings/acceptance-webhook/reveal',
    valid: () => ({}),
  },
  'POST /settings/acceptance-webhook/rotate': {
    method: 'POST',
    path: () => '/settings/acceptance-webhook/rotate',
    valid: () => ({}),
  },
};

/** Values that have broken parsers before: edges of numbers, dates, money, text and Unicode. */
const odd = fc.constantFrom<unknown>(
  '',
  ' ',
  '0',
  '-0',
  '-1',
  '-0.01',
  '1e400',
  '99999999999999999999999999999999.99',
  '0.0000001',
  '100.0001',
  '100.00001',
  'NaN',
  'Infinity',
  '2026-02-30',
  '0000-00-00',
  '9999-12-31',
  '2026-11-20T25:61:00Z',
  'USD',
  'XXX',
  'net_0',
  '<script>alert(1)</script>',
  "'; drop table tenants; --",
  '\u202e\u0301',
  '\ud800',
  '\ufeff',
  'é'.repeat(2500),
  'x'.repeat(10_001),
  0,
  -1,
  0.5,
  101,
  2 ** 31,
  2 ** 53 + 1,
  1e308,
  -1e308,
  true,
  false,
  null,
  [],
  {},
  [null],
  { __proto__: { polluted: true } },
  JSON.parse('{"__proto__": {"polluted": true}}'),
  { constructor: { prototype: { polluted: true } } },
);

/** Every place in a value: the value itself, each field and item, recursively. */
function pathsOf(value: unknown, at: (string | number)[] = []): (string | number)[][] {
  const inner =
    value && typeof value === 'object'
      ? Object.entries(value).flatMap(([k, v]) => pathsOf(v, [...at, Array.isArray(value) ? Number(k) : k]))
      : [];
  return [at, ...inner];
}

type Edit =
  | { kind: 'swap'; with: unknown }
  | { kind: 'drop' }
  | { kind: 'add'; key: string; with: unknown }
  | { kind: 'repeat' };

function applyEdit(value: unknown, path: (string | number)[], edit: Edit): unknown {
  if (path.length === 0) {
    if (edit.kind === 'swap') return edit.with;
    if (edit.kind === 'drop') return undefined;
    if (edit.kind === 'repeat') return Array.isArray(value) ? [...value, ...value, ...value] : value;
    if (value && typeof value === 'object' && !Array.isArray(value)) {
      const out = { ...(value as Record<string, unknown>) };
      // defineProperty: "__proto__" becomes a field of the body, as JSON.parse makes it.
      Object.defineProperty(out, edit.key, {
        value: edit.with,
        enumerable: true,
        writable: true,
        configurable: true,
      });
      return out;
    }
    return value;
  }
  const [head, ...rest] = path;
  if (Array.isArray(value)) {
    const copy = [...value];
    const next = applyEdit(copy[head as number], rest, edit);
    if (next === undefined) copy.splice(head as number, 1);
    else copy[head as number] = next;
    return copy;
  }
  const copy = { ...(value as Record<string, unknown>) };
  const next = applyEdit(copy[head as string], rest, edit);
  if (next === undefined) delete copy[head as string];
  else copy[head as string] = next;
  return copy;
}

/**
 * The exemplar with up to three edits, each at a random place: a value swapped for an odd or a
 * random one, a field dropped, an unknown field added, a list repeated. Mostly one edit, so the
 * body gets past the parsers into the use case far more often than random JSON does.
 */
function mutated(exemplar: unknown): fc.Arbitrary<unknown> {
  const paths = pathsOf(exemplar);
  const swapWith = fc.oneof(
    { weight: 3, arbitrary: odd },
    { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 2 }) },
  );
  const edit: fc.Arbitrary<Edit> = fc.oneof(
    { weight: 6, arbitrary: swapWith.map((w) => ({ kind: 'swap' as const, with: w })) },
    { weight: 2, arbitrary: fc.constant({ kind: 'drop' as const }) },
    {
      weight: 1,
      arbitrary: fc
        .tuple(
          fc.oneof(
            fc.string({ maxLength: 8 }),
            fc.constantFrom('__proto__', 'constructor', 'id', 'tenantId'),
          ),
          swapWith,
        )
        .map(([key, w]) => ({ kind: 'add' as const, key, with: w })),
    },
    { weight: 1, arbitrary: fc.constant({ kind: 'repeat' as const }) },
  );
  return fc
    .array(fc.tuple(fc.constantFrom(...paths), edit), { minLength: 0, maxLength: 3 })
    .map((edits) => edits.reduce<unknown>((body, [path, e]) => applyEdit(body, path, e) ?? null, exemplar));
}

/** The bodies a route is fuzzed with: mostly its own mutated, some any JSON at all, some not JSON. */
const bodies = (exemplar: unknown) =>
  fc.oneof(
    { weight: 8, arbitrary: mutated(exemplar).map((v) => JSON.stringify(v) ?? 'null') },
    { weight: 2, arbitrary: fc.jsonValue().map((v) => JSON.stringify(v)) },
    { weight: 1, arbitrary: fc.string({ maxLength: 40 }) },
  );

type Transport = (route: Route, path: string, raw: string) => Promise<{ status: number; text: string }>;

const viaApiKey: Transport = async (route, path, raw) => {
  const res = await tenant
    .raw(route.method === 'PUT' ? 'put' : 'post', path)
    .set('Content-Type', 'application/json')
    .send(raw);
  return { status: res.status, text: res.text };
};

const viaCard: Transport = async (route, path, raw) => {
  const signed = signedCard(
    route.method,
    `/card/v1${path}?${cardQuery(tenant.portalId, { userId: admin })}`,
    raw,
  );
  const url = signed.url.slice(PUBLIC_URL.length);
  const req = route.method === 'PUT' ? t.http.put(url) : t.http.post(url);
  const res = await req.set(signed.headers).send(raw);
  return { status: res.status, text: res.text };
};

async function fuzz(route: Route, send: Transport) {
  const fresh = await freshSchedule();
  await fc.assert(
    fc.asyncProperty(bodies(route.valid(fresh)), async (raw) => {
      const path = route.path(fresh);
      const before = await fingerprint(t.database.db);
      const res = await send(route, path, raw);
      if (res.status >= 500)
        throw new Error(`${res.status} for ${raw.slice(0, 300)}: ${res.text.slice(0, 300)}`);
      if (res.status >= 400) {
        const after = await fingerprint(t.database.db);
        const changed = Object.keys(after).filter((k) => after[k] !== before[k]);
        if (changed.length)
          throw new Error(
            `${res.status} changed ${changed.join(', ')} for ${raw.slice(0, 300)}: ${res.text.slice(0, 300)}`,
          );
      }
    }),
    { numRuns: RUNS, endOnFailure: true },
  );
}

describe('fuzzed JSON bodies: never a 5xx, and a 4xx changes nothing', () => {
  it.each(Object.entries(API))('%s with an API key', async (_name, route) => {
    await fuzz(route, viaApiKey);
  });

  it.each(Object.entries(API))('%s as a signed card request', async (_name, route) => {
    await fuzz(route, viaCard);
  });

  it.each(Object.entries(SETTINGS))('%s as a signed card request (settings page)', async (_name, route) => {
    await fuzz(route, viaCard);
  });
});
