import { expect } from 'vitest';
import type { Billing } from '../support/billing.ts';

/**
 * A tenant whose first invoice QuickBooks refused (an income item it does not know), and the
 * portfolio sign-in link a HubSpot user gets from "Open portfolio". `fix()` repairs the setting.
 */
export async function refusedInvoice(b: Billing) {
  const tenant = await b.connectedTenant();
  const deal = tenant.dealNamed('Acme Widgets – Factory Expansion');
  await tenant.post(`/deals/${deal.id}/schedule/template`, { template: 'software', startDate: '2026-12-01' });
  const setting = (json: string) =>
    b.t.database.db.execute(`update tenants set settings = '${json}' where id = '${tenant.tenant.id}'`);
  await setting('{"incomeItemId":"999999"}');
  await tenant.accept({ id: `refused-${tenant.portal}`, dealId: deal.id, milestone: { key: 'discovery' } });
  expect((await tenant.settled(1))[0]!.push.status).toBe('failed');
  const minted = await b.hs.hubspotFetch(
    `${b.t.ctx.config.publicUrl}/card/v1/portfolio-link?portalId=${tenant.portal}&userId=8&userEmail=bo%40agency.example`,
    { method: 'POST', body: {} },
  );
  expect(minted.status).toBe(201);
  const { url } = (await minted.json()) as { url: string };
  return { tenant, deal, link: url, fix: () => setting('{}') };
}
