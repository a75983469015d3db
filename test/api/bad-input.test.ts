import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp, type TestTenant } from '../support/app.ts';

let t: TestApp;
let tenant: TestTenant;
beforeAll(async () => {
  t = await startTestApp();
  tenant = await t.tenant();
});
afterAll(() => t.close());

const valid = () => ({
  contractValue: { amount: '5000.00', currency: 'USD' },
  milestones: [
    {
      name: 'Design',
      deliverable: 'Designs',
      acceptanceCriteria: 'Approved',
      amount: '5000.00',
      plannedDate: '2026-12-01',
    },
  ],
});

/** Each bad request: a 4xx problem that names the problem, and nothing stored. */
async function expectProblem(
  res: { status: number; headers: Record<string, string>; body: Record<string, unknown> },
  status: number,
  code: string,
  mentions: { path?: string; detail: string },
) {
  expect(res.status).toBe(status);
  expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
  expect(res.body.code).toBe(code);
  expect(res.body.detail).toContain(mentions.detail);
  if (mentions.path) {
    expect((res.body.errors as { path: string }[]).map((e) => e.path)).toContain(mentions.path);
  }
  expect((await tenant.get('/deals/777/schedule')).status).toBe(404);
}

describe('bad input', () => {
  it('a NUL character in a milestone name', async () => {
    const body = valid();
    body.milestones[0]!.name = 'Design\u0000';
    const res = await tenant.put('/deals/777/schedule', body);
    await expectProblem(res, 422, 'invalid_request', {
      path: 'milestones[0].name',
      detail: 'control character',
    });
  });

  it('a NUL character in a path id or a query', async () => {
    const path = await tenant.get('/milestones/ms_a%00b');
    await expectProblem(path, 422, 'invalid_request', { path: 'path', detail: 'control character' });
    const query = await tenant.get('/deals/777/schedule?view=%00');
    await expectProblem(query, 422, 'invalid_request', { path: 'query.view', detail: 'control character' });
  });

  it('a NUL character in an acceptance note', async () => {
    const created = await tenant.put('/deals/778/schedule', valid());
    expect(created.status).toBe(200);
    const id = created.body.milestones[0].id;
    const res = await tenant.post(`/milestones/${id}/acceptances`, { note: 'ok\u0000' });
    expect(res.status).toBe(422);
    expect(res.body.errors[0]).toMatchObject({ path: 'note', code: 'control_character' });
    expect((await tenant.get(`/milestones/${id}`)).body.status).toBe('planned');
  });

  it('a schedule grown past the cap by change orders', async () => {
    const milestone = (i: number) => ({
      name: `Step ${i}`,
      deliverable: 'Work',
      acceptanceCriteria: 'Approved',
      amount: '10.00',
      plannedDate: '2026-12-01',
    });
    const created = await tenant.put('/deals/779/schedule', {
      contractValue: { amount: '100000.00', currency: 'USD' },
      milestones: Array.from({ length: 60 }, (_, i) => milestone(i)),
    });
    expect(created.status).toBe(200);
    const first = await tenant.post('/deals/779/schedule/change-orders', {
      baseVersion: created.body.version,
      reason: 'more steps',
      add: Array.from({ length: 40 }, (_, i) => milestone(60 + i)),
    });
    expect(first.status).toBe(201);
    const past = await tenant.post('/deals/779/schedule/change-orders', {
      baseVersion: first.body.version,
      reason: 'one more',
      add: [milestone(100)],
    });
    expect(past.status).toBe(422);
    expect(past.body.errors).toContainEqual(
      expect.objectContaining({
        path: 'milestones',
        code: 'too_many',
        message: expect.stringContaining('at most 100'),
      }),
    );
    expect((await tenant.get('/deals/779/schedule')).body.milestones).toHaveLength(100);
  });

  it('evidence that is not an http(s) link, and an Idempotency-Key reused for another milestone', async () => {
    const created = await tenant.put('/deals/780/schedule', {
      contractValue: { amount: '100.00', currency: 'USD' },
      milestones: ['One', 'Two'].map((name) => ({
        name,
        deliverable: 'Work',
        acceptanceCriteria: 'Approved',
        amount: '50.00',
        plannedDate: '2026-12-01',
      })),
    });
    const [one, two] = created.body.milestones.map((m: { id: string }) => m.id);
    const script = await tenant.post(`/milestones/${one}/acceptances`, {
      evidence: [{ name: 'Sign-off', url: 'javascript:alert(1)' }],
    });
    expect(script.status).toBe(422);
    expect(script.body.errors[0]).toMatchObject({ path: 'evidence[0].url' });
    expect(script.body.detail).toContain('http(s) URL');

    const first = await tenant
      .raw('post', `/milestones/${one}/acceptances`)
      .set('Idempotency-Key', 'key-1')
      .send({});
    expect(first.status).toBe(201);
    const again = await tenant
      .raw('post', `/milestones/${one}/acceptances`)
      .set('Idempotency-Key', 'key-1')
      .send({});
    expect(again.status).toBe(200);
    expect(again.body.outcome).toBe('duplicate');
    const reused = await tenant
      .raw('post', `/milestones/${two}/acceptances`)
      .set('Idempotency-Key', 'key-1')
      .send({});
    expect(reused.status).toBe(409);
    expect(reused.body).toMatchObject({ code: 'idempotency_key_reused' });
    expect(reused.body.detail).toContain('Idempotency-Key "key-1" was already used to accept "One"');
    expect((await tenant.get(`/milestones/${two}`)).body.status).toBe('planned');
  });

  it('malformed JSON', async () => {
    const res = await tenant
      .raw('put', '/deals/777/schedule')
      .set('Content-Type', 'application/json')
      .send('{"contractValue": {"amount": "5000.00",');
    await expectProblem(res, 400, 'malformed_json', { detail: 'the request body is not valid JSON' });
  });

  it('a body that is not JSON at all', async () => {
    const res = await tenant
      .raw('put', '/deals/777/schedule')
      .set('Content-Type', 'text/plain')
      .send('hello');
    await expectProblem(res, 415, 'unsupported_media_type', { detail: 'Content-Type: application/json' });
  });

  it('a wrong type', async () => {
    const body = valid();
    (body.milestones[0] as Record<string, unknown>).name = 42;
    const res = await tenant.put('/deals/777/schedule', body);
    await expectProblem(res, 422, 'invalid_request', {
      path: 'milestones[0].name',
      detail: 'milestones[0].name: Invalid input: expected string, received number',
    });
  });

  it('an unknown field', async () => {
    const res = await tenant.put('/deals/777/schedule', { ...valid(), discount: '10%' });
    await expectProblem(res, 422, 'invalid_request', {
      path: 'discount',
      detail: 'discount is not a known field',
    });
  });

  it('an unknown field inside a milestone', async () => {
    const body = valid();
    (body.milestones[0] as Record<string, unknown>).colour = 'red';
    const res = await tenant.put('/deals/777/schedule', body);
    await expectProblem(res, 422, 'invalid_request', {
      path: 'milestones[0].colour',
      detail: 'milestones[0].colour is not a known field',
    });
  });

  it('a negative amount', async () => {
    const body = valid();
    body.milestones[0]!.amount = '-150.00';
    const res = await tenant.put('/deals/777/schedule', body);
    await expectProblem(res, 422, 'invalid_request', {
      path: 'milestones[0].amount',
      detail: 'milestones[0].amount: must not be negative',
    });
  });

  it('an unknown currency', async () => {
    const res = await tenant.put('/deals/777/schedule', {
      ...valid(),
      contractValue: { amount: '5000.00', currency: 'XYZ' },
    });
    await expectProblem(res, 422, 'invalid_request', {
      path: 'contractValue.currency',
      detail: '"XYZ" is not an ISO 4217 currency code',
    });
  });

  it('more decimals than the currency has', async () => {
    const res = await tenant.put('/deals/777/schedule', {
      ...valid(),
      contractValue: { amount: '5000.5', currency: 'JPY' },
    });
    await expectProblem(res, 422, 'invalid_request', {
      path: 'contractValue.amount',
      detail: 'contractValue.amount: "5000.5" has 1 decimal places but JPY has 0',
    });
  });

  it('a date that does not exist', async () => {
    const body = valid();
    body.milestones[0]!.plannedDate = '2026-02-30';
    const res = await tenant.put('/deals/777/schedule', body);
    await expectProblem(res, 422, 'invalid_request', {
      path: 'milestones[0].plannedDate',
      detail: '"2026-02-30" is not a calendar date (YYYY-MM-DD)',
    });
  });

  it('lists every problem at once', async () => {
    const body = valid();
    body.milestones[0]!.plannedDate = '2026-13-01';
    const res = await tenant.put('/deals/777/schedule', {
      ...body,
      contractValue: { amount: 'lots', currency: 'usd' },
    });
    await expectProblem(res, 422, 'invalid_request', { detail: 'contractValue.amount' });
    expect((res.body.errors as { path: string }[]).map((e) => e.path).sort()).toEqual([
      'contractValue.amount',
      'contractValue.currency',
      'milestones[0].plannedDate',
    ]);
  });

  it('an amount and a percentage on one milestone', async () => {
    const body = valid();
    (body.milestones[0] as Record<string, unknown>).percent = '50';
    const res = await tenant.put('/deals/777/schedule', body);
    await expectProblem(res, 422, 'invalid_request', {
      path: 'milestones[0].amount',
      detail: 'give exactly one of amount or percent',
    });
  });

  it('an unknown template and an unknown route', async () => {
    const res = await tenant.post('/deals/777/schedule/template', {
      template: 'nope',
      contractValue: { amount: '1.00', currency: 'USD' },
    });
    await expectProblem(res, 404, 'not_found', { detail: 'no template "nope"' });
    const route = await tenant.get('/deals/777/nothing');
    expect(route.status).toBe(404);
    expect(route.body.code).toBe('not_found');
  });
});
