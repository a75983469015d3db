import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Billing, startBilling } from '../support/billing.ts';

let b: Billing;
beforeAll(async () => {
  b = await startBilling();
});
afterAll(() => b?.close());

type Row = { currency: string; status: string; count: number; amount: { amount: string } };

describe('GET /api/v1/portfolio', () => {
  it('totals by status per currency, never across, and lists what needs a person with why', async () => {
    const tenant = await b.connectedTenant();
    const usd = tenant.dealNamed('Acme Widgets – Factory Expansion');
    const eur = tenant.dealNamed('Müller & Schmidt – Warehouse Retrofit');
    const made = await tenant.post(`/deals/${usd.id}/schedule/template`, {
      template: 'software',
      startDate: '2026-01-01',
    });
    expect(made.status).toBe(201);
    const [, design] = made.body.milestones as { id: string }[];
    const eurSchedule = await tenant.put(`/deals/${eur.id}/schedule`, {
      contractValue: { amount: '5000.00', currency: 'EUR' },
      milestones: [
        {
          name: 'Audit',
          deliverable: 'Audit report',
          acceptanceCriteria: 'Signed',
          percent: '100',
          plannedDate: '2027-06-01',
        },
      ],
    });
    expect(eurSchedule.status).toBe(200);
    // Invoiced 45 days ago on net 30: overdue now.
    const longAgo = new Date(Date.now() - 45 * 86_400_000).toISOString();
    await tenant.accept({
      id: `pf-1-${tenant.portal}`,
      dealId: usd.id,
      milestone: { key: 'discovery' },
      acceptedAt: longAgo,
    });
    await tenant.accept({ id: `pf-2-${tenant.portal}`, dealId: eur.id, milestone: { name: 'Audit' } });
    await tenant.settled(2);
    expect((await tenant.post(`/milestones/${design!.id}/dispute`, { reason: 'Colours wrong' })).status).toBe(
      200,
    );
    await b.t.database.db.execute(
      `update tenants set settings = '{"incomeItemId":"999999"}' where id = '${tenant.tenant.id}'`,
    );
    await tenant.accept({ id: `pf-3-${tenant.portal}`, dealId: usd.id, milestone: { key: 'build' } });
    await tenant.settled(3);

    const all = await tenant.get('/portfolio');
    expect(all.status).toBe(200);
    const cell = (currency: string, status: string) =>
      (all.body.byStatus as Row[]).find((r) => r.currency === currency && r.status === status);
    expect(cell('USD', 'invoiced')).toMatchObject({ count: 1, amount: { amount: '25000.00' } });
    expect(cell('USD', 'invoice_failed')).toMatchObject({ count: 1, amount: { amount: '35000.00' } });
    expect(cell('USD', 'disputed')).toMatchObject({ count: 1 });
    expect(cell('USD', 'planned')).toMatchObject({ count: 1, amount: { amount: '15000.00' } });
    expect(cell('EUR', 'invoiced')).toMatchObject({ count: 1, amount: { amount: '5000.00' } });
    expect(all.body.received).toEqual([
      {
        currency: 'EUR',
        invoiced: { amount: '5000.00', currency: 'EUR' },
        paid: { amount: '0.00', currency: 'EUR' },
        outstanding: { amount: '5000.00', currency: 'EUR' },
        overdue: { amount: '0.00', currency: 'EUR' },
      },
      {
        currency: 'USD',
        invoiced: { amount: '25000.00', currency: 'USD' },
        paid: { amount: '0.00', currency: 'USD' },
        outstanding: { amount: '25000.00', currency: 'USD' },
        overdue: { amount: '25000.00', currency: 'USD' },
      },
    ]);
    const kinds = Object.fromEntries(
      (all.body.needsAttention as { milestone: string; kind: string; reason: string }[]).map((a) => [
        a.milestone,
        [a.kind, a.reason],
      ]),
    );
    expect(kinds.Discovery![0]).toBe('overdue');
    expect(kinds.Discovery![1]).toMatch(
      /^Invoice MB-\d+ was due on \d{4}-\d{2}-\d{2}; USD 25,000\.00 still open$/,
    );
    expect(kinds.Design).toEqual(['disputed', 'The client disputes the deliverable']);
    expect(kinds.Build![0]).toBe('invoice_failed');
    expect(kinds.Build![1]).toContain('Invalid Reference Id');
    expect(kinds.Launch).toEqual([
      'planned_date_passed',
      expect.stringMatching(/^Planned for 2026-\d\d-\d\d/),
    ]);
    expect(kinds.Audit).toBeUndefined();

    const euros = await tenant.get('/portfolio?currency=EUR');
    expect((euros.body.byStatus as Row[]).map((r) => r.currency)).toEqual(['EUR']);
    expect(euros.body.needsAttention).toEqual([]);

    const bad = await tenant.get('/portfolio?currency=EURO&color=red');
    expect(bad.status).toBe(422);
    expect(bad.body.errors.map((e: { path: string }) => e.path).sort()).toEqual(['color', 'currency']);
  }, 60_000);
});
