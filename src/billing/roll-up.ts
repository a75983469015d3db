import { portalOf, requireTenant } from '../tenants/repository.ts';
import type { BillingDeps } from './deps.ts';
import { dealBillingSummary } from './write-back.ts';

/**
 * The deal's billing properties in HubSpot, from the database as it stands when this runs: a burst
 * of payments on one deal, collapsed into one job, costs one HubSpot call.
 */
export async function rollUpDeal(deps: BillingDeps, tenantId: string, dealId: string): Promise<string> {
  const tenant = await requireTenant(deps.db, tenantId);
  const summary = await dealBillingSummary(deps.db, tenantId, dealId);
  const written = await deps.hubspot.writeBillingSummary(portalOf(tenant), dealId, summary);
  return written;
}
