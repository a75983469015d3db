import { eq } from 'drizzle-orm';
import { expect } from 'vitest';
import { addDays, today } from '../../src/domain/dates.ts';
import { weekOf } from '../../src/domain/forecast.ts';
import { qboPaymentLinks } from '../../src/store/schema.ts';
import type { Billing } from '../support/billing.ts';
import { eventually } from '../support/net.ts';

const milestone = (name: string, amount: string, plannedDate: string, extra: object = {}) => ({
  name,
  deliverable: `${name} delivered`,
  acceptanceCriteria: `${name} signed off by the client`,
  amount,
  plannedDate,
  ...extra,
});

/**
 * A USD portfolio whose weeks and ages are known, relative to today:
 * - "Acme Widgets – Factory Expansion", due on receipt: 5,000 planned in weeks 2, 8, 11 and 14 from
 *   this one and 3 × 20,000 in week 5 — a cluster against a median week of 5,000, empty weeks between;
 * - "Acme Widgets – Annual Maintenance", due on receipt, 4 × 6,000 accepted 10, 45 and 100 days ago
 *   and today on net 30: one invoice in each of 1–30, 31–60, 90+ and current; 2,000 of the 45-day
 *   one paid in QuickBooks 3 weeks ago (its balance 4,000, a receipt in a past week);
 * - "Website Refresh – Freelance", 1,500 accepted 70 days ago: 61–90, another customer.
 */
export async function seededPortfolio(b: Billing) {
  b.quickbooksWebhooks('cloudevents');
  const tenant = await b.connectedTenant();
  const now = today();
  const week = (n: number, day = 0) => addDays(weekOf(now), 7 * n + day);
  const ago = (days: number) => new Date(Date.now() - days * 86_400_000).toISOString();

  const factory = tenant.dealNamed('Acme Widgets – Factory Expansion');
  const made = await tenant.put(`/deals/${factory.id}/schedule`, {
    paymentTerms: 'due_on_receipt',
    milestones: [
      milestone('Design', '5000', week(2, 1)),
      milestone('Steel frame', '20000', week(5, 0)),
      milestone('Roof', '20000', week(5, 2)),
      milestone('Fit-out', '20000', week(5, 4)),
      milestone('Handover', '5000', week(8, 1)),
      milestone('Snagging', '5000', week(11, 1)),
      milestone('Warranty', '5000', week(14, 1)),
    ],
  });
  expect(made.status, JSON.stringify(made.body)).toBe(200);

  const maintenance = tenant.dealNamed('Acme Widgets – Annual Maintenance');
  const quarters = ['Q1', 'Q2', 'Q3', 'Q4'].map((q, i) =>
    milestone(`${q} service`, '6000', week(-10 + 3 * i), q === 'Q4' ? { paymentTerms: 'net_30' } : {}),
  );
  expect(
    (
      await tenant.put(`/deals/${maintenance.id}/schedule`, {
        paymentTerms: 'due_on_receipt',
        milestones: quarters,
      })
    ).status,
  ).toBe(200);
  const website = tenant.dealNamed('Website Refresh');
  expect(
    (
      await tenant.put(`/deals/${website.id}/schedule`, {
        paymentTerms: 'due_on_receipt',
        milestones: [milestone('New site live', '1500', week(-12))],
      })
    ).status,
  ).toBe(200);

  const accepted: [string, string, string][] = [
    [maintenance.id, 'q1-service', ago(10)],
    [maintenance.id, 'q2-service', ago(45)],
    [maintenance.id, 'q3-service', ago(100)],
    [maintenance.id, 'q4-service', ago(0)],
    [website.id, 'new-site-live', ago(70)],
  ];
  for (const [dealId, key, acceptedAt] of accepted) {
    const res = await tenant.accept({ id: `seed-${dealId}-${key}`, dealId, milestone: { key }, acceptedAt });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
  }
  const pushes = await tenant.settled(5, { writtenBack: true });
  expect(pushes.map((p) => p.push.status)).toEqual(Array(5).fill('created'));

  const q2 = pushes.find((p) => p.milestone.key === 'q2-service')!;
  b.qbo.recordPayment(tenant.realmId, q2.push.qboInvoiceId!, 2000, addDays(now, -21));
  // Both events: the invoice's new balance, and the payment with its day (the forecast's receipt).
  await eventually(
    async () => ({
      pushes: await tenant.pushesOf(),
      links: await b.t.database.db
        .select()
        .from(qboPaymentLinks)
        .where(eq(qboPaymentLinks.tenantId, tenant.tenant.id)),
    }),
    ({ pushes, links }) =>
      pushes.some((r) => r.milestone.key === 'q2-service' && r.push.paidAmount === 200_000) &&
      links.some((l) => l.amount === 200_000),
    30_000,
  );
  return { tenant, factory, maintenance, website, week };
}
