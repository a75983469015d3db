import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HubSpotWebhookEvent } from '../sandboxes/hubspot/types.ts';
import { eventually } from '../support/net.ts';
import { QBO_VERIFIER } from '../support/sandbox-env.ts';
import { matrix } from './support/matrix.ts';
import { acceptanceId, type FaultTenant, type Portion, type Stack, startStack } from './support/stack.ts';
import { payInvoices, paymentsReflected, settled, tally } from './support/tally.ts';

// (a) Duplicate and reordered webhooks: every delivery comes more than once, out of order, at once.
const m = matrix('webhooks');
let s: Stack;
beforeAll(async () => {
  s = await startStack({ listen: true });
  s.quickbooksWebhooks('cloudevents');
  s.hs.configureWebhooks({ targetUrl: `${s.t.ctx.config.publicUrl}/webhooks/hubspot` });
});
afterAll(() => s?.close());

/** Fisher–Yates with Math.random: every run sees another order. */
function shuffled<T>(list: T[]): T[] {
  const out = [...list];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

/**
 * Payments through QuickBooks' webhooks; then every webhook QuickBooks sent is delivered again,
 * newest first, and the milestones must still show exactly what QuickBooks shows.
 */
async function payTwiceReported(tenant: FaultTenant, portions: Portion[]) {
  const before = s.qbo.webhookDeliveries.length;
  payInvoices(s, tenant, portions);
  await paymentsReflected(s, tenant);
  await s.qbo.webhooksIdle();
  const url = `${s.t.ctx.config.publicUrl}/webhooks/quickbooks`;
  const sent = s.qbo.webhookDeliveries.slice(before).filter((d) => d.status === 200);
  const again = await Promise.all(
    [...sent].reverse().map((d) =>
      s.qbo.deliverWebhook(JSON.parse(d.body), {
        url,
        verifierToken: QBO_VERIFIER,
        contentType: 'application/cloudevents+json',
      }),
    ),
  );
  expect(again.map((a) => a.status).every((st) => st === 200)).toBe(true);
  // Let the redelivered events be processed before counting.
  await new Promise((r) => setTimeout(r, 1500));
  await paymentsReflected(s, tenant);
  return sent.length;
}

describe('(a) duplicate and reordered webhooks', () => {
  it('acceptance webhooks, each delivered three times (again, and re-signed later), shuffled and concurrent', async () => {
    const started = Date.now();
    const tenant = await s.tenant();
    const portions = await tenant.portions(8);
    const deliveries = portions.flatMap((p) => {
      const body = {
        id: acceptanceId(p),
        dealId: p.dealId,
        milestone: { id: p.milestoneId },
        acceptedAt: new Date().toISOString(),
      };
      const first = tenant.signed(body);
      // The sender's retry a moment later signs the same event with a newer timestamp.
      const resigned = tenant.signed(body);
      return [first, first, resigned];
    });
    const answers = await Promise.all(shuffled(deliveries).map((d) => tenant.postAcceptance(d)));
    expect(answers.map((a) => a.status).filter((st) => st < 200 || st >= 300)).toEqual([]);
    await settled(tenant, portions.length);
    const redelivered = await payTwiceReported(tenant, portions);
    const t = await tally(s, tenant, portions, { notes: true });
    m.row('a1', 'acceptance webhooks ×3, shuffled, concurrent (+ QuickBooks payment webhooks ×2, reversed)', deliveries.length - portions.length + redelivered, t, started);
  }, 90_000);

  it('HubSpot stage-change batches, each event in two batches, the batches sent twice in shuffled order', async () => {
    const started = Date.now();
    const tenant = await s.tenant();
    const stages = ['decisionmakerboughtin', 'contractsent', 'closedwon', 'presentationscheduled'];
    const deals = s.hs
      .listDeals(tenant.portal)
      .filter((d) => d.properties.deal_currency_code === 'USD')
      .slice(0, 2);
    const portions: Portion[] = [];
    for (const deal of deals) {
      const res = await tenant.put(`/deals/${deal.id}/schedule`, {
        paymentTerms: 'net_30',
        milestones: stages.map((stage, i) => ({
          name: `Stage ${i + 1}`,
          deliverable: `Deliverable ${i + 1}`,
          acceptanceCriteria: `Deal reaches ${stage}`,
          percent: '25',
          plannedDate: `2026-12-0${i + 1}`,
          triggerStage: stage,
        })),
      });
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      for (const ms of res.body.milestones as { id: string; key: string }[])
        portions.push({ dealId: deal.id, milestoneId: ms.id, key: ms.key });
    }
    // The deals move through the stages; HubSpot reports each move, with noise in between.
    const base = Date.now() - 60_000;
    const events: HubSpotWebhookEvent[] = deals.flatMap((deal, d) =>
      stages.flatMap((stage, i) => [
        s.hs.dealPropertyChangeEvent(tenant.portal, deal.id, 'dealstage', stage, {
          occurredAt: base + d * 100 + i * 10,
        }),
        s.hs.dealPropertyChangeEvent(tenant.portal, deal.id, 'amount', deal.properties.amount ?? '0', {
          occurredAt: base + d * 100 + i * 10 + 1,
        }),
      ]),
    );
    const half = Math.ceil(events.length / 2);
    const mixed = shuffled(events);
    // Two overlapping batches (every stage event is in at least one, some in both), each sent
    // twice, retries marked as HubSpot marks them, all in shuffled order and concurrently.
    const batches = [mixed.slice(0, half + 3), mixed.slice(half - 3)].flatMap((batch) => [
      shuffled(batch),
      shuffled(batch.map((e) => ({ ...e, attemptNumber: 1 }))),
    ]);
    const sent = await Promise.all(shuffled(batches).map((batch) => s.hs.sendWebhookBatch(batch)));
    expect(sent.map((r) => r.attempts.at(-1)?.status)).toEqual(batches.map(() => 200));
    await settled(tenant, portions.length);
    const redelivered = await payTwiceReported(tenant, portions);
    // Each stage event arrived 2–4 times.
    const deliveredEvents = batches.reduce((n, batch) => n + batch.length, 0);
    await eventually(tenant.pushes, (rows) => rows.length === portions.length);
    const t = await tally(s, tenant, portions, { notes: true });
    m.row('a2', 'HubSpot stage-change batches ×2, overlapping, shuffled (+ payment webhooks ×2)', deliveredEvents - events.length + redelivered, t, started);
  }, 90_000);
});
