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

const RECENT_DEAL_S = 300;

/**
 * The deal as HubSpot had it at most five minutes ago, shared by every process. Invoice pushes
 * read the billing party through this: three HubSpot calls per invoice would make HubSpot's 110
 * requests per 10 s, not Intuit's 500 a minute, the limit of a backlog.
 */
export async function recentDealOf(ctx: AppContext, tenant: Tenant, dealId: string): Promise<Deal> {
  const key = `hubspot:deal:${tenant.id}:${dealId}`;
  const hit = await ctx.redis.get(key);
  if (hit) return JSON.parse(hit) as Deal;
  const deal = await dealOf(ctx, tenant, dealId);
  await ctx.redis.set(key, JSON.stringify(deal), 'EX', RECENT_DEAL_S);
  return deal;
}
