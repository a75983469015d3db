import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nameSeedOnFailure } from '../faults/matrix.ts';
import { type Billing, startBilling } from '../support/billing.ts';

type Tenant = Awaited<ReturnType<Billing['connectedTenant']>>;

// The faults of the way to QuickBooks (errors, lost answers, killed workers, restarts) are rows of
// the fault matrix in test/faults/; what stays here is a QuickBooks refusal resolved in place.

/** Each accepted portion has exactly one invoice, and every invoice belongs to one portion. */
function expectOneInvoicePerPush(b: Billing, tenant: Tenant, rows: Awaited<ReturnType<Tenant['pushesOf']>>) {
  const invoices = b.qbo.invoices(tenant.realmId) as { Id: string; DocNumber: string }[];
  const failed = rows
    .filter((r) => r.push.status !== 'created')
    .map((r) => `${r.push.status}: ${r.push.errorMessage}`);
  expect(failed).toEqual([]);
  expect(invoices.map((i) => i.DocNumber).sort()).toEqual(rows.map((r) => r.push.docNumber).sort());
  expect(new Set(invoices.map((i) => i.DocNumber)).size).toBe(invoices.length);
  for (const r of rows)
    expect(invoices.find((i) => i.DocNumber === r.push.docNumber)?.Id).toBe(r.push.qboInvoiceId);
}

async function acceptAll(tenant: Tenant, dealIds: string[], prefix: string) {
  for (const dealId of dealIds) {
    const created = await tenant.post(`/deals/${dealId}/schedule/template`, {
      template: 'consulting',
      startDate: '2026-12-01',
    });
    expect(created.status).toBe(201);
  }
  const keys = ['assessment', 'analysis', 'recommendations', 'roadmap'];
  const answers = await Promise.all(
    dealIds.flatMap((dealId) =>
      keys.map((key) => tenant.accept({ id: `${prefix}-${dealId}-${key}`, dealId, milestone: { key } })),
    ),
  );
  expect(answers.map((a) => a.status).every((s) => s === 200)).toBe(true);
  return answers.length;
}

describe('a customer name QuickBooks already has', () => {
  let b: Billing;
  beforeAll(async () => {
    b = await startBilling();
  });
  afterAll(() => b?.close());
  nameSeedOnFailure(() => b?.qbo.faultSeed);

  it('resolves a DisplayName taken by a vendor (6240) without a duplicate customer', async () => {
    const tenant = await b.connectedTenant();
    const { companies } = b.hs.seed(tenant.portal, {
      companies: [{ properties: { name: 'Acme Supplies', domain: 'acme-supplies.example' } }],
    });
    const { deals } = b.hs.seed(tenant.portal, {
      deals: ['Racking', 'Forklifts'].map((what) => ({
        properties: {
          dealname: `Acme Supplies – ${what}`,
          amount: '5000',
          deal_currency_code: 'USD',
          dealstage: 'contractsent',
          pipeline: 'default',
        },
      })),
    });
    b.hs.seed(tenant.portal, {
      associations: deals.map((id) => ({
        fromType: 'deals',
        fromId: id,
        toType: 'companies',
        toId: companies[0]!,
        primary: true,
      })),
    });
    const count = await acceptAll(tenant, deals, 'acc-vendor');
    const rows = await tenant.settled(count);
    expectOneInvoicePerPush(b, tenant, rows);
    const named = b.qbo.customers(tenant.realmId).filter((c) => c.DisplayName.startsWith('Acme Supplies'));
    expect(named.map((c) => c.DisplayName)).toEqual(['Acme Supplies (customer)']);
    expect(new Set(rows.map((r) => r.push.qboCustomerId))).toEqual(new Set([named[0]!.Id]));
  }, 60_000);
});
