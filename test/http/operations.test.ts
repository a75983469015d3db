import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/app.ts';

const TOKEN = 'operator-token-0123456789abcdef';
let open: TestApp;
let guarded: TestApp;
beforeAll(async () => {
  [open, guarded] = await Promise.all([startTestApp(), startTestApp({ ADMIN_TOKEN: TOKEN })]);
});
afterAll(async () => {
  await Promise.all([open?.close(), guarded?.close()]);
});

/** One sample's value from Prometheus' text format. */
const sample = (text: string, name: string, labels: string) =>
  Number(
    text
      .split('\n')
      .find((l) => l.startsWith(`${name}{${labels}}`))
      ?.split(' ')[1] ?? 0,
  );

describe('operations', () => {
  it('counts refused webhooks and reports queue depth in Prometheus format', async () => {
    const before = (await open.http.get('/metrics')).text;
    const forged = await open.http
      .post('/webhooks/acceptance')
      .set('Content-Type', 'application/json')
      .set('X-Acceptance-Signature', 'sha256=00')
      .send('{"id":"x"}');
    expect(forged.status).toBe(401);
    const res = await open.http.get('/metrics');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toContain('text/plain');
    const rejected = 'source="acceptance",reason="invalid_signature"';
    expect(sample(res.text, 'mb_webhooks_rejected_total', rejected)).toBe(
      sample(before, 'mb_webhooks_rejected_total', rejected) + 1,
    );
    expect(res.text).toMatch(/^mb_queue_jobs\{queue="invoice-push",state="waiting"\} \d+$/m);
    for (const name of ['mb_platform_calls_total', 'mb_push_latency_seconds', 'mb_failures_total'])
      expect(res.text).toContain(`# TYPE ${name}`);
  });

  it('opens the queue dashboard and, once ADMIN_TOKEN is set, the metrics only to the operator token', async () => {
    expect((await open.http.get('/admin/queues')).status).toBe(401);
    const refused = await guarded.http.get('/metrics');
    expect(refused.status).toBe(401);
    expect(
      (await guarded.http.get('/metrics').set('Authorization', 'Bearer wrong-token-0123456789abcd')).status,
    ).toBe(401);
    expect((await guarded.http.get('/metrics').set('Authorization', `Bearer ${TOKEN}`)).status).toBe(200);

    const anonymous = await guarded.http.get('/admin/queues').set('Accept', 'text/html');
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers['www-authenticate']).toContain('Basic');
    expect(anonymous.text).not.toContain(TOKEN);
    const basic = `Basic ${Buffer.from(`ops:${TOKEN}`).toString('base64')}`;
    const board = await guarded.http.get('/admin/queues').set('Authorization', basic);
    expect(board.status).toBe(200);
    expect(board.text).toContain('<div id="root">');
    const api = await guarded.http.get('/admin/queues/api/queues').set('Authorization', basic);
    expect(api.status).toBe(200);
    expect(api.body.queues.map((q: { name: string }) => q.name)).toContain('invoice-push');
  });
});
