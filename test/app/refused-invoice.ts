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
  return { tenant, deal, link: await portfolioLink(b, tenant.portal), fix: () => setting('{}') };
}

/** What "Open portfolio" in the card gives a HubSpot user: a single-use sign-in link. */
export async function portfolioLink(b: Billing, portal: number): Promise<string> {
  b.hs.addUser(portal, { id: 8, email: 'bo@agency.example' });
  const minted = await b.hs.hubspotFetch(`${b.t.ctx.config.publicUrl}/card/v1/portfolio-link`, {
    method: 'POST',
    body: {},
    as: { portalId: portal, userId: 8 },
  });
  expect(minted.status).toBe(201);
  return ((await minted.json()) as { url: string }).url;
}

/** A card-API call from the settings page by the portal's super admin (who installed the app). */
export function adminCall(b: Billing, portal: number, method: string, path: string, body?: unknown) {
  return b.hs.hubspotFetch(`${b.t.ctx.config.publicUrl}/card/v1${path}`, {
    method,
    body,
    as: { portalId: portal },
  });
}
