import type { Server } from 'node:http';
import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hubspotEvents } from '../../src/jobs/hubspot-events.ts';
import { acceptances, inbox, schedules } from '../../src/store/schema.ts';
import { type HubSpotSandbox, startHubSpotSandbox } from '../sandboxes/hubspot/index.ts';
import { startTestApp, type TestApp, type TestTenant } from '../support/app.ts';
import { eventually, freePort } from '../support/net.ts';
import { sample } from '../support/samples.ts';

let hs: HubSpotSandbox;
let t: TestApp;
let server: Server;
let targetUrl: string;

beforeAll(async () => {
  hs = await startHubSpotSandbox({ webhookRetryDelaysMs: [50, 100] });
  const port = await freePort();
  t = await startTestApp({
    PUBLIC_URL: `http://127.0.0.1:${port}`,
    HUBSPOT_CLIENT_ID: hs.clientId,
    HUBSPOT_CLIENT_SECRET: hs.clientSecret,
    HUBSPOT_API_BASE_URL: hs.url,
  });
  server = t.app.listen(port, '127.0.0.1');
  targetUrl = `http://127.0.0.1:${port}/webhooks/hubspot`;
  hs.configureWebhooks({ targetUrl });
  t.ctx.queues.process([hubspotEvents], t.ctx);
});
afterAll(async () => {
  server?.close();
  await t?.close();
  await hs?.close();
});

let deals = 0;
async function scheduleFor(tenant: TestTenant, stages: { kickoff?: string; launch?: string } = {}) {
  const dealId = String(700_000 + ++deals);
  const res = await tenant.put(`/deals/${dealId}/schedule`, {
    contractValue: { amount: '12000.00', currency: 'EUR' },
    milestones: [
      {
        name: 'Kickoff',
        deliverable: 'Plan',
        acceptanceCriteria: 'Plan signed',
        percent: '40',
        plannedDate: '2026-12-01',
        triggerStage: stages.kickoff ?? 'contractsent',
      },
      {
        name: 'Launch',
        deliverable: 'Go-live',
        acceptanceCriteria: 'Live',
        percent: '60',
        plannedDate: '2027-02-01',
        triggerStage: stages.launch ?? 'closedwon',
      },
    ],
  });
  expect(res.status).toBe(200);
  return { dealId, schedule: res.body };
}

async function newTenant() {
  const tenant = await t.tenant();
  hs.addPortal(Number(tenant.portalId));
  return tenant;
}

const rows = (tenant: TestTenant) =>
  t.database.db.select().from(inbox).where(eq(inbox.tenantId, tenant.tenant.id));
const settled = (tenant: TestTenant) =>
  eventually(
    () => rows(tenant),
    (r) => r.length > 0 && r.every((row) => row.status !== 'pending'),
  );
/** A body signed v3 as HubSpot signs it, posted to the app's webhook target. */
const postSigned = (body: string) =>
  fetch(targetUrl, {
    method: 'POST',
    headers: {
      ...hs.signedHeaders({ method: 'POST', url: targetUrl, body }),
      'content-type': 'application/json',
    },
    body,
  });
const acceptancesOf = (tenant: TestTenant) =>
  t.database.db.select().from(acceptances).where(eq(acceptances.tenantId, tenant.tenant.id));

describe('POST /webhooks/hubspot', () => {
  it('answers a signed batch of 100 events, processes it, and ignores the same batch delivered again', async () => {
    const tenant = await newTenant();
    const portal = Number(tenant.portalId);
    const made = await Promise.all(Array.from({ length: 50 }, () => scheduleFor(tenant)));
    const base = Date.now() - 60_000;
    const events = made.flatMap(({ dealId }, i) => [
      hs.dealPropertyChangeEvent(portal, dealId, 'dealstage', 'contractsent', { occurredAt: base + i }),
      hs.dealPropertyChangeEvent(portal, dealId, 'amount', i % 2 ? '12000' : '13000.5', {
        occurredAt: base + i + 1,
        generic: true,
      }),
    ]);
    expect(events).toHaveLength(100);

    const started = Date.now();
    const first = await hs.sendWebhookBatch(events);
    expect(first.attempts.map((a) => a.status)).toEqual([200]);
    expect(Date.now() - started).toBeLessThan(5000);
    await settled(tenant);
    expect(await acceptancesOf(tenant)).toHaveLength(50);
    const flagged = await t.database.db
      .select()
      .from(schedules)
      .where(eq(schedules.tenantId, tenant.tenant.id));
    expect(flagged.filter((s) => s.attention.includes('amount_mismatch'))).toHaveLength(25);
    const kickoff = (await tenant.get(`/deals/${made[0]!.dealId}/schedule`)).body.milestones[0];
    expect(kickoff.status).toBe('accepted');

    // The route queues a batch's new events before it answers, so a duplicate batch that queued
    // nothing leaves the queue's counts as they were.
    const queue = t.ctx.queues.queue(hubspotEvents);
    const idle = () =>
      eventually(
        () => queue.getJobCounts(),
        (c) => c.waiting + c.active + c.delayed === 0,
      );
    const before = await idle();
    const again = await hs.sendWebhookBatch(events);
    expect(again.attempts.map((a) => a.status)).toEqual([200]);
    expect(await idle()).toEqual(before);
    expect(await rows(tenant)).toHaveLength(100);
    expect(await acceptancesOf(tenant)).toHaveLength(50);
  }, 60_000);

  it('answers a wrong signature, a body altered by one byte and a 6-minute-old timestamp with 401, leaving no trace', async () => {
    const tenant = await newTenant();
    const { dealId } = await scheduleFor(tenant);
    const events = [hs.dealPropertyChangeEvent(Number(tenant.portalId), dealId, 'dealstage', 'closedwon')];
    const jobsBefore = await t.ctx.queues.queue(hubspotEvents).getJobCounts();

    const stale = await hs.sendWebhookBatch(events, { timestamp: Date.now() - 6 * 60_000, retry: false });
    expect(stale.attempts.map((a) => a.status)).toEqual([401]);

    const body = JSON.stringify(events);
    const headers = hs.signedHeaders({ method: 'POST', url: targetUrl, body });
    const post = (payload: string, h: Record<string, string>) =>
      fetch(targetUrl, {
        method: 'POST',
        headers: { ...h, 'content-type': 'application/json' },
        body: payload,
      });
    const altered = await post(body.replace('closedwon', 'closedwoN'), headers);
    expect(altered.status).toBe(401);
    expect(((await altered.json()) as { detail: string }).detail).toContain('does not match');
    const forged = await post(body, {
      ...headers,
      'X-HubSpot-Signature-v3': Buffer.from('x'.repeat(32)).toString('base64'),
    });
    expect(forged.status).toBe(401);
    const unsigned = await post(body, {});
    expect(unsigned.status).toBe(401);

    expect(await rows(tenant)).toHaveLength(0);
    expect(await t.ctx.queues.queue(hubspotEvents).getJobCounts()).toEqual(jobsBefore);
    expect(await acceptancesOf(tenant)).toHaveLength(0);
  });

  it('accepts a milestone exactly once when its stage event comes three times, out of order with others', async () => {
    const tenant = await newTenant();
    const portal = Number(tenant.portalId);
    const { dealId, schedule } = await scheduleFor(tenant);
    const other = await scheduleFor(tenant);
    const now = Date.now();
    const won = hs.dealPropertyChangeEvent(portal, dealId, 'dealstage', 'closedwon', {
      occurredAt: now - 2000,
    });
    const amount = hs.dealPropertyChangeEvent(portal, dealId, 'amount', '12000', { occurredAt: now - 1000 });
    const earlier = hs.dealPropertyChangeEvent(portal, other.dealId, 'dealstage', 'contractsent', {
      occurredAt: now - 3000,
    });
    await Promise.all([
      hs.sendWebhookBatch([amount, won]),
      hs.sendWebhookBatch([earlier, { ...won, attemptNumber: 1 }]),
      hs.sendWebhookBatch([won]),
    ]);
    // HubSpot also reports the stage again later, as a new event: still the same acceptance.
    await hs.sendWebhookBatch([
      hs.dealPropertyChangeEvent(portal, dealId, 'dealstage', 'closedwon', { occurredAt: now }),
    ]);
    await settled(tenant);
    const launch = schedule.milestones[1];
    const accepted = (await acceptancesOf(tenant)).filter((a) => a.milestoneId === launch.id);
    expect(accepted).toHaveLength(1);
    expect(accepted[0]).toMatchObject({ source: 'hubspot', amount: 720_000 });
    const history = (await tenant.get(`/milestones/${launch.id}/history`)).body.transitions;
    expect(history.filter((h: { event: string }) => h.event === 'accept')).toHaveLength(1);
    expect((await acceptancesOf(tenant)).filter((a) => a.milestoneId !== launch.id)).toHaveLength(1);
  });

  it('ignores imports, keeps the newest amount, freezes deleted deals and keeps malformed payloads', async () => {
    const tenant = await newTenant();
    const portal = Number(tenant.portalId);
    const imported = await scheduleFor(tenant);
    const priced = await scheduleFor(tenant);
    const deleted = await scheduleFor(tenant);
    const now = Date.now();
    await hs.sendWebhookBatch([
      hs.dealPropertyChangeEvent(portal, imported.dealId, 'dealstage', 'closedwon', {
        changeSource: 'IMPORT',
      }),
      hs.dealPropertyChangeEvent(portal, priced.dealId, 'amount', '15000', { occurredAt: now - 1000 }),
      hs.dealDeletionEvent(portal, deleted.dealId),
    ]);
    await settled(tenant);
    // An older amount change delivered late loses to the newer one already applied.
    await hs.sendWebhookBatch([
      hs.dealPropertyChangeEvent(portal, priced.dealId, 'amount', '12000.00', { occurredAt: now - 5000 }),
    ]);
    await eventually(
      () => rows(tenant),
      (r) => r.length === 4 && r.every((row) => row.status !== 'pending'),
    );
    expect(await acceptancesOf(tenant)).toHaveLength(0);
    const outcomes = (await rows(tenant)).map((r) => r.outcome);
    expect(outcomes).toContain('ignored: import');
    expect(outcomes).toContain('ignored: a newer amount is known');
    const [pricedRow] = await t.database.db
      .select()
      .from(schedules)
      .where(and(eq(schedules.tenantId, tenant.tenant.id), eq(schedules.dealId, priced.dealId)));
    expect(pricedRow).toMatchObject({ dealAmount: 1_500_000, attention: ['amount_mismatch'] });
    const frozen = await tenant.post(`/deals/${deleted.dealId}/schedule/change-orders`, {
      baseVersion: 1,
      reason: 'too late',
      cancel: [deleted.schedule.milestones[0].id],
    });
    expect(frozen.status).toBe(409);
    expect(frozen.body.code).toBe('schedule_frozen');

    const malformed = '[{"eventId": "x", "portalId": 1}]';
    const res = await postSigned(malformed);
    expect(res.status).toBe(200);
    const [kept] = await t.database.db
      .select()
      .from(inbox)
      .where(
        eq(
          inbox.dedupeKey,
          `malformed:${(await import('node:crypto'))
            .createHash('sha256')
            .update(JSON.stringify(JSON.parse(malformed)[0]))
            .digest('hex')}`,
        ),
      );
    expect(kept).toMatchObject({ status: 'ignored' });
    expect(kept!.outcome).toMatch(/^malformed: /);
  });

  it("records the deal's owner and pipeline for the portfolio's filters, the later report winning, even from an import", async () => {
    const tenant = await newTenant();
    const portal = Number(tenant.portalId);
    const deal = await scheduleFor(tenant);
    const now = Date.now();
    await hs.sendWebhookBatch([
      hs.dealPropertyChangeEvent(portal, deal.dealId, 'hubspot_owner_id', '7001', { occurredAt: now - 1000 }),
      hs.dealPropertyChangeEvent(portal, deal.dealId, 'pipeline', 'enterprise', {
        occurredAt: now - 1000,
        changeSource: 'IMPORT',
      }),
    ]);
    await settled(tenant);
    await hs.sendWebhookBatch([
      hs.dealPropertyChangeEvent(portal, deal.dealId, 'hubspot_owner_id', '7000', { occurredAt: now - 5000 }),
    ]);
    await eventually(
      () => rows(tenant),
      (r) => r.length === 3 && r.every((row) => row.status !== 'pending'),
    );
    expect((await rows(tenant)).map((r) => r.outcome).sort()).toEqual([
      'ignored: no schedule or a newer report',
      'owner recorded',
      'pipeline recorded',
    ]);
    const [row] = await t.database.db
      .select()
      .from(schedules)
      .where(and(eq(schedules.tenantId, tenant.tenant.id), eq(schedules.dealId, deal.dealId)));
    expect(row).toMatchObject({ ownerId: '7001', pipelineId: 'enterprise' });
    const filtered = await tenant.get('/portfolio?ownerId=7001&pipelineId=enterprise');
    expect(filtered.body.byStatus.reduce((n: number, r: { count: number }) => n + r.count, 0)).toBe(2);
  });

  it('refuses a signature dated in the future, and a body that differs from the signed one only in invalid UTF-8 bytes', async () => {
    const tenant = await newTenant();
    const portal = Number(tenant.portalId);
    const { dealId } = await scheduleFor(tenant);
    const body = JSON.stringify([hs.dealPropertyChangeEvent(portal, dealId, 'dealstage', 'contractsent')]);
    const post = (bytes: string | Buffer, headers: Record<string, string>) =>
      fetch(targetUrl, {
        method: 'POST',
        headers: { ...headers, 'content-type': 'application/json' },
        body: bytes,
      });

    const ahead = hs.signedHeaders({
      method: 'POST',
      url: targetUrl,
      body,
      timestamp: Date.now() + 10 * 60_000,
    });
    const future = await post(body, ahead);
    expect(future.status).toBe(401);
    expect(((await future.json()) as { detail: string }).detail).toContain('in the future');

    // Two bodies alike as text (each invalid byte decodes to U+FFFD) but not as bytes.
    const signed = Buffer.concat([
      Buffer.from(body.slice(0, -1)),
      Buffer.from([0x20, 0xff]),
      Buffer.from(']'),
    ]);
    const sent = Buffer.concat([Buffer.from(body.slice(0, -1)), Buffer.from([0x20, 0xfe]), Buffer.from(']')]);
    expect(sent.toString('utf8')).toBe(signed.toString('utf8'));
    const swapped = await post(sent, hs.signedHeaders({ method: 'POST', url: targetUrl, body: signed }));
    expect(swapped.status).toBe(401);
    const honest = await post(signed, hs.signedHeaders({ method: 'POST', url: targetUrl, body: signed }));
    expect(honest.status).toBe(200);
  });

  it('stores and processes the rest of a batch when the database refuses one of its events', async () => {
    const tenant = await newTenant();
    const portal = Number(tenant.portalId);
    const [a, b] = await Promise.all([scheduleFor(tenant), scheduleFor(tenant)]);
    const now = Date.now();
    // Postgres refuses a NUL character in jsonb: that event can be parsed but not stored.
    const refused = hs.dealPropertyChangeEvent(portal, a.dealId, 'amount', '1\u0000', { occurredAt: now });
    const body = JSON.stringify([
      hs.dealPropertyChangeEvent(portal, a.dealId, 'dealstage', 'contractsent', { occurredAt: now }),
      refused,
      hs.dealPropertyChangeEvent(portal, b.dealId, 'dealstage', 'contractsent', { occurredAt: now }),
    ]);
    const res = await postSigned(body);
    expect(res.status, await res.clone().text()).toBe(200);
    expect(await res.json()).toEqual({ received: 3, new: 2 });
    const settledRows = await eventually(
      () => rows(tenant),
      (r) => r.filter((row) => row.status === 'processed').length === 2,
    );
    expect(await acceptancesOf(tenant)).toHaveLength(2);
    // The refused event is kept, as sent, for inspection.
    const kept = settledRows.filter((r) => r.dedupeKey.startsWith('unstorable:'));
    expect(kept.map((k) => k.status)).toEqual(['ignored']);
    const sent = kept.map((k) =>
      JSON.parse(Buffer.from((k.payload as { base64: string }).base64, 'base64').toString()),
    );
    expect(sent).toContainEqual(refused);
  });

  // object.* events are what the app's subscriptions (plugin-manifest) deliver; deal.* ones are
  // what older subscriptions send, and are read alike.
  it.each(['mixed-batch.json', 'legacy-batch.json'])(
    'processes the documented sample batch %s',
    async (file) => {
      const tenant = await newTenant();
      const { dealId } = await scheduleFor(tenant);
      const batch = sample<Record<string, unknown>[]>(`hubspot/samples/${file}`, {
        portalId: Number(tenant.portalId),
        objectId: Number(dealId),
        occurredAt: Date.now(),
      });
      const body = JSON.stringify(batch);
      const res = await postSigned(body);
      expect(await res.json()).toEqual({ received: 4, new: 4 });
      await settled(tenant);
      const outcomes = (await rows(tenant)).map((r) => r.outcome).sort();
      expect(outcomes).toEqual(
        [
          'flagged: deal amount differs from the contract value',
          'ignored: import',
          'launch accepted',
          'schedule frozen',
        ].sort(),
      );
    },
  );
});
