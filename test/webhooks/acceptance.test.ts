import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signAcceptance } from '../../src/acceptance/signature.ts';
import { acceptances, inbox } from '../../src/store/schema.ts';
import { acceptanceSecret } from '../../src/tenants/repository.ts';
import { startTestApp, type TestApp, type TestTenant } from '../support/app.ts';
import { sample } from '../support/samples.ts';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(() => t.close());

let deals = 0;
async function setup() {
  const tenant = await t.tenant();
  const dealId = String(9_000_000 + ++deals);
  const schedule = await tenant.put(`/deals/${dealId}/schedule`, {
    contractValue: { amount: '10000.01', currency: 'USD' },
    milestones: ['Design', 'Build'].map((name) => ({
      name,
      key: name.toLowerCase(),
      deliverable: `${name} deliverable`,
      acceptanceCriteria: `${name} approved`,
      percent: '50',
      plannedDate: '2026-12-01',
    })),
  });
  expect(schedule.status).toBe(200);
  const secret = acceptanceSecret(t.encryptionKey, tenant.tenant);
  return { tenant, dealId, secret, schedule: schedule.body };
}

function deliver(
  body: unknown,
  secret: string,
  opts: { timestamp?: number; tamper?: (raw: string) => string } = {},
) {
  const raw = JSON.stringify(body);
  const signature = signAcceptance(secret, raw, opts.timestamp);
  return t.http
    .post('/webhooks/acceptance')
    .set('Content-Type', 'application/json')
    .set('X-Acceptance-Signature', signature)
    .send(opts.tamper ? opts.tamper(raw) : raw);
}

async function acceptanceCount(tenant: TestTenant) {
  return (await t.database.db.select().from(acceptances).where(eq(acceptances.tenantId, tenant.tenant.id)))
    .length;
}

async function inboxCount(tenant: TestTenant) {
  return (await t.database.db.select().from(inbox).where(eq(inbox.tenantId, tenant.tenant.id))).length;
}

describe('POST /webhooks/acceptance', () => {
  it('accepts a signed report once; the same id again changes nothing', async () => {
    const { tenant, dealId, secret } = await setup();
    const body = sample('acceptance/samples/full.json', { portalId: tenant.portalId, dealId });
    const first = await deliver(body, secret);
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({
      outcome: 'accepted',
      milestone: { key: 'design', status: 'accepted', amount: { amount: '5000.01' } },
    });
    const again = await deliver(body, secret);
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ outcome: 'duplicate', acceptanceId: first.body.acceptanceId });
    expect(await acceptanceCount(tenant)).toBe(1);
    const [stored] = await t.database.db
      .select()
      .from(acceptances)
      .where(eq(acceptances.id, first.body.acceptanceId));
    expect(stored).toMatchObject({
      source: 'webhook',
      acceptedBy: { name: 'Dana Client', email: 'dana@client.example' },
      evidence: [{ name: 'Sign-off.pdf', url: 'https://files.client.example/sign-off.pdf' }],
      note: 'Approved in review call',
    });
    const history = (await tenant.get(`/milestones/${first.body.milestone.id}/history`)).body.transitions;
    expect(history.at(-1)).toMatchObject({ event: 'accept', actor: `webhook:${body.id}` });
  });

  it('accepts the whole milestone when no portion is given', async () => {
    const { tenant, dealId, secret } = await setup();
    const { portion: _omitted, ...body } = sample('acceptance/samples/full.json', {
      portalId: tenant.portalId,
      dealId,
    });
    const res = await deliver(body, secret);
    expect(res.status).toBe(200);
    expect(res.body.milestone.amount.amount).toBe('5000.01');
    expect(res.body.remainder).toBeNull();
  });

  it('splits a 40 % portion exactly to the cent and accepts the rest by name', async () => {
    const { tenant, dealId, secret } = await setup();
    const partial = await deliver(
      sample('acceptance/samples/partial-percent.json', { portalId: tenant.portalId, dealId }),
      secret,
    );
    expect(partial.status).toBe(200);
    expect(partial.body.milestone.amount.amount).toBe('2000.00');
    expect(partial.body.remainder.amount.amount).toBe('3000.00');
    const rest = await deliver(
      sample('acceptance/samples/partial-percent.json', {
        id: 'acc_rest',
        portalId: tenant.portalId,
        dealId,
        portion: { percent: 60 },
      }),
      secret,
    );
    expect(rest.body.milestone.amount.amount).toBe('3000.00');
    expect(rest.body.remainder).toBeNull();
  });

  it('accepts an amount portion addressed by milestone id', async () => {
    const { tenant, dealId, secret, schedule } = await setup();
    const res = await deliver(
      sample('acceptance/samples/partial-amount.json', {
        portalId: tenant.portalId,
        dealId,
        milestone: { id: schedule.milestones[1].id },
      }),
      secret,
    );
    expect(res.status).toBe(200);
    expect(res.body.milestone.amount).toEqual({ amount: '1500.00', currency: 'USD' });
    expect(res.body.remainder.amount.amount).toBe('3500.00');
  });

  it.each([
    [
      'an unknown milestone',
      { milestone: { key: 'nope' } },
      404,
      'unknown_milestone',
      'no milestone with key "nope" on this deal',
    ],
    [
      'a portion larger than the milestone',
      { portion: { amount: '5000.02' } },
      422,
      'over_acceptance',
      'USD 5,000.02 is more than the USD 5,000.01',
    ],
    [
      'a currency mismatch',
      { portion: { amount: '10.00', currency: 'EUR' } },
      422,
      'invalid_request',
      'the schedule is in USD, not EUR',
    ],
    ['an invalid body', { acceptedAt: 'yesterday' }, 422, 'invalid_request', 'acceptedAt'],
  ])('refuses %s with a problem and changes nothing', async (_name, overrides, status, code, detail) => {
    const { tenant, dealId, secret } = await setup();
    const res = await deliver(
      sample('acceptance/samples/full.json', { portalId: tenant.portalId, dealId, ...overrides }),
      secret,
    );
    expect(res.status).toBe(status);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.body).toMatchObject({ code });
    expect(res.body.detail).toContain(detail);
    expect(await acceptanceCount(tenant)).toBe(0);
  });

  it('keeps a signed body that fails validation in the inbox, under its tenant, for inspection', async () => {
    const { tenant, dealId, secret } = await setup();
    const res = await deliver(
      sample('acceptance/samples/full.json', { portalId: tenant.portalId, dealId, acceptedAt: 'yesterday' }),
      secret,
    );
    expect(res.status).toBe(422);
    const [kept] = await t.database.db.select().from(inbox).where(eq(inbox.tenantId, tenant.tenant.id));
    expect(kept).toMatchObject({ source: 'acceptance', status: 'ignored' });
    expect(kept!.outcome).toMatch(/^malformed: .*acceptedAt/s);
    expect(await acceptanceCount(tenant)).toBe(0);
  });

  it('answers a NUL character in the note with a problem naming it, and keeps the body for inspection', async () => {
    const { tenant, dealId, secret } = await setup();
    const res = await deliver(
      sample('acceptance/samples/full.json', { portalId: tenant.portalId, dealId, note: 'fine\u0000' }),
      secret,
    );
    expect(res.status).toBe(422);
    expect(res.body.detail).toContain('note: contains a control character');
    expect(await acceptanceCount(tenant)).toBe(0);
    const [kept] = await t.database.db.select().from(inbox).where(eq(inbox.tenantId, tenant.tenant.id));
    expect(kept).toMatchObject({ status: 'ignored' });
  });

  it('keeps a signed body nested too deeply to store as the text that came', async () => {
    const { tenant, dealId, secret } = await setup();
    const deep = `${'['.repeat(100_000)}${']'.repeat(100_000)}`;
    const raw = JSON.stringify(
      sample('acceptance/samples/full.json', { portalId: tenant.portalId, dealId }),
    ).replace(/}$/, `,"extra":${deep}}`);
    const res = await t.http
      .post('/webhooks/acceptance')
      .set('Content-Type', 'application/json')
      .set('X-Acceptance-Signature', signAcceptance(secret, raw))
      .send(raw);
    expect(res.status).toBe(422);
    expect(res.body.detail).toContain('nested too deeply');
    const [kept] = await t.database.db.select().from(inbox).where(eq(inbox.tenantId, tenant.tenant.id));
    expect((kept!.payload as { rawText: string }).rawText).toBe(raw.slice(0, 100_000));
  });

  it('refuses a milestone already fully accepted', async () => {
    const { tenant, dealId, secret } = await setup();
    await deliver(sample('acceptance/samples/full.json', { portalId: tenant.portalId, dealId }), secret);
    const res = await deliver(
      sample('acceptance/samples/full.json', { id: 'acc_other', portalId: tenant.portalId, dealId }),
      secret,
    );
    expect(res.status).toBe(409);
    expect(res.body).toMatchObject({
      code: 'already_accepted',
      detail: '"Design" is already fully accepted',
    });
    expect(await acceptanceCount(tenant)).toBe(1);
  });

  it.each([
    ['a stale timestamp', { timestamp: Date.now() - 6 * 60_000 }, 'more than 5 minutes'],
    [
      'a body altered by one byte',
      { tamper: (raw: string) => raw.replace('Dana', 'Dane') },
      'does not match',
    ],
    ['a wrong secret', { secret: 'whsec_wrong' }, 'does not match'],
  ])('answers %s with 401 and leaves no trace', async (_name, opts, reason) => {
    const { tenant, dealId, secret } = await setup();
    const body = sample('acceptance/samples/full.json', { portalId: tenant.portalId, dealId });
    const o = opts as { secret?: string; timestamp?: number; tamper?: (raw: string) => string };
    const res = await deliver(body, o.secret ?? secret, o);
    expect(res.status).toBe(401);
    expect(res.body.code).toBe('invalid_signature');
    expect(res.body.detail).toContain(reason);
    expect(await acceptanceCount(tenant)).toBe(0);
    expect(await inboxCount(tenant)).toBe(0);
  });

  it('refuses a body that differs from the signed one only in invalid UTF-8 bytes', async () => {
    const { tenant, dealId, secret } = await setup();
    const raw = JSON.stringify(sample('acceptance/samples/full.json', { portalId: tenant.portalId, dealId }));
    // Alike as text (each invalid byte decodes to U+FFFD), not as bytes.
    const signed = Buffer.concat([
      Buffer.from(raw.slice(0, -1)),
      Buffer.from([0x20, 0xff]),
      Buffer.from('}'),
    ]);
    const sent = Buffer.concat([Buffer.from(raw.slice(0, -1)), Buffer.from([0x20, 0xfe]), Buffer.from('}')]);
    const res = await t.http
      .post('/webhooks/acceptance')
      .set('Content-Type', 'application/json')
      .set('X-Acceptance-Signature', signAcceptance(secret, signed))
      .send(sent);
    expect(res.status).toBe(401);
    expect(await acceptanceCount(tenant)).toBe(0);
    expect(await inboxCount(tenant)).toBe(0);
  });

  it('answers a missing signature with 401', async () => {
    const { tenant, dealId } = await setup();
    const res = await t.http
      .post('/webhooks/acceptance')
      .set('Content-Type', 'application/json')
      .send(sample('acceptance/samples/full.json', { portalId: tenant.portalId, dealId }));
    expect(res.status).toBe(401);
    expect(await inboxCount(tenant)).toBe(0);
  });

  it('a rotated secret stops the old one at once', async () => {
    const { tenant, dealId, secret } = await setup();
    const { rotateAcceptanceSecret } = await import('../../src/tenants/repository.ts');
    const fresh = await rotateAcceptanceSecret(t.database.db, t.encryptionKey, tenant.tenant);
    const body = sample('acceptance/samples/full.json', { portalId: tenant.portalId, dealId });
    expect((await deliver(body, secret)).status).toBe(401);
    expect((await deliver(body, fresh)).status).toBe(200);
  });
});
