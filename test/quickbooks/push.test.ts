import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addDays, today } from '../../src/domain/dates.ts';
import { saveConnection } from '../../src/quickbooks/tokens.ts';
import { customerMappings, qboConnections } from '../../src/store/schema.ts';
import { type Billing, startBilling } from '../support/billing.ts';
import { eventually } from '../support/net.ts';

let b: Billing;
beforeAll(async () => {
  b = await startBilling({ listen: true });
});
afterAll(() => b?.close());

async function softwareSchedule(tenant: Awaited<ReturnType<Billing['connectedTenant']>>, dealId: string) {
  const res = await tenant.post(`/deals/${dealId}/schedule/template`, {
    template: 'software',
    startDate: '2026-12-01',
  });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body;
}

describe('exactly-once milestone invoices', () => {
  it('install, connect, a EUR deal, an acceptance webhook: one invoice in QuickBooks, a note and properties in HubSpot', async () => {
    const tenant = await b.installedTenant(24681357);
    const deal = tenant.dealNamed("O'Brien & Sons");
    expect(deal.properties.deal_currency_code).toBe('EUR');
    const schedule = await softwareSchedule(tenant, deal.id);
    expect(schedule.contractValue).toEqual({ amount: '48000.00', currency: 'EUR' });

    const res = await tenant.accept({
      id: 'acc_e2e_1',
      dealId: deal.id,
      milestone: { key: 'discovery' },
      evidence: [{ name: 'Sign-off.pdf', url: 'https://files.client.example/sign-off.pdf' }],
    });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    const [row] = await tenant.settled(1, { writtenBack: true });
    expect(row!.push).toMatchObject({
      status: 'created',
      docNumber: 'MB-1001',
      amount: 1_200_000,
      currency: 'EUR',
    });

    const invoices = b.qbo.invoices(tenant.realmId);
    expect(invoices).toHaveLength(1);
    const invoice = invoices[0]! as unknown as {
      PrivateNote: string;
      CustomerRef: { value: string };
      Line: { Description: string }[];
    };
    expect(invoice).toMatchObject({
      DocNumber: 'MB-1001',
      TotalAmt: 12000,
      CurrencyRef: { value: 'EUR' },
      TxnDate: today(),
      DueDate: addDays(today(), 30),
    });
    expect(invoice.PrivateNote).toContain(`HubSpot deal ${deal.id}`);
    expect(invoice.Line[0]!.Description).toContain('Discovery');
    expect(invoice.Line[0]!.Description).toContain('Dana Client');
    const customers = b.qbo.customers(tenant.realmId).filter((c) => c.Id === invoice.CustomerRef.value);
    expect(customers[0]).toMatchObject({
      DisplayName: expect.stringContaining("O'Brien & Sons"),
      CurrencyRef: { value: 'EUR' },
    });
    expect(b.qbo.attachables(tenant.realmId).some((a) => JSON.stringify(a).includes('sign-off.pdf'))).toBe(
      true,
    );

    const notes = b.hs.notesFor(tenant.portal, deal.id);
    expect(notes).toHaveLength(1);
    expect(notes[0]!.body).toContain('MB-1001');
    expect(b.hs.getDeal(tenant.portal, deal.id)!.properties.mb_invoiced_to_date).toBe('12000.00');

    const milestone = (await tenant.get(`/milestones/${row!.milestone.id}/history`)).body;
    expect(milestone.status).toBe('invoiced');
    expect(milestone.transitions.map((x: { event: string }) => x.event)).toEqual([
      'plan',
      'accept',
      'push',
      'invoice_created',
    ]);
  });

  it('the same acceptance delivered 5 times at once yields one invoice; a known customer costs one QuickBooks call', async () => {
    const tenant = await b.connectedTenant();
    const deal = tenant.dealNamed("O'Brien & Sons");
    await softwareSchedule(tenant, deal.id);
    await tenant.accept({ id: 'acc_warm', dealId: deal.id, milestone: { key: 'discovery' } });
    await tenant.settled(1);

    const before = b.qbo.stats(tenant.realmId).total;
    const body = { id: 'acc_5x', dealId: deal.id, milestone: { key: 'design' } };
    const answers = await Promise.all(Array.from({ length: 5 }, () => tenant.accept(body)));
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 200, 200]);
    expect(answers.filter((a) => a.body.outcome === 'accepted')).toHaveLength(1);
    await tenant.settled(2);
    expect(b.qbo.invoices(tenant.realmId)).toHaveLength(2);
    expect(b.qbo.stats(tenant.realmId).total - before).toBe(1);
  });

  it('after the tenant switches QuickBooks company, invoices bill the right customer in the new one', async () => {
    const tenant = await b.connectedTenant();
    const deal = tenant.dealNamed("O'Brien & Sons");
    await softwareSchedule(tenant, deal.id);
    await tenant.accept({ id: 'acc_switch_1', dealId: deal.id, milestone: { key: 'discovery' } });
    await tenant.settled(1);

    const other = String(9_200_000_000 + Math.floor(Math.random() * 99_999_999));
    b.qbo.addRealm(other, {
      companyName: 'New books',
      country: 'US',
      homeCurrency: 'USD',
      multiCurrency: true,
    });
    // In the new company customer 1 is somebody else.
    b.qbo.addCustomer(other, { DisplayName: 'Someone Else Ltd', CurrencyRef: { value: 'EUR' } });
    await saveConnection(
      { ...b.t.ctx, db: b.t.database.db },
      tenant.tenant.id,
      other,
      b.qbo.issueTokens(other),
    );
    await tenant.accept({ id: 'acc_switch_2', dealId: deal.id, milestone: { key: 'design' } });
    const rows = await tenant.settled(2);
    expect(rows.map((r) => `${r.push.status} ${r.push.errorMessage ?? ''}`.trim())).toEqual([
      'created',
      'created',
    ]);
    const [invoice] = b.qbo.invoices(other) as unknown as { CustomerRef: { value: string } }[];
    const customer = b.qbo.customers(other).find((c) => c.Id === invoice!.CustomerRef.value);
    expect(customer?.DisplayName).toContain("O'Brien & Sons");
  });

  it('where QuickBooks numbers invoices itself, a create whose answer was lost is adopted, not made twice', async () => {
    const tenant = await b.connectedTenant({ customTxnNumbers: false });
    const deal = tenant.dealNamed("O'Brien & Sons");
    await softwareSchedule(tenant, deal.id);
    await tenant.accept({ id: 'acc_auto_1', dealId: deal.id, milestone: { key: 'discovery' } });
    await tenant.settled(1);
    // Facts kept before the app read the numbering preference are read afresh.
    const {
      customTxnNumbers: _unknown,
      realmId: _realm,
      ...kept
    } = await b.t.ctx.quickbooks.connectionFacts(tenant.tenant.id);
    await b.t.database.db
      .update(qboConnections)
      .set({ company: kept })
      .where(eq(qboConnections.tenantId, tenant.tenant.id));
    expect((await b.t.ctx.quickbooks.connectionFacts(tenant.tenant.id)).customTxnNumbers).toBe(false);

    // QuickBooks creates the next invoice, but its answer never arrives.
    b.qbo.setFaults({ timeoutAfterCreateRate: 1 });
    try {
      await tenant.accept({ id: 'acc_auto_2', dealId: deal.id, milestone: { key: 'design' } });
      await eventually(
        async () => b.qbo.invoices(tenant.realmId).length,
        (n) => n === 2,
        10_000,
      );
    } finally {
      b.qbo.clearFaults();
    }
    const rows = await tenant.settled(2);
    const invoices = b.qbo.invoices(tenant.realmId);
    expect(invoices).toHaveLength(2);
    // QuickBooks' own numbers, so no DocNumber look-up could have found the lost one.
    expect(invoices.map((i) => i.DocNumber)).toEqual(['1001', '1002']);
    const design = rows.find((r) => r.milestone.key === 'design')!;
    expect(design.push).toMatchObject({ status: 'created', qboInvoiceId: invoices[1]!.Id });
    expect(b.qbo.stats(tenant.realmId).byEndpoint['POST /invoice']).toBe(2);
  });

  it('a refusal marks the milestone invoice_failed with QuickBooks’ reason, and a retry after the fix invoices it once', async () => {
    const tenant = await b.connectedTenant();
    const deal = tenant.dealNamed('Müller & Schmidt');
    // The company already bills this customer in USD; the deal is in EUR.
    b.qbo.addCustomer(tenant.realmId, {
      DisplayName: 'Müller & Schmidt GmbH',
      CurrencyRef: { value: 'USD' },
    });
    await softwareSchedule(tenant, deal.id);
    await tenant.accept({ id: 'acc_currency', dealId: deal.id, milestone: { key: 'discovery' } });
    const [row] = await tenant.settled(1);
    expect(row!.push.status).toBe('failed');
    expect(row!.push.errorMessage).toContain('bills in USD but this deal is in EUR');
    const failed = (await tenant.get(`/milestones/${row!.milestone.id}`)).body;
    expect(failed.status).toBe('invoice_failed');
    const history = (await tenant.get(`/milestones/${row!.milestone.id}/history`)).body.transitions;
    expect(history.at(-1).reason).toContain('QuickBooks allows one currency per customer');
    expect(b.qbo.invoices(tenant.realmId)).toHaveLength(0);

    // The bookkeeper renames the USD customer in QuickBooks and forgets the app's mapping of it;
    // the retry then creates a EUR customer and the invoice.
    const usd = b.qbo
      .customers(tenant.realmId)
      .find((c) => c.DisplayName === 'Müller & Schmidt GmbH')! as Record<string, unknown>;
    const rename = await fetch(
      `${b.qbo.apiBaseUrl}/v3/company/${tenant.realmId}/customer?operation=update&minorversion=75`,
      {
        method: 'POST',
        headers: {
          Authorization: `Bearer ${b.qbo.issueTokens(tenant.realmId).access_token}`,
          'Content-Type': 'application/json',
          Accept: 'application/json',
        },
        body: JSON.stringify({
          Id: usd.Id,
          SyncToken: usd.SyncToken,
          sparse: true,
          DisplayName: 'Müller & Schmidt GmbH (USD)',
        }),
      },
    );
    expect(rename.status).toBe(200);
    await b.t.database.db.delete(customerMappings).where(eq(customerMappings.tenantId, tenant.tenant.id));
    const retry = await tenant.post(`/milestones/${row!.milestone.id}/retry-invoice`);
    expect(retry.status).toBe(202);
    expect(retry.body.status).toBe('invoicing');
    const [again] = await tenant.settled(1);
    expect(again!.push.status).toBe('created');
    expect(b.qbo.invoices(tenant.realmId)).toHaveLength(1);
  });
});
