import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { reconcileCompany } from '../../src/billing/reconcile.ts';
import { invoicePushes, milestones, qboConnections } from '../../src/store/schema.ts';
import { type Billing, startBilling } from '../support/billing.ts';
import { eventually } from '../support/net.ts';

// No webhooks configured: whatever reaches the milestones comes through reconciliation.
let b: Billing;
beforeAll(async () => {
  b = await startBilling();
});
afterAll(() => b?.close());

async function invoiced(keys: string[]) {
  const tenant = await b.connectedTenant();
  const deal = tenant.dealNamed('Acme Widgets – Factory Expansion');
  await tenant.post(`/deals/${deal.id}/schedule/template`, { template: 'software', startDate: '2026-12-01' });
  for (const key of keys)
    await tenant.accept({ id: `rec-${key}-${tenant.portal}`, dealId: deal.id, milestone: { key } });
  const rows = await tenant.settled(keys.length);
  return { tenant, pushes: rows.map((r) => r.push) };
}

const db = () => b.t.database.db;
const milestoneOf = async (pushId: string) =>
  (
    await db()
      .select({ status: milestones.status, paid: invoicePushes.paidAmount })
      .from(invoicePushes)
      .innerJoin(milestones, eq(milestones.id, invoicePushes.milestoneId))
      .where(eq(invoicePushes.id, pushId))
  )[0]!;

describe('reconciliation through Change Data Capture', () => {
  it('brings payments to the milestones with webhook delivery switched off, and a second run changes nothing', async () => {
    const { tenant, pushes } = await invoiced(['discovery', 'design']);
    const [a, c] = pushes;
    b.qbo.recordPayment(tenant.realmId, a!.qboInvoiceId!, 25_000);
    b.qbo.recordPayment(tenant.realmId, c!.qboInvoiceId!, 1_234.56);
    expect(b.qbo.webhookDeliveries).toHaveLength(0);

    const first = await reconcileCompany(b.t.ctx, tenant.tenant);
    expect(first?.via).toBe('cdc');
    expect(await milestoneOf(a!.id)).toEqual({ status: 'paid', paid: 2_500_000 });
    expect(await milestoneOf(c!.id)).toEqual({ status: 'partially_paid', paid: 123_456 });
    expect((await reconcileCompany(b.t.ctx, tenant.tenant))?.outcomes).toEqual([]);
  }, 60_000);

  it('runs as the periodic job the sweeper queues, once per company and period', async () => {
    const { tenant, pushes } = await invoiced(['discovery']);
    b.qbo.recordPayment(tenant.realmId, pushes[0]!.qboInvoiceId!, 100);
    await b.t.ctx.jobs.strict.reconcile(tenant.tenant.id, 'test-period');
    await b.t.ctx.jobs.strict.reconcile(tenant.tenant.id, 'test-period');
    await eventually(
      () => milestoneOf(pushes[0]!.id),
      (m) => m.status === 'partially_paid' && m.paid === 10_000,
    );
  }, 60_000);

  it('reads a window of more than 1,000 changes completely, a page of 1,000 at a time', async () => {
    const { tenant, pushes } = await invoiced(['discovery']);
    const customer = b.qbo.customers(tenant.realmId)[0]!;
    // 1,200 invoices entered by hand, then the payment of ours, the most recent change of all.
    b.qbo.enterInvoices(tenant.realmId, customer.Id, 1_200, 10);
    await new Promise((r) => setTimeout(r, 1_100));
    b.qbo.recordPayment(tenant.realmId, pushes[0]!.qboInvoiceId!, 7_500);
    const before = b.qbo.requests.length;

    const done = await reconcileCompany(b.t.ctx, tenant.tenant);
    expect(done?.via).toBe('query');
    expect(done!.invoices).toBeGreaterThan(1_200);
    expect(await milestoneOf(pushes[0]!.id)).toEqual({ status: 'partially_paid', paid: 750_000 });
    // CDC once, then the invoice query in two pages (and the payments in one).
    const paths = b.qbo.requests.slice(before).map((r) => `${r.method} ${r.path}`);
    expect(paths.filter((p) => p.includes('/cdc'))).toHaveLength(1);
    expect(paths.filter((p) => p.includes('/query')).length).toBeGreaterThanOrEqual(3);
  }, 90_000);

  it('re-reads a company offline longer than the 30 days CDC keeps by query', async () => {
    const { tenant, pushes } = await invoiced(['discovery']);
    b.qbo.recordPayment(tenant.realmId, pushes[0]!.qboInvoiceId!, 25_000);
    // The last reconciliation lies 31 days back (the company was disconnected that long).
    await db()
      .update(qboConnections)
      .set({ reconciledUntil: new Date(Date.now() - 31 * 86_400_000) })
      .where(eq(qboConnections.tenantId, tenant.tenant.id));
    const before = b.qbo.requests.length;
    const done = await reconcileCompany(b.t.ctx, tenant.tenant);
    expect(done?.via).toBe('query');
    expect(b.qbo.requests.slice(before).some((r) => r.path.includes('/cdc'))).toBe(false);
    expect(await milestoneOf(pushes[0]!.id)).toEqual({ status: 'paid', paid: 2_500_000 });
  }, 60_000);
});
