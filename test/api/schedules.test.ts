import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findMilestone } from '../../src/schedules/repository.ts';
import { applyTransition } from '../../src/schedules/transition.ts';
import { startTestApp, type TestApp, type TestTenant } from '../support/app.ts';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(() => t.close());

const milestone = (name: string, amount: Record<string, string>, extra: Record<string, unknown> = {}) => ({
  name,
  deliverable: `${name} deliverable`,
  acceptanceCriteria: `${name} signed off`,
  plannedDate: '2026-12-01',
  ...amount,
  ...extra,
});

const sum = (milestones: { amount: { amount: string } }[]) =>
  milestones.reduce((total, m) => total + Math.round(Number(m.amount.amount) * 100), 0);

async function softwareSchedule(tenant: TestTenant, dealId: string, amount = '100000.00') {
  const res = await tenant.post(`/deals/${dealId}/schedule/template`, {
    template: 'software',
    contractValue: { amount, currency: 'USD' },
    startDate: '2026-11-02',
  });
  expect(res.status).toBe(201);
  return res.body;
}

/** Moves an accepted milestone on to invoiced through the same lifecycle code the worker uses. */
async function markInvoiced(tenant: TestTenant, id: string) {
  await t.database.db.transaction(async (tx) => {
    let row = (await findMilestone(tx, tenant.tenant.id, id))!;
    row = await applyTransition(tx, row, 'push', { actor: 'job:test' });
    await applyTransition(tx, row, 'invoice_created', { actor: 'job:test' });
  });
}

describe('schedules', () => {
  it('applies the software template to a USD 100,000.00 deal as 4 milestones summing exactly', async () => {
    const tenant = await t.tenant();
    const schedule = await softwareSchedule(tenant, '1001');
    expect(schedule.milestones.map((m: { name: string }) => m.name)).toEqual([
      'Discovery',
      'Design',
      'Build',
      'Launch',
    ]);
    expect(schedule.milestones.map((m: { amount: { amount: string } }) => m.amount.amount)).toEqual([
      '25000.00',
      '25000.00',
      '35000.00',
      '15000.00',
    ]);
    expect(sum(schedule.milestones)).toBe(10_000_000);
    expect(schedule.milestones[0].plannedDate).toBe('2026-11-16');
    expect(schedule.totals.unallocated).toEqual({ amount: '0.00', currency: 'USD' });
    expect(schedule.version).toBe(1);
    expect((await tenant.get('/deals/1001/schedule')).body).toEqual(schedule);
  });

  it('splits USD 10,000.00 three ways into amounts that sum to 10,000.00', async () => {
    const tenant = await t.tenant();
    const res = await tenant.put('/deals/1002/schedule', {
      contractValue: { amount: '10000.00', currency: 'USD' },
      milestones: [
        milestone('One', { percent: '33.3333' }),
        milestone('Two', { percent: '33.3333' }),
        milestone('Three', { percent: '33.3334' }),
      ],
    });
    expect(res.status).toBe(200);
    const amounts = res.body.milestones.map((m: { amount: { amount: string } }) => m.amount.amount);
    expect(amounts).toEqual(['3333.33', '3333.33', '3333.34']);
    expect(sum(res.body.milestones)).toBe(1_000_000);
  });

  it('refuses a schedule over 100 % with a problem naming the fields, and stores nothing', async () => {
    const tenant = await t.tenant();
    const res = await tenant.put('/deals/1003/schedule', {
      contractValue: { amount: '10000.00', currency: 'USD' },
      milestones: [milestone('A', { percent: '60' }), milestone('B', { percent: '41' })],
    });
    expect(res.status).toBe(422);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.body).toMatchObject({ code: 'schedule_invalid', status: 422 });
    expect(res.body.detail).toContain('milestones total 101 %');
    expect(res.body.errors).toEqual(
      expect.arrayContaining([expect.objectContaining({ path: 'milestones', code: 'over_100_percent' })]),
    );
    expect((await tenant.get('/deals/1003/schedule')).status).toBe(404);
  });

  it('says by how much fixed amounts exceed the contract', async () => {
    const tenant = await t.tenant();
    const res = await tenant.put('/deals/1004/schedule', {
      contractValue: { amount: '1000.00', currency: 'USD' },
      milestones: [milestone('A', { amount: '600.00' }), milestone('B', { amount: '550.00' })],
    });
    expect(res.status).toBe(422);
    expect(res.body.detail).toBe('amounts exceed the contract by USD 150.00');
  });

  it('keeps every version of the schedule', async () => {
    const tenant = await t.tenant();
    const first = await softwareSchedule(tenant, '1005');
    const changed = await tenant.post('/deals/1005/schedule/change-orders', {
      baseVersion: first.version,
      reason: 'rename design',
      change: [{ id: first.milestones[1].id, name: 'UX design' }],
    });
    expect(changed.status).toBe(201);
    const versions = (await tenant.get('/deals/1005/schedule/versions')).body.versions;
    expect(versions.map((v: { version: number }) => v.version)).toEqual([2, 1]);
    const v1 = (await tenant.get('/deals/1005/schedule/versions/1')).body;
    expect(v1.schedule.milestones[1].name).toBe('Design');
    expect(v1.reason).toBe('template software applied');
  });
});

describe('change orders', () => {
  it('adds a milestone without touching invoiced ones', async () => {
    const tenant = await t.tenant();
    const schedule = await softwareSchedule(tenant, '2001');
    const discovery = schedule.milestones[0];
    expect((await tenant.post(`/milestones/${discovery.id}/acceptances`, {})).status).toBe(201);
    await markInvoiced(tenant, discovery.id);
    const before = (await tenant.get(`/milestones/${discovery.id}`)).body;

    const res = await tenant.post('/deals/2001/schedule/change-orders', {
      baseVersion: 1,
      reason: 'client adds a mobile app',
      contractValue: { amount: '120000.00', currency: 'USD' },
      add: [milestone('Mobile app', { amount: '20000.00' }, { plannedDate: '2027-04-01' })],
    });
    expect(res.status).toBe(201);
    expect(res.body.version).toBe(2);
    expect(res.body.milestones).toHaveLength(5);
    expect(res.body.milestones[4]).toMatchObject({
      name: 'Mobile app',
      status: 'planned',
      amount: { amount: '20000.00' },
    });
    const after = (await tenant.get(`/milestones/${discovery.id}`)).body;
    expect(after).toEqual(before);
    expect(after.status).toBe('invoiced');
    // A scope change adds its own amount; the milestones already agreed keep theirs.
    expect(res.body.milestones[1].amount.amount).toBe('25000.00');
    expect(sum(res.body.milestones)).toBe(12_000_000);
    expect(res.body.totals.unallocated.amount).toBe('0.00');
  });

  it('refuses to change or cancel an invoiced milestone, naming it', async () => {
    const tenant = await t.tenant();
    const schedule = await softwareSchedule(tenant, '2002');
    const discovery = schedule.milestones[0];
    await tenant.post(`/milestones/${discovery.id}/acceptances`, {});
    await markInvoiced(tenant, discovery.id);
    const res = await tenant.post('/deals/2002/schedule/change-orders', {
      baseVersion: 1,
      reason: 'try to re-price',
      change: [{ id: discovery.id, amount: '1.00' }],
      cancel: [discovery.id],
    });
    expect(res.status).toBe(409);
    expect(res.body.code).toBe('milestone_locked');
    expect(res.body.errors.map((e: { path: string }) => e.path)).toEqual(['change[0]', 'cancel[0]']);
    expect(res.body.detail).toContain('"Discovery" is invoiced');
    expect((await tenant.get('/deals/2002/schedule')).body.version).toBe(1);
  });

  it('detects a concurrent edit instead of merging it', async () => {
    const tenant = await t.tenant();
    const schedule = await softwareSchedule(tenant, '2003');
    const edit = (name: string) =>
      tenant.post('/deals/2003/schedule/change-orders', {
        baseVersion: schedule.version,
        reason: `rename to ${name}`,
        change: [{ id: schedule.milestones[3].id, name }],
      });
    const results = await Promise.all([edit('Go-live'), edit('Release')]);
    expect(results.map((r) => r.status).sort()).toEqual([201, 409]);
    const conflict = results.find((r) => r.status === 409)!;
    expect(conflict.body.code).toBe('version_conflict');
    expect(conflict.body.detail).toContain('version 2');
    const stored = (await tenant.get('/deals/2003/schedule')).body;
    expect(stored.version).toBe(2);
    expect(['Go-live', 'Release']).toContain(stored.milestones[3].name);

    const stale = await edit('Third');
    expect(stale.status).toBe(409);
  });

  it('refuses to replace a schedule once a milestone is accepted', async () => {
    const tenant = await t.tenant();
    const schedule = await softwareSchedule(tenant, '2004');
    await tenant.post(`/milestones/${schedule.milestones[0].id}/acceptances`, {});
    const res = await tenant.put('/deals/2004/schedule', {
      baseVersion: 1,
      contractValue: { amount: '1000.00', currency: 'USD' },
      milestones: [milestone('All', { percent: '100' })],
    });
    expect(res.status).toBe(409);
    expect(res.body.code).toBe('schedule_locked');
  });
});

describe('acceptance and lifecycle', () => {
  it('accepts 60 % of a milestone and keeps the remainder open, exact to the cent', async () => {
    const tenant = await t.tenant();
    const res = await tenant.put('/deals/3001/schedule', {
      contractValue: { amount: '1000.01', currency: 'USD' },
      milestones: [milestone('Build', { percent: '100' }, { key: 'build' })],
    });
    const build = res.body.milestones[0];
    const partial = await tenant.post(`/milestones/${build.id}/acceptances`, {
      portion: { percent: '60' },
      acceptedBy: { name: 'Dana Client', email: 'dana@client.example' },
      evidence: [{ name: 'Sign-off.pdf', url: 'https://files.example/sign-off.pdf' }],
    });
    expect(partial.status).toBe(201);
    expect(partial.body.milestone).toMatchObject({
      id: build.id,
      status: 'accepted',
      amount: { amount: '600.01' },
    });
    expect(partial.body.remainder).toMatchObject({
      status: 'planned',
      key: 'build',
      amount: { amount: '400.00' },
    });

    const rest = await tenant.post(`/milestones/${partial.body.remainder.id}/acceptances`, {
      portion: { percent: '40' },
    });
    expect(rest.status).toBe(201);
    expect(rest.body.milestone.amount.amount).toBe('400.00');
    expect(rest.body.remainder).toBeNull();
    const schedule = (await tenant.get('/deals/3001/schedule')).body;
    expect(sum(schedule.milestones)).toBe(100_001);
    expect(schedule.totals.earnedNotInvoiced.amount).toBe('1000.01');

    const again = await tenant.post(`/milestones/${build.id}/acceptances`, { portion: { percent: '10' } });
    expect(again.status).toBe(409);
    expect(again.body.code).toBe('already_accepted');
  });

  it('refuses to accept more than remains', async () => {
    const tenant = await t.tenant();
    const schedule = await softwareSchedule(tenant, '3002');
    const design = schedule.milestones[1];
    await tenant.post(`/milestones/${design.id}/acceptances`, { portion: { amount: '20000.00' } });
    const res = await tenant.post(`/milestones/${design.id}/acceptances`, { portion: { amount: '5000.01' } });
    expect(res.status).toBe(422);
    expect(res.body.code).toBe('over_acceptance');
    expect(res.body.detail).toBe('USD 5,000.01 is more than the USD 5,000.00 that remains to be accepted');
  });

  it('treats a repeated Idempotency-Key as the same acceptance', async () => {
    const tenant = await t.tenant();
    const schedule = await softwareSchedule(tenant, '3003');
    const id = schedule.milestones[0].id;
    const send = () =>
      tenant.raw('post', `/milestones/${id}/acceptances`).set('Idempotency-Key', 'call-42').send({});
    const [first, second] = [await send(), await send()];
    expect(first.status).toBe(201);
    expect(second.status).toBe(200);
    expect(second.body).toMatchObject({ outcome: 'duplicate', acceptanceId: first.body.acceptanceId });
    const history = (await tenant.get(`/milestones/${id}/history`)).body.transitions;
    expect(history.filter((h: { event: string }) => h.event === 'accept')).toHaveLength(1);
  });

  it('refuses an illegal transition with a code and records every legal one', async () => {
    const tenant = await t.tenant();
    const schedule = await softwareSchedule(tenant, '3004');
    const id = schedule.milestones[2].id;
    const resolve = await tenant.post(`/milestones/${id}/resolve`, {});
    expect(resolve.status).toBe(409);
    expect(resolve.body).toMatchObject({ code: 'illegal_transition' });
    expect(resolve.body.detail).toBe('cannot resolve the dispute of a milestone that is planned');

    expect((await tenant.post(`/milestones/${id}/dispute`, { reason: 'staging is down' })).body.status).toBe(
      'disputed',
    );
    const blocked = await tenant.post(`/milestones/${id}/acceptances`, {});
    expect(blocked.status).toBe(409);
    expect(blocked.body.code).toBe('milestone_disputed');
    expect((await tenant.post(`/milestones/${id}/resolve`, { reason: 'fixed' })).body.status).toBe('planned');
    expect((await tenant.post(`/milestones/${id}/acceptances`, {})).status).toBe(201);
    const disputeAccepted = await tenant.post(`/milestones/${id}/dispute`, { reason: 'too late' });
    expect(disputeAccepted.status).toBe(409);
    expect(disputeAccepted.body.code).toBe('illegal_transition');

    const history = (await tenant.get(`/milestones/${id}/history`)).body.transitions;
    expect(history.map((h: { event: string; to: string }) => `${h.event}:${h.to}`)).toEqual([
      'plan:planned',
      'dispute:disputed',
      'resolve:planned',
      'accept:accepted',
    ]);
    expect(history[1]).toMatchObject({
      reason: 'staging is down',
      actor: expect.stringMatching(/^api_key:/),
    });
  });
});

describe('tenancy', () => {
  it("answers another tenant's schedule and milestones as not found", async () => {
    const owner = await t.tenant('Owner');
    const intruder = await t.tenant('Intruder');
    const schedule = await softwareSchedule(owner, '4001');
    const id = schedule.milestones[0].id;
    expect((await intruder.get('/deals/4001/schedule')).status).toBe(404);
    expect((await intruder.get(`/milestones/${id}`)).status).toBe(404);
    const accept = await intruder.post(`/milestones/${id}/acceptances`, {});
    expect(accept.status).toBe(404);
    expect((await owner.get(`/milestones/${id}`)).body.status).toBe('planned');
    // The same deal id is a separate schedule for each tenant.
    expect((await softwareSchedule(intruder, '4001', '50.00')).contractValue.amount).toBe('50.00');
    expect((await owner.get('/deals/4001/schedule')).body.contractValue.amount).toBe('100000.00');
  });

  it('refuses requests without a valid API key', async () => {
    const none = await t.http.get('/api/v1/templates');
    expect(none.status).toBe(401);
    const wrong = await t.http.get('/api/v1/templates').set('Authorization', 'Bearer mbk_nope');
    expect(wrong.status).toBe(401);
    expect(wrong.body.code).toBe('unauthorized');
  });
});

describe('templates', () => {
  it('lists the built-in templates and saves a tenant template that only that tenant sees', async () => {
    const tenant = await t.tenant();
    const list = (await tenant.get('/templates')).body.templates;
    expect(list.map((x: { key: string }) => x.key)).toEqual([
      'software',
      'construction',
      'consulting',
      'creative',
    ]);
    const construction = list.find((x: { key: string }) => x.key === 'construction');
    expect(construction.milestones.map((m: { percent: string }) => m.percent)).toEqual([
      '10',
      '15',
      '20',
      '20',
      '25',
      '10',
    ]);

    const saved = await tenant.post('/templates', {
      key: 'retainer-kickoff',
      name: 'Kickoff and delivery',
      milestones: [
        {
          name: 'Kickoff',
          deliverable: 'Plan',
          acceptanceCriteria: 'Plan approved',
          percent: 30,
          offsetDays: 0,
        },
        {
          name: 'Delivery',
          deliverable: 'Work',
          acceptanceCriteria: 'Work approved',
          percent: '70',
          offsetDays: 30,
        },
      ],
    });
    expect(saved.status).toBe(201);
    const applied = await tenant.post('/deals/5001/schedule/template', {
      template: 'retainer-kickoff',
      contractValue: { amount: '999', currency: 'JPY' },
      startDate: '2026-11-02',
    });
    expect(applied.body.milestones.map((m: { amount: { amount: string } }) => m.amount.amount)).toEqual([
      '300',
      '699',
    ]);
    const other = await t.tenant();
    expect((await other.get('/templates')).body.templates).toHaveLength(4);

    const bad = await tenant.post('/templates', {
      key: 'broken',
      name: 'Broken',
      milestones: [{ name: 'Only', deliverable: 'x', acceptanceCriteria: 'y', percent: 90, offsetDays: 0 }],
    });
    expect(bad.status).toBe(422);
    expect(bad.body.detail).toBe('template milestones total 90 %, not 100 %');
  });

  it('applies construction draws with retainage released by a final milestone', async () => {
    const tenant = await t.tenant();
    const res = await tenant.post('/deals/5002/schedule/template', {
      template: 'construction',
      contractValue: { amount: '250000.00', currency: 'USD' },
      retainagePercent: '10',
      startDate: '2026-11-02',
    });
    expect(res.status).toBe(201);
    const release = res.body.milestones.at(-1);
    expect(release).toMatchObject({ kind: 'retainage_release', amount: { amount: '25000.00' } });
    expect(res.body.totals.scheduled.amount).toBe('250000.00');
  });
});
