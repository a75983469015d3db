import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { remindOverdue } from '../../src/billing/reminders.ts';
import { addDays } from '../../src/domain/dates.ts';
import { invoiceReminders, tenants } from '../../src/store/schema.ts';
import { updateSettings } from '../../src/tenants/settings.ts';
import { type Billing, startBilling } from '../support/billing.ts';

let b: Billing;
beforeAll(async () => {
  b = await startBilling();
});
afterAll(() => b?.close());

const POLICY = { enabled: true, firstAfterDays: 3, everyDays: 7, maxReminders: 3, excludedCustomerIds: [] };

/** A tenant with the policy on and an invoice that fell due `daysAgo` days ago (net 30). */
async function overdueInvoice(keys: string[], daysAgo = 10) {
  const tenant = await b.connectedTenant();
  const row = (await b.t.database.db.select().from(tenants).where(eq(tenants.id, tenant.tenant.id)))[0]!;
  await updateSettings(b.t.database.db, row, { reminders: POLICY });
  const deal = tenant.dealNamed('Acme Widgets – Factory Expansion');
  await tenant.post(`/deals/${deal.id}/schedule/template`, { template: 'software', startDate: '2026-09-01' });
  const acceptedAt = new Date(Date.now() - (30 + daysAgo) * 86_400_000).toISOString();
  for (const key of keys)
    await tenant.accept({
      id: `od-${key}-${tenant.portal}`,
      dealId: deal.id,
      milestone: { key },
      acceptedAt,
    });
  const pushes = (await tenant.settled(keys.length)).map((r) => r.push);
  const fresh = (await b.t.database.db.select().from(tenants).where(eq(tenants.id, tenant.tenant.id)))[0]!;
  return { tenant, fresh, deal, pushes };
}

describe('overdue reminders', () => {
  it("two workers on a clock under test control send exactly the policy's reminders: QuickBooks email and a HubSpot task each", async () => {
    const { tenant, fresh, deal, pushes } = await overdueInvoice(['discovery']);
    const push = pushes[0]!;
    const due = push.dueDate!;
    const emails = () =>
      b.qbo.sentEmails.filter((e) => e.realmId === tenant.realmId && e.invoiceId === push.qboInvoiceId);
    const run = async (day: number) => {
      // Two workers at once, as the sweepers of two processes would queue them.
      const [a, c] = await Promise.all([
        remindOverdue(b.t.ctx, fresh, addDays(due, day)),
        remindOverdue(b.t.ctx, fresh, addDays(due, day)),
      ]);
      return [...a, ...c];
    };
    const sentBefore = emails().length;
    expect(await run(2)).toEqual([]);
    expect((await run(3)).filter((o) => o.endsWith('sent'))).toHaveLength(1);
    expect(await run(5)).toEqual([]);
    expect((await run(10)).filter((o) => o.endsWith('sent'))).toHaveLength(1);
    expect((await run(17)).filter((o) => o.endsWith('sent'))).toHaveLength(1);
    expect(await run(24)).toEqual([]);
    expect(await run(60)).toEqual([]);

    expect(emails().length - sentBefore).toBe(3);
    const tasks = b.hs.tasksFor(tenant.portal, deal.id);
    expect(tasks).toHaveLength(3);
    expect(tasks[0]!.properties.hs_task_subject).toMatch(/^Overdue: invoice MB-\d+ \(USD 25,000\.00\)$/);
    const rows = await b.t.database.db
      .select()
      .from(invoiceReminders)
      .where(eq(invoiceReminders.pushId, push.id));
    expect(rows.map((r) => [r.step, r.status]).sort()).toEqual([
      [0, 'sent'],
      [1, 'sent'],
      [2, 'sent'],
    ]);
  }, 90_000);

  it('never reminds an invoice paid in QuickBooks, even before the app heard of the payment', async () => {
    const { tenant, fresh, deal, pushes } = await overdueInvoice(['discovery']);
    const push = pushes[0]!;
    expect((await remindOverdue(b.t.ctx, fresh, addDays(push.dueDate!, 3)))[0]).toMatch(/sent$/);
    // Paid in QuickBooks; no webhook reached the app (none is configured).
    b.qbo.recordPayment(tenant.realmId, push.qboInvoiceId!, 25_000);
    const later = await remindOverdue(b.t.ctx, fresh, addDays(push.dueDate!, 10));
    expect(later).toEqual([expect.stringContaining('skipped: no longer owed')]);
    expect(await remindOverdue(b.t.ctx, fresh, addDays(push.dueDate!, 17))).toEqual([]);
    expect(b.hs.tasksFor(tenant.portal, deal.id)).toHaveLength(1);
    expect(
      b.qbo.sentEmails.filter((e) => e.invoiceId === push.qboInvoiceId && e.realmId === tenant.realmId),
    ).toHaveLength(1);
  }, 60_000);

  it('leaves excluded customers and tenants with the policy off alone', async () => {
    const { fresh, pushes } = await overdueInvoice(['discovery']);
    const push = pushes[0]!;
    const excluded = {
      ...fresh,
      settings: { ...fresh.settings, reminders: { ...POLICY, excludedCustomerIds: [push.qboCustomerId!] } },
    };
    expect(await remindOverdue(b.t.ctx, excluded, addDays(push.dueDate!, 3))).toEqual([]);
    const off = { ...fresh, settings: { ...fresh.settings, reminders: { ...POLICY, enabled: false } } };
    expect(await remindOverdue(b.t.ctx, off, addDays(push.dueDate!, 3))).toEqual([]);
  }, 60_000);
});
