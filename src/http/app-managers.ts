import type { AppContext } from '../context.ts';
import { DomainError } from '../domain/errors.ts';
import { portalOf, type Tenant } from '../tenants/repository.ts';
import { HttpProblem } from './problem.ts';

/** A person waits on this: past it, they are told HubSpot is busy rather than kept waiting. */
const HUBSPOT_WAIT_MS = 5000;

/**
 * Who may change the app's settings, templates, keys and links in a portal: its super admins, and
 * users of the roles an admin named (`appManagerRoleIds`), as HubSpot's user provisioning has them
 * now. Nothing the browser sends counts: a user HubSpot cannot vouch for is refused, and told why.
 */
export async function confirmAppManager(ctx: AppContext, tenant: Tenant, userId: string): Promise<void> {
  const user = await ctx.hubspot
    .user(portalOf(tenant), userId, { waitMs: HUBSPOT_WAIT_MS })
    .catch((error) => {
      throw refusalFor(error, tenant, userId);
    });
  if (user.superAdmin) return;
  const roles = tenant.settings.appManagerRoleIds ?? [];
  if (user.roleIds.some((r) => roles.includes(r))) return;
  throw new HttpProblem(
    'forbidden',
    `only super admins of HubSpot portal ${tenant.portalId}${
      roles.length ? ' and users of the roles named in the app settings' : ''
    } can change the app's settings, templates, keys and links; ask a super admin`,
  );
}

function refusalFor(error: unknown, tenant: Tenant, userId: string): Error {
  if (!(error instanceof DomainError)) return error as Error;
  if (error.code === 'hubspot_not_found')
    return new HttpProblem('forbidden', `HubSpot does not know user ${userId} in portal ${tenant.portalId}`);
  if (error.code === 'hubspot_forbidden')
    return new HttpProblem(
      'forbidden',
      "HubSpot did not let the app read the portal's users, so it cannot confirm who may manage it: a super admin can reinstall the app and grant the optional permission to view users (settings.users.read)",
    );
  return error;
}
