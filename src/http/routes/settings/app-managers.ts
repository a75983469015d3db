import { Router } from 'express';
import { z } from 'zod';
import type { AppContext } from '../../../context.ts';
import { portalOf } from '../../../tenants/repository.ts';
import { updateSettings } from '../../../tenants/settings.ts';
import { callerOf } from '../../auth.ts';
import { HttpProblem } from '../../problem.ts';
import { body } from '../../validate.ts';

const AppManagers = z.strictObject({
  roleIds: z.array(z.string().regex(/^\d{1,20}$/, 'must be a HubSpot role id')).max(50),
});

/**
 * Who besides the portal's super admins may manage the app: users of the HubSpot roles named here.
 * The portal's roles come from HubSpot; a role id it does not have is refused.
 */
export function appManagerRoutes(ctx: AppContext): Router {
  const router = Router();
  router.get('/settings/app-managers', async (_req, res) => {
    const { tenant } = callerOf(res);
    const roles = await ctx.hubspot.roles(portalOf(tenant), { waitMs: 5000 });
    const chosen = tenant.settings.appManagerRoleIds ?? [];
    res.json({ roles: roles.map((r) => ({ ...r, mayManage: chosen.includes(r.id) })) });
  });
  router.put('/settings/app-managers', async (req, res) => {
    const caller = callerOf(res);
    const { roleIds } = body(req, AppManagers);
    const known = new Set(
      (await ctx.hubspot.roles(portalOf(caller.tenant), { waitMs: 5000 })).map((r) => r.id),
    );
    const issues = roleIds.flatMap((id, i) =>
      known.has(id)
        ? []
        : [
            {
              path: `roleIds[${i}]`,
              code: 'unknown_role',
              message: `roleIds[${i}]: HubSpot portal ${caller.tenant.portalId} has no role ${id}`,
            },
          ],
    );
    if (issues.length)
      throw new HttpProblem('invalid_request', issues.map((i) => i.message).join('; '), issues);
    const settings = await updateSettings(caller.db, caller.tenant, {
      appManagerRoleIds: [...new Set(roleIds)],
    });
    ctx.logger.info({ tenantId: caller.tenant.id, actor: caller.actor, roleIds }, 'app managers changed');
    res.json({ roleIds: settings.appManagerRoleIds ?? [] });
  });
  return router;
}
