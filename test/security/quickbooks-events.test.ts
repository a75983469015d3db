import { randomUUID } from 'node:crypto';
import { and, eq, inArray } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { QBO_CHANGES_WINDOW } from '../../src/jobs/quickbooks-changes.ts';
import { inbox, invoicePushes, milestones, qboPaymentLinks } from '../../src/store/schema.ts';
import { type Billing, startBilling } from '../support/billing.ts';
import { eventually } from '../support/net.ts';
import { QBO_VERIFIER } from '../support/sandbox-env.ts';

/**
 * Anyone holding the app's one Intuit verifier token (it is per app, not per company) can sign a
 * QuickBooks event naming any company. Events are only hints: what they name is read again from
 * QuickBooks before anything changes, and a company's events are read in one round per window.
 */

let b: Billing;
let url: string;
beforeAll(async () => {
  b = await startBilling({ listen: true });
  url = `${b.t.ctx.config.publicUrl}/webhooks/quickbooks`;
  b.quickbooksWebhooks('cloudevents');
});
afterAll(() => b?.close());

/** A milestone invoiced and paid in full in QuickBooks, its payment linked in the app. */
async function paidMilestone() {
  const tenant = await b.connectedTenant();
  const deal = tenant.dealNamed('Acme Widgets – Factory Expansion');
  expect(
    (
      await tenant.post(`/deals/${deal.id}/schedule/template`, {
        template: 'software',
        startDate: '2026-12-01',
      })
    ).status,
  ).toBe(201);
  await tenant.accept({ id: `forged-${tenant.portal}`, dealId: deal.id, milestone: { key: 'discovery' } });
  const [row] = await tenant.settled(1);
  const push = row!.push;
  const payment = b.qbo.recordPayment(tenant.realmId, push.qboInvoiceId!, 25_000);
  return { tenant, push, paymentId: payment.Id };
}

const forgedDeletion = (realmId: string, paymentId: string) => ({
  specversion: '1.0',
  id: randomUUID(),
  source: 'intuit.forged',
  type: 'qbo.payment.deleted.v1',
  datacontenttype: 'application/json',
  time: new Date().toISOString(),
  intuitentityid: paymentId,
  intuitaccountid: realmId,
  data: {},
});

const stateOf = async (pushId: string) => {
  const [row] = await b.t.database.db
    .select({ status: milestones.status, paid: invoicePushes.paidAmount })
    .from(invoicePushes)
    .innerJoin(milestones, eq(milestones.id, invoicePushes.milestoneId))
    .where(eq(invoicePushes.id, pushId));
  return row!;
};
const linksOf = (tenantId: string) =>
  b.t.database.db.select().from(qboPaymentLinks).where(eq(qboPaymentLinks.tenantId, tenantId));
const pendingOf = async (keys: string[]) =>
  (
    await b.t.database.db
      .select({ status: inbox.status })
      .from(inbox)
      .where(and(eq(inbox.source, 'quickbooks'), inArray(inbox.dedupeKey, keys)))
  ).filter((r) => r.status === 'pending').length;
const reads = (realmId: string) => b.qbo.requests.filter((r) => r.realmId === realmId && r.method === 'GET');

describe('QuickBooks events are re-read, never believed', () => {
  it('a forged "payment deleted" for a payment QuickBooks still has changes nothing', async () => {
    const { tenant, push, paymentId } = await paidMilestone();
    await eventually(
      () => stateOf(push.id),
      (s) => s.status === 'paid',
      20_000,
    );
    const links = await linksOf(tenant.tenant.id);
    expect(links.map((l) => l.paymentId)).toEqual([paymentId]);

    const event = forgedDeletion(tenant.realmId, paymentId);
    const sent = await b.qbo.deliverWebhook([event], { url, verifierToken: QBO_VERIFIER });
    expect(sent.status).toBe(200);
    await eventually(
      () => pendingOf([`ce:${event.id}`]),
      (n) => n === 0,
      20_000,
    );
    expect(await stateOf(push.id)).toEqual({ status: 'paid', paid: 2_500_000 });
    expect(await linksOf(tenant.tenant.id)).toEqual(links);

    // The same, genuinely deleted in QuickBooks: the payment goes, and so does the money.
    b.qbo.deletePayment(tenant.realmId, paymentId);
    const real = forgedDeletion(tenant.realmId, paymentId);
    await b.qbo.deliverWebhook([real], { url, verifierToken: QBO_VERIFIER });
    await eventually(
      () => stateOf(push.id),
      (s) => s.status === 'invoiced' && s.paid === 0,
      20_000,
    );
    expect(await linksOf(tenant.tenant.id)).toEqual([]);
  }, 60_000);

  it('a flood of 10,000 events for one company costs one payment read per 2-second window', async () => {
    const { tenant, push, paymentId } = await paidMilestone();
    await eventually(
      () => stateOf(push.id),
      (s) => s.status === 'paid',
      20_000,
    );
    const before = reads(tenant.realmId).length;
    const started = Date.now();
    const keys: string[] = [];
    for (let batch = 0; batch < 10; batch++) {
      const events = Array.from({ length: 1000 }, (_, i) =>
        forgedDeletion(tenant.realmId, i === 0 ? paymentId : String(900_000 + batch * 1000 + i)),
      );
      keys.push(...events.map((e) => `ce:${e.id}`));
      const sent = await b.qbo.deliverWebhook(events, { url, verifierToken: QBO_VERIFIER });
      expect(sent.status).toBe(200);
    }
    await eventually(
      () => pendingOf(keys),
      (n) => n === 0,
      60_000,
    );
    const windows = Math.ceil((Date.now() - started) / QBO_CHANGES_WINDOW) + 1;
    const spent = reads(tenant.realmId).slice(before);
    // Per round: one payment read (a Change Data Capture call, or a query of at most 200 ids for a
    // round's tail) and one query per 200 of the app's invoices those payments touch (here one: the
    // real payment changed within the window). Never more rounds than windows.
    const rounds = spent.filter(
      (r) => r.endpoint === 'GET /cdc' || /from Payment/i.test(r.query.query ?? ''),
    );
    const invoiceReads = spent.filter((r) => /from invoice/i.test(r.query.query ?? ''));
    expect(rounds.length + invoiceReads.length, JSON.stringify(spent.map((r) => r.query))).toBe(spent.length);
    expect(rounds.length).toBeLessThanOrEqual(windows);
    expect(invoiceReads.length).toBeLessThanOrEqual(rounds.length);
    for (const r of invoiceReads) expect(r.query.query).toContain(`Id IN ('${push.qboInvoiceId}')`);
    expect(await stateOf(push.id)).toEqual({ status: 'paid', paid: 2_500_000 });
    expect((await linksOf(tenant.tenant.id)).map((l) => l.paymentId)).toEqual([paymentId]);
  }, 120_000);
});
