import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { remindOverdue } from '../../src/billing/reminders.ts';
import { addDays } from '../../src/domain/dates.ts';
import { invoicePushes, milestones, tenants } from '../../src/store/schema.ts';
import { type Billing, startBilling } from '../support/billing.ts';
import { eventually } from '../support/net.ts';

/**
 * What the client owes is what QuickBooks says, tax included: a UK company at 20 % VAT bills a
 * 5,000.00 milestone at 6,000.00, and 5,000.00 received leaves 1,000.00 owed everywhere a person
 * reads it (HubSpot's deal, the portfolio, aging), until the VAT is paid too.
 */

let b: Billing;
beforeAll(async () => {
  b = await startBilling({ listen: true });
  b.quickbooksWebhooks('cloudevents');
});
afterAll(() => b?.close());

const db = () => b.t.database.db;

describe('a taxed invoice', () => {
  it('a UK company at 20 % VAT: 5,000.00 invoiced at 6,000.00; after 5,000.00 paid, 1,000.00 is still owed', async () => {
    const tenant = await b.connectedTenant({ country: 'GB', homeCurrency: 'GBP', multiCurrency: false });
    const vat = Array.from({ length: 12 }, (_, i) =>
      b.qbo.entity(tenant.realmId, 'TaxCode', String(i + 1)),
    ).find((c) => c?.Name === '20.0% S')!;
    expect(vat).toBeDefined();
    const reminders = {
      enabled: true,
      firstAfterDays: 3,
      everyDays: 7,
      maxReminders: 3,
      excludedCustomerIds: [],
    };
    await db().execute(
      `update tenants set settings = '${JSON.stringify({ taxCodeId: vat.Id, reminders })}' where id = '${tenant.tenant.id}'`,
    );
    const acme = tenant.dealNamed('Acme Widgets');
    const { dealId } = await b.hs.createDeal(
      tenant.portal,
      {
        dealname: 'Thames Fit-out',
        amount: '5000',
        deal_currency_code: 'GBP',
        dealstage: 'closedwon',
        pipeline: 'default',
      },
      { companyId: acme.primaryCompanyId ?? acme.companyIds[0]!, contactIds: acme.contactIds },
    );
    const put = await tenant.put(`/deals/${dealId}/schedule`, {
      contractValue: { amount: '5000.00', currency: 'GBP' },
      milestones: [
        {
          name: 'Fit-out',
          key: 'fit-out',
          deliverable: 'Fitted',
          acceptanceCriteria: 'Signed off',
          percent: '100',
          plannedDate: '2027-01-15',
        },
      ],
    });
    expect(put.status, put.text).toBe(200);
    await tenant.accept({ id: `vat-${tenant.portal}`, dealId, milestone: { key: 'fit-out' } });
    const [row] = await tenant.settled(1, { writtenBack: true });
    const push = row!.push;
    expect(push.status, push.errorMessage ?? '').toBe('created');
    const invoice = b.qbo.entity(tenant.realmId, 'Invoice', push.qboInvoiceId!)!;
    expect(invoice.TotalAmt).toBe(6000);

    const owed = async () => {
      const [p] = await db()
        .select({ balance: invoicePushes.qboBalance, status: milestones.status })
        .from(invoicePushes)
        .innerJoin(milestones, eq(milestones.id, invoicePushes.milestoneId))
        .where(eq(invoicePushes.id, push.id));
      const deal = b.hs.getDeal(tenant.portal, dealId)?.properties ?? {};
      const portfolio = (await tenant.get('/portfolio?currency=GBP')).body.received[0];
      const aging = (await tenant.get('/portfolio/aging?currency=GBP')).body;
      return {
        status: p!.status,
        balance: p!.balance,
        hubspot: {
          invoiced: deal.mb_invoiced_to_date,
          paid: deal.mb_paid_to_date,
          outstanding: deal.mb_outstanding,
        },
        portfolio: {
          invoiced: portfolio?.invoiced.amount,
          paid: portfolio?.paid.amount,
          outstanding: portfolio?.outstanding.amount,
        },
        aging: JSON.stringify(aging).includes('"1000.00"'),
      };
    };
    expect(await eventually(owed, (o) => o.hubspot.invoiced === '6000.00', 20_000)).toMatchObject({
      status: 'invoiced',
      balance: 600_000,
      hubspot: { invoiced: '6000.00', paid: '0.00', outstanding: '6000.00' },
      portfolio: { invoiced: '6000.00', paid: '0.00', outstanding: '6000.00' },
    });

    b.qbo.recordPayment(tenant.realmId, push.qboInvoiceId!, 5_000);
    expect(await eventually(owed, (o) => o.hubspot.paid === '5000.00', 20_000)).toEqual({
      status: 'partially_paid',
      balance: 100_000,
      hubspot: { invoiced: '6000.00', paid: '5000.00', outstanding: '1000.00' },
      portfolio: { invoiced: '6000.00', paid: '5000.00', outstanding: '1000.00' },
      aging: true,
    });

    // The VAT is still owed: three days after the due date the invoice is reminded, for 1,000.00.
    const [fresh] = await db().select().from(tenants).where(eq(tenants.id, tenant.tenant.id));
    expect(await remindOverdue(b.t.ctx, fresh!, addDays(push.dueDate!, 3))).toEqual([
      expect.stringMatching(/sent$/),
    ]);
    expect(b.hs.tasksFor(tenant.portal, dealId).map((t) => t.properties.hs_task_subject)).toEqual([
      `Overdue: invoice ${push.docNumber} (GBP 1,000.00)`,
    ]);

    b.qbo.recordPayment(tenant.realmId, push.qboInvoiceId!, 1_000);
    expect(await eventually(owed, (o) => o.hubspot.paid === '6000.00', 20_000)).toMatchObject({
      status: 'paid',
      balance: 0,
      hubspot: { invoiced: '6000.00', paid: '6000.00', outstanding: '0.00' },
      portfolio: { invoiced: '6000.00', paid: '6000.00', outstanding: '0.00' },
    });
  }, 90_000);
});
