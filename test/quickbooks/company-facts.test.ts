import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { qboConnections } from '../../src/store/schema.ts';
import { type Billing, startBilling } from '../support/billing.ts';

/**
 * A QuickBooks company's settings change: multicurrency turned on, numbering switched. The app's
 * copy of them (home currency, multicurrency, numbering) is read again rather than kept forever.
 */

let b: Billing;
beforeAll(async () => {
  b = await startBilling();
});
afterAll(() => b?.close());

describe("the company's facts", () => {
  it('are read again when a deal in another currency meets a company that turned multicurrency on since', async () => {
    const tenant = await b.connectedTenant({ country: 'US', homeCurrency: 'USD', multiCurrency: false });
    const deal = tenant.dealNamed('Müller & Schmidt');
    const made = await tenant.post(`/deals/${deal.id}/schedule/template`, {
      template: 'software',
      startDate: '2026-12-01',
    });
    expect(made.status, made.text).toBe(201);
    await tenant.accept({ id: `facts-${tenant.portal}`, dealId: deal.id, milestone: { key: 'discovery' } });
    const [refused] = await tenant.settled(1);
    expect(refused!.push.status).toBe('failed');
    expect(refused!.push.errorMessage).toContain('turn on multicurrency');

    // The bookkeeper turns multicurrency on in QuickBooks; a person presses Retry.
    b.qbo.turnOnMultiCurrency(tenant.realmId);
    const retried = await tenant.post(`/milestones/${refused!.push.milestoneId}/retry-invoice`);
    expect(retried.status, retried.text).toBeLessThan(300);
    const [row] = await tenant.settled(1);
    expect(row!.push.status, row!.push.errorMessage ?? '').toBe('created');
    const [connection] = await b.t.database.db
      .select()
      .from(qboConnections)
      .where(eq(qboConnections.tenantId, tenant.tenant.id));
    expect(connection!.company).toMatchObject({ multiCurrency: true });
  }, 60_000);

  it('are read again on reconnecting the same company', async () => {
    const tenant = await b.connectedTenant({ country: 'US', homeCurrency: 'USD', multiCurrency: false });
    await b.t.ctx.quickbooks.connectionFacts(tenant.tenant.id);
    b.qbo.turnOnMultiCurrency(tenant.realmId);
    await b.t.ctx.quickbooks.connect(tenant.tenant.id, tenant.realmId, b.qbo.issueTokens(tenant.realmId));
    expect(await b.t.ctx.quickbooks.connectionFacts(tenant.tenant.id)).toMatchObject({ multiCurrency: true });
  });
});
