import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seededPortfolio } from '../app/seeded-portfolio.ts';
import { type Billing, startBilling } from '../support/billing.ts';

let b: Billing;
let seeded: Awaited<ReturnType<typeof seededPortfolio>>;
beforeAll(async () => {
  b = await startBilling({ listen: true });
  seeded = await seededPortfolio(b);
}, 90_000);
afterAll(() => b?.close());

type Week = {
  week: string;
  kind: string;
  mark: string | null;
  amount: { amount: string };
};

describe('the cash-flow forecast and receivables aging APIs', () => {
  it('expects cash by week from planned dates plus terms and due dates, marking the cluster and the gaps', async () => {
    const { tenant, week } = seeded;
    const res = await tenant.get('/portfolio/forecast');
    expect(res.status).toBe(200);
    const [usd] = res.body.currencies as { currency: string; median: { amount: string }; weeks: Week[] }[];
    expect(usd!.currency).toBe('USD');
    expect(usd!.weeks).toHaveLength(34);
    const at = (n: number) => usd!.weeks.find((w) => w.week === week(n))!;
    expect(at(5)).toMatchObject({
      kind: 'expected',
      mark: 'cluster',
      amount: { amount: '60000.00' },
    });
    expect(at(3)).toMatchObject({ mark: 'gap', amount: { amount: '0.00' } });
    expect(at(2)).toMatchObject({ mark: null, amount: { amount: '5000.00' } });
    // Past due (6,000 + 4,000 + 6,000 + 1,500 still open) is expected now.
    expect(at(0).amount.amount).toBe('17500.00');
    // The net-30 invoice of today is due in 30 days.
    const due = usd!.weeks.find((w) => w.week <= week(5) && w.week > week(3) && w !== at(5))!;
    expect(due.amount.amount).toBe('6000.00');
    // Three weeks ago, the 2,000 paid in QuickBooks came in.
    expect(at(-3)).toMatchObject({ kind: 'received', amount: { amount: '2000.00' }, mark: null });
    expect(usd!.median.amount).toBe('5000.00');

    // The deals behind a bar: this week holds everything past due, from two deals.
    const picked = await tenant.get(`/portfolio/forecast/weeks/${week(0, 3)}?currency=USD`);
    expect(picked.status).toBe(200);
    expect(picked.body).toMatchObject({ week: week(0), currency: 'USD', dealCount: 2 });
    expect(
      picked.body.deals.map((d: { dealName: string; amount: { amount: string } }) => [
        d.dealName,
        d.amount.amount,
      ]),
    ).toEqual([
      ['Acme Widgets – Annual Maintenance', '16000.00'],
      ['Website Refresh – Freelance', '1500.00'],
    ]);
    expect((await tenant.get(`/portfolio/forecast/weeks/${week(0)}`)).status).toBe(422);
  });

  it('ages what is still owed per customer by days past due, from the QuickBooks balances', async () => {
    const res = await seeded.tenant.get('/portfolio/aging');
    expect(res.status).toBe(200);
    const rows = res.body.customers as Record<string, { amount: string } | string>[];
    const acme = rows.find((r) => String(r.customerName).startsWith('Acme'))!;
    const amounts = (r: (typeof rows)[number]) =>
      ['current', 'days_1_30', 'days_31_60', 'days_61_90', 'days_over_90', 'total'].map(
        (k) => (r[k] as { amount: string }).amount,
      );
    expect(amounts(acme)).toEqual(['6000.00', '6000.00', '4000.00', '0.00', '6000.00', '22000.00']);
    const other = rows.find((r) => r !== acme)!;
    expect(amounts(other)).toEqual(['0.00', '0.00', '0.00', '1500.00', '0.00', '1500.00']);
    expect(amounts(res.body.totals[0])).toEqual([
      '6000.00',
      '6000.00',
      '4000.00',
      '1500.00',
      '6000.00',
      '23500.00',
    ]);
  });

  it('narrows every view by customer, owner and pipeline, and refuses a filter it cannot read', async () => {
    const { tenant, factory } = seeded;
    const aging = await tenant.get('/portfolio/aging');
    const acme = (aging.body.customers as { customerId: string; customerName: string }[]).find((c) =>
      c.customerName.startsWith('Acme'),
    )!;
    const only = await tenant.get(`/portfolio/aging?customerId=${acme.customerId}`);
    expect(only.body.customers).toHaveLength(1);
    const owner = factory.properties.hubspot_owner_id!;
    const mine = await tenant.get(`/portfolio?ownerId=${owner}&pipelineId=default`);
    expect(mine.status).toBe(200);
    const counted = (mine.body.byStatus as { count: number }[]).reduce((n, r) => n + r.count, 0);
    expect(counted).toBe(12);
    const nobody = await tenant.get('/portfolio/forecast?ownerId=999');
    expect(nobody.body.currencies).toEqual([]);
    const bad = await tenant.get('/portfolio/aging?customerId=acme&colour=red');
    expect(bad.status).toBe(422);
    expect(JSON.stringify(bad.body)).toContain('customerId');
    expect(JSON.stringify(bad.body)).toContain('colour');
  });
});
