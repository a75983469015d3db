import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Billing, startBilling } from '../support/billing.ts';

/**
 * Retainage held back portion by portion comes back exactly: the release invoice bills the sum
 * withheld on its schedule's invoices, so the invoices add up to the contract to the minor unit.
 */

let b: Billing;
beforeAll(async () => {
  b = await startBilling();
});
afterAll(() => b?.close());

describe('the retainage release', () => {
  it.each([
    { contract: '100.05', portions: [{ percent: '60' }, { percent: '40' }] },
    { contract: '1000.00', portions: [{ amount: '333.33' }, { amount: '333.33' }, { amount: '333.34' }] },
    { contract: '1000.00', portions: [{ amount: '0.05' }, { amount: '999.95' }] },
  ])(
    'bills what was withheld: $contract accepted in $portions.length portions',
    async ({ contract, portions }) => {
      const tenant = await b.connectedTenant();
      const deal = tenant.dealNamed('Acme Widgets – Factory Expansion');
      const put = await tenant.put(`/deals/${deal.id}/schedule`, {
        contractValue: { amount: contract, currency: 'USD' },
        retainagePercent: '10',
        milestones: [
          {
            name: 'Works',
            key: 'works',
            deliverable: 'D',
            acceptanceCriteria: 'A',
            percent: '100',
            plannedDate: '2027-01-15',
          },
          {
            name: 'Retainage',
            key: 'release',
            kind: 'retainage_release',
            deliverable: 'D',
            acceptanceCriteria: 'A',
            plannedDate: '2027-06-15',
          },
        ],
      });
      expect(put.status, put.text).toBe(200);
      const works = put.body.milestones.find((m: { key: string }) => m.key === 'works').id as string;
      for (const [i, portion] of portions.entries()) {
        const open = (await tenant.get(`/deals/${deal.id}/schedule`)).body.milestones.find(
          (m: { key: string; status: string }) => m.key.startsWith('works') && m.status === 'planned',
        );
        const accepted = await tenant.post(`/milestones/${open?.id ?? works}/acceptances`, {
          portion,
          acceptedBy: { name: 'Dana' },
        });
        expect(accepted.status, `${i}: ${accepted.text}`).toBeLessThan(300);
      }
      const release = (await tenant.get(`/deals/${deal.id}/schedule`)).body.milestones.find(
        (m: { kind: string }) => m.kind === 'retainage_release',
      ).id as string;
      expect(
        (await tenant.post(`/milestones/${release}/acceptances`, { acceptedBy: { name: 'Dana' } })).status,
      ).toBeLessThan(300);
      const rows = await tenant.settled(portions.length + 1);
      expect(rows.every((r) => r.push.status === 'created')).toBe(true);
      const cents = (amount: number) => Math.round(amount * 100);
      const billed = b.qbo
        .invoices(tenant.realmId)
        .reduce((sum, invoice) => sum + cents(invoice.TotalAmt as number), 0);
      expect(billed).toBe(cents(Number(contract)));
    },
    60_000,
  );
});
