import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseQboChange, qboItems } from '../../src/quickbooks/index.ts';
import { inbox, invoicePushes, milestones, transitions } from '../../src/store/schema.ts';
import { type Billing, startBilling } from '../support/billing.ts';
import { eventually } from '../support/net.ts';
import { QBO_VERIFIER } from '../support/sandbox-env.ts';

let b: Billing;
beforeAll(async () => {
  b = await startBilling({ listen: true });
  b.quickbooksWebhooks('cloudevents');
});
afterAll(() => b?.close());

/** A deal on the software template whose first milestone (USD 25,000.00) is invoiced in QuickBooks. */
async function invoicedMilestone() {
  const tenant = await b.connectedTenant();
  const deal = tenant.dealNamed('Acme Widgets – Factory Expansion');
  const made = await tenant.post(`/deals/${deal.id}/schedule/template`, {
    template: 'software',
    startDate: '2026-12-01',
  });
  expect(made.status).toBe(201);
  await tenant.accept({ id: `pay-${tenant.portal}`, dealId: deal.id, milestone: { key: 'discovery' } });
  const [row] = await tenant.settled(1, { writtenBack: true });
  const push = row!.push;
  expect(push.status).toBe('created');
  return { tenant, deal, push, invoiceId: push.qboInvoiceId! };
}

const db = () => b.t.database.db;
const stateOf = async (pushId: string) => {
  const [row] = await db()
    .select({ push: invoicePushes, milestone: milestones })
    .from(invoicePushes)
    .innerJoin(milestones, eq(milestones.id, invoicePushes.milestoneId))
    .where(eq(invoicePushes.id, pushId));
  return row!;
};
const until = (pushId: string, done: (s: Awaited<ReturnType<typeof stateOf>>) => boolean) =>
  eventually(() => stateOf(pushId), done, 20_000);
const dealProperty = (portal: number, dealId: string, name: string) =>
  b.hs.getDeal(portal, dealId)?.properties[name];

describe('payments recorded in QuickBooks', () => {
  it('a partial payment, then the rest, then the second deleted: partially paid, paid, back — exact to the cent', async () => {
    const { tenant, deal, push, invoiceId } = await invoicedMilestone();
    b.qbo.recordPayment(tenant.realmId, invoiceId, 10_000.01);
    let s = await until(push.id, (x) => x.milestone.status === 'partially_paid');
    expect(s.push.paidAmount).toBe(1_000_001);
    expect(s.push.qboBalance).toBe(1_499_999);

    const rest = b.qbo.recordPayment(tenant.realmId, invoiceId, 14_999.99);
    s = await until(push.id, (x) => x.milestone.status === 'paid');
    expect(s.push.paidAmount).toBe(2_500_000);
    await eventually(
      async () => dealProperty(tenant.portal, deal.id, 'mb_paid_to_date'),
      (v) => v === '25000.00',
    );
    expect(dealProperty(tenant.portal, deal.id, 'mb_outstanding')).toBe('0.00');

    b.qbo.deletePayment(tenant.realmId, rest.Id);
    s = await until(push.id, (x) => x.milestone.status === 'partially_paid');
    expect(s.push.paidAmount).toBe(1_000_001);
    await eventually(
      async () => dealProperty(tenant.portal, deal.id, 'mb_outstanding'),
      (v) => v === '14999.99',
    );
    // Each change is on record with the QuickBooks event that caused it.
    const history = await db()
      .select()
      .from(transitions)
      .where(eq(transitions.milestoneId, push.milestoneId))
      .orderBy(transitions.id);
    expect(history.slice(-3).map((h) => `${h.fromStatus}→${h.toStatus}`)).toEqual([
      'invoiced→partially_paid',
      'partially_paid→paid',
      'paid→partially_paid',
    ]);
    expect(history.at(-1)!.actor).toMatch(/^quickbooks:ce:/);
    // A note on the deal for each change of money, sent with the roll-ups.
    const notes = await eventually(
      async () =>
        b.hs.notesFor(tenant.portal, deal.id).filter((n) => n.body?.includes('Payment in QuickBooks')),
      (n) => n.length === 3,
    );
    expect(notes.map((n) => n.body)).toEqual(
      expect.arrayContaining([
        expect.stringContaining('USD 10,000.01 of USD 25,000.00 received on invoice MB-'),
      ]),
    );
  }, 60_000);

  it('a voided payment reverses the paid status', async () => {
    const { tenant, push, invoiceId } = await invoicedMilestone();
    const payment = b.qbo.recordPayment(tenant.realmId, invoiceId, 25_000);
    await until(push.id, (x) => x.milestone.status === 'paid');
    b.qbo.voidPayment(tenant.realmId, payment.Id);
    const s = await until(push.id, (x) => x.milestone.status === 'invoiced');
    expect(s.push.paidAmount).toBe(0);
  }, 60_000);

  it('an invoice voided in QuickBooks sends the milestone back to accepted, flagged, and no new invoice is made', async () => {
    const { tenant, push, invoiceId } = await invoicedMilestone();
    b.qbo.voidInvoice(tenant.realmId, invoiceId);
    const s = await until(push.id, (x) => x.milestone.status === 'accepted');
    expect(s.milestone.needsAttention).toBe(true);
    expect(s.milestone.attentionReason).toContain('voided in QuickBooks');
    expect(s.push.status).toBe('voided');
    await b.qbo.webhooksIdle();
    // Nothing invoices it again on its own: the one invoice is the voided one.
    expect(b.qbo.invoices(tenant.realmId).map((i) => i.Id)).toEqual([invoiceId]);
  }, 60_000);

  it('an invoice whose amount was edited in QuickBooks shows a discrepancy and is not overwritten', async () => {
    const { tenant, push, invoiceId } = await invoicedMilestone();
    b.qbo.editInvoiceAmount(tenant.realmId, invoiceId, 20_000);
    const s = await until(push.id, (x) => x.push.discrepancy !== null);
    expect(s.push.discrepancy).toContain('bills USD 20,000.00 in QuickBooks, the milestone USD 25,000.00');
    expect(s.milestone.needsAttention).toBe(true);
    expect(s.milestone.status).toBe('invoiced');
    expect(s.push.amount).toBe(2_500_000);
    expect(b.qbo.invoices(tenant.realmId).find((i) => i.Id === invoiceId)!.TotalAmt).toBe(20_000);
  }, 60_000);
});

describe('POST /webhooks/quickbooks', () => {
  const countInbox = async () =>
    (await db().select({ id: inbox.id }).from(inbox).where(eq(inbox.source, 'quickbooks'))).length;

  it('changes state once when the same notification comes twice, in both formats', async () => {
    const { tenant, push, invoiceId } = await invoicedMilestone();
    b.quickbooksWebhooks(null);
    try {
      b.qbo.recordPayment(tenant.realmId, invoiceId, 5_000);
      const at = new Date().toISOString();
      const cloud = [
        {
          specversion: '1.0',
          id: `evt-${invoiceId}-${tenant.realmId}`,
          source: 'intuit.test',
          type: 'qbo.invoice.updated.v1',
          time: at,
          intuitentityid: invoiceId,
          intuitaccountid: tenant.realmId,
        },
      ];
      const legacy = {
        eventNotifications: [
          {
            realmId: tenant.realmId,
            dataChangeEvent: {
              entities: [{ name: 'Invoice', id: invoiceId, operation: 'Update', lastUpdated: at }],
            },
          },
        ],
      };
      const url = `${b.t.ctx.config.publicUrl}/webhooks/quickbooks`;
      const deliveries = [];
      for (const payload of [cloud, cloud, legacy, legacy]) {
        const contentType = Array.isArray(payload) ? 'application/cloudevents+json' : 'application/json';
        deliveries.push(
          await b.qbo.deliverWebhook(payload, { url, verifierToken: QBO_VERIFIER, contentType }),
        );
      }
      expect(deliveries.map((d) => d.status)).toEqual([200, 200, 200, 200]);
      await until(push.id, (x) => x.milestone.status === 'partially_paid');
      await eventually(
        () =>
          db()
            .select()
            .from(inbox)
            .where(and(eq(inbox.source, 'quickbooks'), eq(inbox.tenantId, tenant.tenant.id))),
        (rows) => {
          const mine = rows.filter(
            (r) => r.dedupeKey === `ce:${cloud[0]!.id}` || r.dedupeKey.startsWith('legacy:'),
          );
          return mine.length === 2 && mine.every((r) => r.status === 'processed');
        },
      );
      const moved = await db()
        .select()
        .from(transitions)
        .where(
          and(eq(transitions.milestoneId, push.milestoneId), eq(transitions.toStatus, 'partially_paid')),
        );
      expect(moved).toHaveLength(1);
    } finally {
      b.quickbooksWebhooks('cloudevents');
    }
  }, 60_000);

  it('answers a bad signature 401 and records nothing; a signed but malformed body 200, kept', async () => {
    const before = await countInbox();
    const url = `${b.t.ctx.config.publicUrl}/webhooks/quickbooks`;
    const forged = await b.qbo.deliverWebhook(
      [
        {
          specversion: '1.0',
          id: 'forged',
          type: 'qbo.payment.created.v1',
          intuitentityid: '1',
          intuitaccountid: '1',
        },
      ],
      { url, verifierToken: 'not-the-verifier' },
    );
    expect(forged.status).toBe(401);
    expect(await countInbox()).toBe(before);

    const malformed = await b.qbo.deliverWebhook({ surprise: true }, { url, verifierToken: QBO_VERIFIER });
    expect(malformed.status).toBe(200);
    const badEvent = await b.qbo.deliverWebhook(
      [{ specversion: '1.0', id: 'no-entity', type: 'qbo.payment.created.v1', intuitaccountid: '1' }],
      { url, verifierToken: QBO_VERIFIER, contentType: 'application/cloudevents+json' },
    );
    expect(badEvent.status).toBe(200);
    const kept = await db().select().from(inbox).where(eq(inbox.source, 'quickbooks'));
    const outcomes = kept.map((r) => r.outcome ?? '');
    expect(outcomes.some((o) => o.startsWith('malformed: the body is neither'))).toBe(true);
    expect(outcomes.some((o) => o.includes('intuitentityid'))).toBe(true);
  });

  it('reads both sample batches the same: several companies, events without data, a void and a merge', async () => {
    const read = (name: string) =>
      JSON.parse(readFileSync(join(import.meta.dirname, '../../webhooks/quickbooks/samples', name), 'utf8'));
    const changes = (name: string) =>
      (qboItems(read(name)) as unknown[]).map((item) => {
        const parsed = parseQboChange(item);
        if (!parsed.ok) throw new Error(`${name}: ${parsed.why}`);
        const { dedupeKey: _key, at: _at, ...change } = parsed.change;
        return change;
      });
    const cloud = changes('cloudevents-batch.json');
    expect(cloud).toEqual(changes('legacy-batch.json'));
    expect(new Set(cloud.map((c) => c.realmId)).size).toBe(2);
    expect(cloud.find((c) => c.operation === 'Merge')).toMatchObject({ entity: 'Customer', deletedId: '61' });
    expect(cloud.find((c) => c.operation === 'Void')).toMatchObject({ entity: 'Invoice', entityId: '131' });

    const url = `${b.t.ctx.config.publicUrl}/webhooks/quickbooks`;
    for (const name of ['cloudevents-batch.json', 'legacy-batch.json']) {
      const delivered = await b.qbo.deliverWebhook(read(name), { url, verifierToken: QBO_VERIFIER });
      expect(delivered.status).toBe(200);
    }
    // Companies no tenant connected: kept, and settled as ignored with the reason.
    await eventually(
      () => db().select().from(inbox).where(eq(inbox.dedupeKey, 'ce:c3e1f7a2-0b6d-4e59-8f21-6a7d9b0c4e13')),
      (rows) => rows.length === 1 && rows[0]!.status === 'ignored',
    );
  });
});
