import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatAmount, parseAmount } from '../../src/domain/money.ts';
import { type Billing, startBilling } from '../support/billing.ts';
import { eventually } from '../support/net.ts';

let b: Billing;
beforeAll(async () => {
  b = await startBilling({ listen: true });
  b.quickbooksWebhooks('cloudevents');
});
afterAll(() => b?.close());

/** What a bookkeeper does next, by the index of an invoice or of an earlier payment. */
type Step =
  | { kind: 'pay'; invoice: number; share: number }
  | { kind: 'void-payment'; payment: number }
  | { kind: 'delete-payment'; payment: number }
  | { kind: 'void-invoice'; invoice: number };

const step: fc.Arbitrary<Step> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant('pay' as const),
      invoice: fc.nat(3),
      share: fc.integer({ min: 1, max: 100 }),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('void-payment' as const), payment: fc.nat(9) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('delete-payment' as const), payment: fc.nat(9) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('void-invoice' as const), invoice: fc.nat(3) }) },
);

describe('money after any sequence of payments, voids and deletions', () => {
  it("the deal's invoiced, paid and outstanding in HubSpot equal QuickBooks to the cent", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 8 }), async (steps) => {
        const tenant = await b.connectedTenant();
        const deal = tenant.dealNamed('Acme Widgets – Factory Expansion');
        await tenant.post(`/deals/${deal.id}/schedule/template`, {
          template: 'software',
          startDate: '2026-12-01',
        });
        for (const key of ['discovery', 'design', 'build', 'launch'])
          await tenant.accept({ id: `prop-${key}-${tenant.portal}`, dealId: deal.id, milestone: { key } });
        const invoiceIds = (await tenant.settled(4, { writtenBack: true })).map((r) => r.push.qboInvoiceId!);
        const invoice = (i: number) => b.qbo.invoices(tenant.realmId).find((x) => x.Id === invoiceIds[i])!;
        const payments: { id: string; gone: boolean }[] = [];

        for (const s of steps) {
          if (s.kind === 'pay') {
            const { Balance } = invoice(s.invoice);
            // A share of what is still owed, in whole cents (at least one cent).
            const cents = Math.max(1, Math.floor((Math.round(Balance * 100) * s.share) / 100));
            if (Balance > 0)
              payments.push({
                id: b.qbo.recordPayment(tenant.realmId, invoiceIds[s.invoice]!, cents / 100).Id,
                gone: false,
              });
          } else if (s.kind === 'void-invoice') {
            if (invoice(s.invoice).LinkedTxn.length === 0 && invoice(s.invoice).TotalAmt > 0)
              b.qbo.voidInvoice(tenant.realmId, invoiceIds[s.invoice]!);
          } else {
            const p = payments[s.payment % Math.max(1, payments.length)];
            if (!p || p.gone) continue;
            if (s.kind === 'void-payment') b.qbo.voidPayment(tenant.realmId, p.id);
            else b.qbo.deletePayment(tenant.realmId, p.id);
            p.gone = true;
          }
        }

        // QuickBooks' own figures for the deal's invoices, exactly, in cents.
        const cents = (n: number) => parseAmount(n.toFixed(2), 'USD');
        const books = invoiceIds.map((_, i) => invoice(i));
        const invoiced = books.reduce((sum, i) => sum + cents(i.TotalAmt), 0);
        const outstanding = books.reduce((sum, i) => sum + cents(i.Balance), 0);
        const expected = {
          mb_invoiced_to_date: formatAmount(invoiced, 'USD'),
          mb_paid_to_date: formatAmount(invoiced - outstanding, 'USD'),
          mb_outstanding: formatAmount(outstanding, 'USD'),
        };
        await b.qbo.webhooksIdle();
        const properties = await eventually(
          async () => b.hs.getDeal(tenant.portal, deal.id)!.properties,
          (p) =>
            p.mb_invoiced_to_date === expected.mb_invoiced_to_date &&
            p.mb_paid_to_date === expected.mb_paid_to_date &&
            p.mb_outstanding === expected.mb_outstanding,
          20_000,
        ).catch(() => b.hs.getDeal(tenant.portal, deal.id)!.properties);
        expect({
          mb_invoiced_to_date: properties.mb_invoiced_to_date,
          mb_paid_to_date: properties.mb_paid_to_date,
          mb_outstanding: properties.mb_outstanding,
        }).toEqual(expected);
      }),
      { numRuns: 6, endOnFailure: true },
    );
  }, 300_000);
});
