import type { AppContext } from '../context.ts';
import type { Tenant } from '../tenants/repository.ts';
import type { HubSpotDeps, Portal } from './client.ts';
import { type Deal, fetchDeal } from './deals.ts';

export function hubspotDeps(ctx: AppContext): HubSpotDeps {
  return { ...ctx, db: ctx.database.db, limiter: ctx.hubspotLimiter };
}

export const portalOf = (tenant: Tenant): Portal => ({ tenantId: tenant.id, portalId: tenant.portalId });

/** The tenant's deal as HubSpot has it now, with its billing party. */
export function dealOf(ctx: AppContext, tenant: Tenant, dealId: string): Promise<Deal> {
  return fetchDeal(hubspotDeps(ctx), portalOf(tenant), dealId);
}
