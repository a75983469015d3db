import { expect } from 'vitest';
import type { Billing } from '../support/billing.ts';

type Tenant = Awaited<ReturnType<Billing['connectedTenant']>>;

/** The consulting template's four milestones: each deal's schedule bills four portions. */
export const CONSULTING = ['assessment', 'analysis', 'recommendations', 'roadmap'];

/** `count` of the tenant's seeded deals, each with a consulting schedule. */
export async function scheduledDeals(b: Billing, tenant: Tenant, count: number): Promise<string[]> {
  const deals = b.hs
    .listDeals(tenant.portal)
    .slice(0, count)
    .map((d) => d.id);
  expect(deals).toHaveLength(count);
  for (const dealId of deals) {
    const made = await tenant.post(`/deals/${dealId}/schedule/template`, {
      template: 'consulting',
      startDate: '2026-12-01',
    });
    expect(made.status).toBe(201);
  }
  return deals;
}

/** One signed acceptance per milestone of each deal, all at once; answers how many were accepted. */
export async function acceptEvery(
  tenant: Tenant,
  deals: string[],
  prefix: string,
  extra: Record<string, unknown> = {},
): Promise<number> {
  const answers = await Promise.all(
    deals.flatMap((dealId) =>
      CONSULTING.map((key) =>
        tenant.accept({ id: `${prefix}-${dealId}-${key}`, dealId, milestone: { key }, ...extra }),
      ),
    ),
  );
  expect(answers.map((a) => a.status)).toEqual(answers.map(() => 200));
  return answers.length;
}

/** Every ledger row settled as created (none failed), and written back when asked. */
export async function allCreated(
  tenant: Tenant,
  count: number,
  wait: { writtenBack?: boolean; timeoutMs?: number } = {},
) {
  const rows = await tenant.settled(count, { timeoutMs: 60_000, ...wait });
  expect(rows.filter((r) => r.push.status !== 'created').map((r) => r.push.errorMessage)).toEqual([]);
  return rows;
}
