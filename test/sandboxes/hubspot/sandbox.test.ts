import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Client, Signature } from '@hubspot/api-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type HubSpotSandbox, startHubSpotSandbox } from './index.ts';

const PORTAL = 24681357;
const REDIRECT_URI = 'http://127.0.0.1:3999/oauth/callback';
const SCOPES = [
  'oauth',
  'crm.objects.deals.read',
  'crm.objects.deals.write',
  'crm.objects.companies.read',
  'crm.objects.contacts.read',
  'crm.objects.contacts.write',
  'crm.schemas.deals.write',
];

interface SdkError {
  code: number;
  body: { category?: string; message?: string; errors?: Array<{ code?: string }> };
}

async function sdkError(promise: Promise<unknown>): Promise<SdkError> {
  try {
    await promise;
  } catch (err) {
    return err as SdkError;
  }
  throw new Error('expected the SDK call to fail');
}

function form(params: Record<string, string>): RequestInit {
  return {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(params).toString(),
  };
}

let sandbox: HubSpotSandbox;
let client: Client;
let dealIds: string[];
let companyIds: string[];

beforeAll(async () => {
  sandbox = await startHubSpotSandbox({ redirectUris: [REDIRECT_URI] });
  sandbox.addPortal(PORTAL, {
    hubDomain: 'obrien-demo.example.com',
    userEmail: 'owner@obrien-demo.example.com',
  });
  const seeded = sandbox.seedRealistic(PORTAL);
  dealIds = seeded.deals;
  companyIds = seeded.companies;
  client = new Client({ accessToken: sandbox.issueTokens(PORTAL).accessToken, basePath: sandbox.url });
});

afterAll(async () => {
  await sandbox?.close();
});

async function installViaOAuth(): Promise<{ code: string; token: Record<string, unknown> }> {
  const authorize = sandbox.authorizeUrl({ redirectUri: REDIRECT_URI, scopes: SCOPES, state: 'csrf-123' });
  const redirect = await fetch(authorize, { redirect: 'manual' });
  expect(redirect.status).toBe(302);
  const location = new URL(redirect.headers.get('location')!);
  expect(`${location.origin}${location.pathname}`).toBe(REDIRECT_URI);
  expect(location.searchParams.get('state')).toBe('csrf-123');
  const code = location.searchParams.get('code')!;
  const res = await fetch(
    `${sandbox.url}/oauth/2026-03/token`,
    form({
      grant_type: 'authorization_code',
      client_id: sandbox.clientId,
      client_secret: sandbox.clientSecret,
      redirect_uri: REDIRECT_URI,
      code,
    }),
  );
  expect(res.status).toBe(200);
  return { code, token: (await res.json()) as Record<string, unknown> };
}

describe('OAuth', () => {
  it('runs the authorization-code flow and refuses a reused code', async () => {
    const { code, token } = await installViaOAuth();
    expect(token).toMatchObject({
      token_type: 'bearer',
      expires_in: 1800,
      token_use: 'access_token',
      hub_id: PORTAL,
      scopes: SCOPES,
    });
    expect(String(token.access_token).length).toBeGreaterThanOrEqual(60);
    expect(typeof token.refresh_token).toBe('string');
    expect(typeof token.user_id).toBe('number');

    const reuse = await fetch(
      `${sandbox.url}/oauth/2026-03/token`,
      form({
        grant_type: 'authorization_code',
        client_id: sandbox.clientId,
        client_secret: sandbox.clientSecret,
        redirect_uri: REDIRECT_URI,
        code,
      }),
    );
    expect(reuse.status).toBe(400);
    expect(await reuse.json()).toMatchObject({ error: 'invalid_grant', status: 'BAD_AUTH_CODE' });
  });

  it('rejects unknown redirect URIs and bad client secrets', async () => {
    const bad = sandbox.authorizeUrl({ redirectUri: 'https://evil.example.com/cb', scopes: SCOPES });
    const page = await fetch(bad, { redirect: 'manual' });
    expect(page.status).toBe(400);
    expect(page.headers.get('location')).toBeNull();

    const res = await fetch(
      `${sandbox.url}/oauth/v3/token`,
      form({
        grant_type: 'refresh_token',
        client_id: sandbox.clientId,
        client_secret: 'nope',
        refresh_token: 'x',
      }),
    );
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: 'invalid_client', status: 'BAD_CLIENT_SECRET' });
  });

  it('refreshes without rotating, introspects, and fails refresh after uninstall', async () => {
    sandbox.addPortal(55501);
    const tokens = sandbox.issueTokens(55501);
    const before = sandbox.tokenRequests.byGrantType.refresh_token ?? 0;
    const refreshBody = {
      grant_type: 'refresh_token',
      client_id: sandbox.clientId,
      client_secret: sandbox.clientSecret,
      refresh_token: tokens.refreshToken,
    };
    const res = await fetch(`${sandbox.url}/oauth/2026-03/token`, form(refreshBody));
    const refreshed = (await res.json()) as Record<string, unknown>;
    expect(res.status).toBe(200);
    expect(refreshed.refresh_token).toBe(tokens.refreshToken);
    expect(refreshed.access_token).not.toBe(tokens.accessToken);
    expect(refreshed.hub_id).toBe(55501);
    expect(sandbox.tokenRequests.byGrantType.refresh_token).toBe(before + 1);

    const introspect = await fetch(
      `${sandbox.url}/oauth/2026-03/token/introspect`,
      form({
        client_id: sandbox.clientId,
        client_secret: sandbox.clientSecret,
        token: String(refreshed.access_token),
        token_type_hint: 'access_token',
      }),
    );
    expect(await introspect.json()).toMatchObject({
      active: true,
      hub_id: 55501,
      app_id: sandbox.appId,
      client_id: sandbox.clientId,
      token_use: 'access_token',
    });

    const info = await new Client({ basePath: sandbox.url }).oauth.accessTokensApi.get(
      String(refreshed.access_token),
    );
    expect(info.hubId).toBe(55501);
    expect(info.appId).toBe(sandbox.appId);

    sandbox.revokeRefreshTokens(55501);
    const after = await fetch(`${sandbox.url}/oauth/2026-03/token`, form(refreshBody));
    expect(after.status).toBe(400);
    expect(await after.json()).toMatchObject({
      error: 'invalid_grant',
      error_description: 'refresh token is invalid, expired or revoked',
      status: 'BAD_REFRESH_TOKEN',
    });
  });

  it('serves a consent page with a Connect app button when auto-approve is off', async () => {
    const manual = await startHubSpotSandbox({ autoApprove: false });
    try {
      manual.addPortal(777);
      const url = manual.authorizeUrl({ redirectUri: REDIRECT_URI, scopes: SCOPES, state: 's1' });
      const page = await fetch(url);
      expect(await page.text()).toContain('Connect app');
      const approved = await fetch(`${manual.url}/oauth/authorize`, {
        ...form({
          client_id: manual.clientId,
          redirect_uri: REDIRECT_URI,
          scope: SCOPES.join(' '),
          state: 's1',
          portalId: '777',
          decision: 'approve',
        }),
        redirect: 'manual',
      });
      expect(approved.status).toBe(302);
      const location = new URL(approved.headers.get('location')!);
      expect(location.searchParams.get('code')).toBeTruthy();
      expect(location.searchParams.get('state')).toBe('s1');
    } finally {
      await manual.close();
    }
  });
});

describe('CRM through @hubspot/api-client', () => {
  it('reads a deal with properties and associations (primary company twice)', async () => {
    const dealId = dealIds[0]!;
    const deal = await client.crm.deals.basicApi.getById(
      dealId,
      ['dealname', 'amount', 'deal_currency_code', 'dealstage', 'no_such_property'],
      undefined,
      ['companies', 'contacts'],
    );
    expect(deal.id).toBe(dealId);
    expect(deal.properties).toMatchObject({
      dealname: "O'Brien & Sons – Office Fit-out",
      amount: '48000',
      deal_currency_code: 'EUR',
      dealstage: 'contractsent',
      hs_object_id: dealId,
    });
    expect(deal.properties).not.toHaveProperty('no_such_property');
    expect(deal.createdAt).toBeInstanceOf(Date);
    expect(deal.associations?.companies?.results).toEqual([
      { id: companyIds[0], type: 'deal_to_company' },
      { id: companyIds[0], type: 'deal_to_company_unlabeled' },
    ]);
    expect(deal.associations?.contacts?.results).toHaveLength(2);
    const logged = sandbox.requests.findLast((r) => r.path === `/crm/v3/objects/deals/${dealId}`);
    expect(logged).toMatchObject({ method: 'GET', portalId: PORTAL, status: 200 });
    expect(logged?.query).toContain('properties=dealname&properties=amount');

    const missing = await sdkError(client.crm.deals.basicApi.getById('999'));
    expect(missing.code).toBe(404);
    expect(missing.body.category).toBe('OBJECT_NOT_FOUND');
  });

  it('batch-reads with a 207 for missing ids', async () => {
    const res = await client.crm.deals.batchApi.read({
      inputs: [{ id: dealIds[1]! }, { id: dealIds[6]! }, { id: '404404' }],
      properties: ['amount', 'deal_currency_code'],
      propertiesWithHistory: [],
    });
    expect(res.results.map((r) => r.properties.amount).sort()).toEqual(['12000.50', '4500000']);
    expect('numErrors' in res && res.numErrors).toBe(1);
    const companies = await client.crm.companies.batchApi.read({
      inputs: companyIds.slice(0, 2).map((id) => ({ id })),
      properties: ['name', 'domain', 'address', 'city', 'zip', 'country'],
      propertiesWithHistory: [],
    });
    expect(companies.results.map((c) => c.properties.name)).toContain("O'Brien & Sons Construction");
  });

  it('searches with filters, sorts and paging', async () => {
    const first = await client.crm.deals.searchApi.doSearch({
      filterGroups: [
        {
          filters: [
            { propertyName: 'dealstage', operator: 'EQ' as never, value: 'contractsent' },
            { propertyName: 'deal_currency_code', operator: 'IN' as never, values: ['EUR', 'JPY'] },
          ],
        },
      ],
      sorts: ['-amount'],
      properties: ['dealname', 'amount'],
      limit: 1,
      after: '0',
    });
    expect(first.total).toBe(2);
    expect(first.results[0]?.properties.amount).toBe('4500000');
    expect(first.paging?.next?.after).toBe('1');

    const big = await client.crm.deals.searchApi.doSearch({
      filterGroups: [{ filters: [{ propertyName: 'amount', operator: 'GTE' as never, value: '100000' }] }],
      sorts: [],
      properties: ['amount'],
      limit: 10,
      after: '0',
    });
    // Amounts compare numerically, whatever the currency (100000 USD, 275000 and 4500000 JPY).
    expect(big.results.map((r) => r.properties.amount).sort()).toEqual(['100000', '275000', '4500000']);

    const tokens = await client.crm.deals.searchApi.doSearch({
      filterGroups: [
        { filters: [{ propertyName: 'dealname', operator: 'CONTAINS_TOKEN' as never, value: 'acme' }] },
      ],
      sorts: [],
      properties: ['dealname'],
      limit: 10,
      after: '0',
    });
    expect(tokens.total).toBe(2);
  });

  it('creates property groups and properties, and rejects duplicates and unknown properties', async () => {
    const group = await client.crm.properties.groupsApi.create('deals', {
      name: 'milestone_billing',
      label: 'Milestone billing',
      displayOrder: -1,
    });
    expect(group.name).toBe('milestone_billing');
    const created = await client.crm.properties.coreApi.create('deals', {
      name: 'billing_schedule_status',
      label: 'Billing schedule status',
      type: 'enumeration' as never,
      fieldType: 'select' as never,
      groupName: 'milestone_billing',
      options: [
        { label: 'None', value: 'none', hidden: false, displayOrder: 0 },
        { label: 'Active', value: 'active', hidden: false, displayOrder: 1 },
      ],
    });
    expect(created).toMatchObject({
      name: 'billing_schedule_status',
      hubspotDefined: false,
      groupName: 'milestone_billing',
    });
    expect(sandbox.propertiesOf(PORTAL, 'deals').map((p) => p.name)).toContain('billing_schedule_status');
    expect(sandbox.propertyGroupsOf(PORTAL, 'deals').map((g) => g.name)).toContain('milestone_billing');

    const dup = await sdkError(
      client.crm.properties.coreApi.create('deals', {
        name: 'billing_schedule_status',
        label: 'Again',
        type: 'string' as never,
        fieldType: 'text' as never,
        groupName: 'milestone_billing',
      }),
    );
    expect(dup.code).toBe(409);
    expect(dup.body).toMatchObject({
      category: 'OBJECT_ALREADY_EXISTS',
      message: "Property named 'billing_schedule_status' already exists.",
    });
    const dupGroup = await sdkError(
      client.crm.properties.groupsApi.create('deals', { name: 'milestone_billing', label: 'x' }),
    );
    expect(dupGroup.code).toBe(409);

    const updated = await client.crm.deals.basicApi.update(dealIds[0]!, {
      properties: { billing_schedule_status: 'active' },
    });
    expect(updated.properties.billing_schedule_status).toBe('active');
    expect(sandbox.getDeal(PORTAL, dealIds[0]!)?.properties.billing_schedule_status).toBe('active');

    const bad = await sdkError(
      client.crm.deals.basicApi.update(dealIds[0]!, { properties: { not_a_prop: 'x' } }),
    );
    expect(bad.code).toBe(400);
    expect(bad.body.category).toBe('VALIDATION_ERROR');
    expect(bad.body.errors?.[0]?.code).toBe('PROPERTY_DOESNT_EXIST');
  });

  it('creates a note associated to the deal with type 214', async () => {
    const dealId = dealIds[1]!;
    const note = await client.crm.objects.notes.basicApi.create({
      properties: {
        hs_timestamp: '2026-03-01T09:00:00.000Z',
        hs_note_body: '<p>Milestone 1 of 4 invoiced: EUR 3,000.00</p>',
      },
      associations: [
        {
          to: { id: dealId },
          types: [{ associationCategory: 'HUBSPOT_DEFINED' as never, associationTypeId: 214 }],
        },
      ],
    });
    expect(note.id).toBeTruthy();
    const notes = sandbox.notesFor(PORTAL, dealId);
    expect(notes).toHaveLength(1);
    expect(notes[0]).toMatchObject({ id: note.id, body: '<p>Milestone 1 of 4 invoiced: EUR 3,000.00</p>' });
    expect(notes[0]?.associationTypeIds).toContain(214);

    const noTimestamp = await sdkError(
      client.crm.objects.notes.basicApi.create({ properties: { hs_note_body: 'x' }, associations: [] }),
    );
    expect(noTimestamp.code).toBe(400);
    const badType = await sdkError(
      client.crm.objects.notes.basicApi.create({
        properties: { hs_timestamp: String(Date.now()) },
        associations: [
          {
            to: { id: dealId },
            types: [{ associationCategory: 'HUBSPOT_DEFINED' as never, associationTypeId: 9999 }],
          },
        ],
      }),
    );
    expect(badType.code).toBe(400);
    expect(sandbox.notesFor(PORTAL, dealId)).toHaveLength(1);
  });

  it('serves v4 associations and the default pipeline', async () => {
    const page = await client.crm.associations.v4.basicApi.getPage('deals', dealIds[3]!, 'companies');
    expect(page.results).toEqual([
      {
        toObjectId: Number(companyIds[2]),
        associationTypes: [
          { category: 'HUBSPOT_DEFINED', typeId: 5, label: 'Primary' },
          { category: 'HUBSPOT_DEFINED', typeId: 341, label: null },
        ],
      },
      {
        toObjectId: Number(companyIds[1]),
        associationTypes: [{ category: 'HUBSPOT_DEFINED', typeId: 341, label: null }],
      },
    ]);
    const batch = await client.crm.associations.v4.batchApi.getPage('deals', 'contacts', {
      inputs: [{ id: dealIds[0]! }, { id: dealIds[9]! }],
    });
    expect(batch.results).toHaveLength(2);

    const pipelines = await client.crm.pipelines.pipelinesApi.getAll('deals');
    const stages = pipelines.results.find((p) => p.id === 'default')?.stages.map((s) => s.id);
    expect(stages).toEqual([
      'appointmentscheduled',
      'qualifiedtobuy',
      'presentationscheduled',
      'decisionmakerboughtin',
      'contractsent',
      'closedwon',
      'closedlost',
    ]);
  });

  it('answers 401 for missing and expired tokens', async () => {
    sandbox.addPortal(55502);
    const expiring = new Client({
      accessToken: sandbox.issueTokens(55502).accessToken,
      basePath: sandbox.url,
    });
    await expiring.crm.deals.basicApi.getPage(1);
    sandbox.expireAccessTokens(55502);
    const expired = await sdkError(expiring.crm.deals.basicApi.getPage(1));
    expect(expired.code).toBe(401);
    expect(expired.body.category).toBe('EXPIRED_AUTHENTICATION');
    expect(expired.body.message).toBe('The OAuth token used to make this call expired 1 minute(s) ago.');

    const anonymous = await fetch(`${sandbox.url}/crm/v3/objects/deals/${dealIds[0]}`);
    expect(anonymous.status).toBe(401);
    expect(await anonymous.json()).toMatchObject({ status: 'error', category: 'INVALID_AUTHENTICATION' });
  });

  it('injects 5xx faults for the next n calls', async () => {
    sandbox.failNext(1, 502);
    const failed = await sdkError(client.crm.deals.basicApi.getById(dealIds[0]!));
    expect(failed.code).toBe(502);
    await expect(client.crm.deals.basicApi.getById(dealIds[0]!)).resolves.toMatchObject({ id: dealIds[0] });
  });
});

describe('the dated 2026-03 APIs through client.apiRequest', () => {
  const api = async (method: string, path: string, body?: object) => {
    const res = await client.apiRequest({ method, path, ...(body ? { body } : {}) });
    // biome-ignore lint/suspicious/noExplicitAny: HubSpot's answers are untyped JSON
    return { status: res.status, body: (await res.json().catch(() => undefined)) as Record<string, any> };
  };

  it('reads a deal with its associations, as the numbered API does', async () => {
    const dealId = dealIds[0]!;
    const { status, body } = await api(
      'GET',
      `/crm/objects/2026-03/0-3/${dealId}?properties=dealname,deal_currency_code&associations=companies,contacts`,
    );
    expect(status).toBe(200);
    expect(body.properties).toMatchObject({
      dealname: "O'Brien & Sons – Office Fit-out",
      deal_currency_code: 'EUR',
    });
    expect(body.associations.companies.results).toContainEqual({
      id: companyIds[0],
      type: 'deal_to_company',
    });
    const contacts = await api('POST', '/crm/objects/2026-03/0-1/batch/read', {
      inputs: body.associations.contacts.results.map((c: { id: string }) => ({ id: c.id })),
      properties: ['email'],
      propertiesWithHistory: [],
    });
    expect(contacts.body.results).toHaveLength(2);
    const companies = await api('POST', '/crm/associations/2026-03/0-3/0-2/batch/read', {
      inputs: [{ id: dealId }],
    });
    expect(companies.body.results[0].to[0].toObjectId).toBe(Number(companyIds[0]));
  });

  it('creates a note on a deal and lists the deal’s notes', async () => {
    const dealId = dealIds[1]!;
    const created = await api('POST', '/crm/objects/2026-03/notes', {
      properties: { hs_timestamp: '2026-03-01T09:00:00.000Z', hs_note_body: '<p>dated</p>' },
      associations: [
        { to: { id: dealId }, types: [{ associationCategory: 'HUBSPOT_DEFINED', associationTypeId: 214 }] },
      ],
    });
    expect(created.status).toBe(201);
    const notes = await api('GET', `/crm/objects/2026-03/0-3/${dealId}/associations/notes`);
    expect(notes.body.results).toContainEqual(
      expect.objectContaining({ toObjectId: Number(created.body.id) }),
    );
    const patched = await api('PATCH', `/crm/objects/2026-03/0-3/${dealId}`, {
      properties: { dealname: 'Renamed' },
    });
    expect(patched.body.properties.dealname).toBe('Renamed');
  });

  it('creates a property group and a property once; the second create answers 409', async () => {
    const group = { name: 'dated_group', label: 'Dated group', displayOrder: -1 };
    expect((await api('POST', '/crm/properties/2026-03/0-3/groups', group)).status).toBe(201);
    const property = {
      name: 'dated_amount',
      label: 'Dated amount',
      type: 'number',
      fieldType: 'number',
      groupName: 'dated_group',
      numberDisplayHint: 'currency',
    };
    const first = await api('POST', '/crm/properties/2026-03/0-3', property);
    expect(first).toMatchObject({
      status: 201,
      body: { name: 'dated_amount', numberDisplayHint: 'currency' },
    });
    expect((await api('POST', '/crm/properties/2026-03/0-3', property)).status).toBe(409);
  });

  it('answers the account details with the portal’s company currency', async () => {
    sandbox.addPortal(55503, { companyCurrency: 'GBP', currencies: ['GBP', 'EUR'] });
    const gbp = new Client({ accessToken: sandbox.issueTokens(55503).accessToken, basePath: sandbox.url });
    const res = await gbp.apiRequest({ method: 'GET', path: '/account-info/2026-03/details' });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({
      portalId: 55503,
      companyCurrency: 'GBP',
      additionalCurrencies: ['EUR'],
    });
    expect((await fetch(`${sandbox.url}/account-info/2026-03/details`)).status).toBe(401);
  });
});

describe('user provisioning (settings/users/2026-03)', () => {
  const get = async (path: string, token = client) => {
    const res = await token.apiRequest({ method: 'GET', path });
    // biome-ignore lint/suspicious/noExplicitAny: HubSpot's answers are untyped JSON
    return { status: res.status, body: (await res.json()) as Record<string, any> };
  };

  it('answers a user as PublicUserMarch2026 (string ids, roleIds, superAdmin), by id or email', async () => {
    sandbox.addUser(PORTAL, { id: 880001, email: 'rep@obrien-demo.example.com', roleIds: ['1001'] });
    const byId = await get('/settings/users/2026-03/880001');
    expect(byId.status).toBe(200);
    expect(byId.body).toMatchObject({
      id: '880001',
      email: 'rep@obrien-demo.example.com',
      roleIds: ['1001'],
      superAdmin: false,
    });
    const byEmail = await get('/settings/users/2026-03/owner@obrien-demo.example.com?idProperty=EMAIL');
    expect(byEmail.body).toMatchObject({ superAdmin: true, roleIds: [] });
    const roles = await get('/settings/users/2026-03/roles');
    expect(roles.body.results).toEqual([
      { id: '1001', name: 'Sales rep', requiresBillingWrite: false },
      { id: '1002', name: 'Finance', requiresBillingWrite: false },
    ]);
    const unknown = await get('/settings/users/2026-03/123');
    expect([unknown.status, unknown.body.category]).toEqual([404, 'OBJECT_NOT_FOUND']);
  });

  it('needs settings.users.read (or crm.objects.users.read): 403 MISSING_SCOPES without', async () => {
    const narrow = new Client({
      accessToken: sandbox.issueTokens(PORTAL, { scopes: ['oauth', 'crm.objects.deals.read'] }).accessToken,
      basePath: sandbox.url,
    });
    const res = await get('/settings/users/2026-03/880001', narrow);
    expect(res.status).toBe(403);
    expect(res.body.category).toBe('MISSING_SCOPES');
  });
});

describe('hubspot.fetch from an app card', () => {
  let receiver: Server;
  let seen: { url: string; headers: IncomingHttpHeaders; body: string }[];
  let base: string;
  beforeAll(async () => {
    seen = [];
    receiver = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        seen.push({ url: req.url!, headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
        res.setHeader('content-type', 'application/json');
        res.end('{}');
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => receiver.close(() => resolve())));

  it("appends the user's id, the portal, the user's email and the app id after the card's own query, and signs the whole URL", async () => {
    sandbox.addUser(PORTAL, { id: 880002, email: 'sam@obrien-demo.example.com' });
    await sandbox.hubspotFetch(`${base}/card/v1/portfolio?currency=EUR&portalId=1`, {
      method: 'POST',
      body: { a: 1 },
      as: { portalId: PORTAL, userId: 880002 },
    });
    const [request] = seen.splice(0);
    const url = new URL(request!.url, base);
    expect([...url.searchParams]).toEqual([
      ['currency', 'EUR'],
      // What the card wrote stays; HubSpot's own follow (a backend must refuse the repeat).
      ['portalId', '1'],
      ['userId', '880002'],
      ['portalId', String(PORTAL)],
      ['userEmail', 'sam@obrien-demo.example.com'],
      ['appId', String(sandbox.appId)],
    ]);
    // Nothing else of HubSpot's: the signature headers, the timestamp, JSON.
    expect(Object.keys(request!.headers).filter((h) => h.startsWith('x-hubspot'))).toEqual([
      'x-hubspot-signature-v3',
      'x-hubspot-request-timestamp',
    ]);
    expect(
      Signature.isValid({
        signatureVersion: 'v3',
        signature: String(request!.headers['x-hubspot-signature-v3']),
        clientSecret: sandbox.clientSecret,
        requestBody: request!.body,
        url: `${base}${request!.url}`.replace('%40', '@'),
        method: 'POST',
        timestamp: Number(request!.headers['x-hubspot-request-timestamp']),
      }),
    ).toBe(true);
  });
});

describe('rate limits', () => {
  it('answers 429 with HubSpot’s body after the ten-second budget and 429 for search over 5/s', async () => {
    const limited = await startHubSpotSandbox({ rateLimit: { max: 3, windowMs: 60_000 } });
    try {
      limited.addPortal(PORTAL);
      const { accessToken } = limited.issueTokens(PORTAL);
      const headers = { Authorization: `Bearer ${accessToken}` };
      const url = `${limited.url}/crm/v3/objects/deals?limit=1`;
      const remaining: string[] = [];
      for (let i = 0; i < 3; i++) {
        const ok = await fetch(url, { headers });
        expect(ok.status).toBe(200);
        expect(ok.headers.get('x-hubspot-ratelimit-max')).toBe('3');
        expect(ok.headers.get('x-hubspot-ratelimit-interval-milliseconds')).toBe('60000');
        remaining.push(ok.headers.get('x-hubspot-ratelimit-remaining')!);
      }
      expect(remaining).toEqual(['2', '1', '0']);
      const throttled = await fetch(url, { headers });
      expect(throttled.status).toBe(429);
      const body = (await throttled.json()) as Record<string, unknown>;
      expect(body).toEqual({
        status: 'error',
        message: 'You have reached your ten_secondly_rolling limit.',
        errorType: 'RATE_LIMIT',
        correlationId: expect.stringMatching(/^[0-9a-f-]{36}$/),
        policyName: 'TEN_SECONDLY_ROLLING',
      });
      const sdk = new Client({ accessToken, basePath: limited.url });
      expect((await sdkError(sdk.crm.deals.basicApi.getPage(1))).code).toBe(429);

      const search = () =>
        fetch(`${limited.url}/crm/v3/objects/deals/search`, {
          method: 'POST',
          headers: { ...headers, 'Content-Type': 'application/json' },
          body: JSON.stringify({ filterGroups: [], limit: 1 }),
        });
      const statuses = [];
      for (let i = 0; i < 6; i++) statuses.push((await search()).status);
      expect(statuses.slice(0, 5)).toEqual([200, 200, 200, 200, 200]);
      expect(statuses[5]).toBe(429);
      expect(await (await search()).json()).toMatchObject({
        message: 'You have reached your secondly limit.',
      });
    } finally {
      await limited.close();
    }
  });
});

describe('webhooks', () => {
  interface Received {
    headers: IncomingHttpHeaders;
    body: string;
  }
  let receiver: Server;
  let received: Received[];
  let answers: number[];
  let targetUrl: string;

  beforeAll(async () => {
    received = [];
    answers = [];
    receiver = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        received.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
        res.statusCode = answers.shift() ?? 204;
        res.end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    targetUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hubspot/webhooks`;
    sandbox.configureWebhooks({ targetUrl });
  });

  afterAll(async () => {
    await new Promise<void>((resolve) => receiver.close(() => resolve()));
  });

  it('delivers v3-signed batches and retries a non-2xx with attemptNumber 1', async () => {
    received.length = 0;
    answers.push(500);
    const delivery = await sandbox.moveDealToStage(PORTAL, dealIds[0]!, 'closedwon');
    expect(delivery?.attempts.map((a) => a.status)).toEqual([500, 204]);
    expect(delivery?.delivered).toBe(true);
    expect(sandbox.getDeal(PORTAL, dealIds[0]!)?.properties.dealstage).toBe('closedwon');

    expect(received).toHaveLength(2);
    for (const [i, hit] of received.entries()) {
      expect(hit.headers['content-type']).toBe('application/json');
      const timestamp = Number(hit.headers['x-hubspot-request-timestamp']);
      expect(
        Signature.isValid({
          signatureVersion: 'v3',
          signature: String(hit.headers['x-hubspot-signature-v3']),
          clientSecret: sandbox.clientSecret,
          requestBody: hit.body,
          url: targetUrl,
          method: 'POST',
          timestamp,
        }),
      ).toBe(true);
      expect(
        Signature.isValid({
          signatureVersion: 'v1',
          signature: String(hit.headers['x-hubspot-signature']),
          clientSecret: sandbox.clientSecret,
          requestBody: hit.body,
        }),
      ).toBe(true);
      expect(hit.headers['x-hubspot-signature-version']).toBe('v1');
      const events = JSON.parse(hit.body) as Array<Record<string, unknown>>;
      expect(events).toHaveLength(1);
      expect(events[0]).toMatchObject({
        subscriptionType: 'deal.propertyChange',
        portalId: PORTAL,
        appId: sandbox.appId,
        objectId: Number(dealIds[0]),
        propertyName: 'dealstage',
        propertyValue: 'closedwon',
        changeSource: 'CRM_UI',
        attemptNumber: i,
      });
      expect(String(events[0]?.sourceId)).toMatch(/^userId:\d+$/);
    }
  });

  it('signs forged requests like HubSpot and refuses batches over 100 events', async () => {
    const body = JSON.stringify({ milestoneId: 1 });
    const timestamp = Date.now();
    const url = 'https://billing.example.com/api/deals/1/schedule?portalId=24681357';
    const signature = sandbox.signRequest({ method: 'POST', url, body, timestamp });
    expect(
      Signature.isValid({
        signatureVersion: 'v3',
        signature,
        clientSecret: sandbox.clientSecret,
        requestBody: body,
        url,
        method: 'POST',
        timestamp,
      }),
    ).toBe(true);
    expect(
      Signature.isValid({
        signatureVersion: 'v3',
        signature,
        clientSecret: sandbox.clientSecret,
        requestBody: body.replace('1', '2'),
        url,
        method: 'POST',
        timestamp,
      }),
    ).toBe(false);

    const events = Array.from({ length: 101 }, () =>
      sandbox.dealPropertyChangeEvent(PORTAL, dealIds[0]!, 'amount', '1'),
    );
    await expect(sandbox.sendWebhookBatch(events)).rejects.toThrow(/at most 100/);
  });
});
