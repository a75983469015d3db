import { Router } from 'express';
import { authed, hasScope, requireBearer } from './auth.ts';
import type { SandboxContext } from './context.ts';
import { sendError, validationError } from './errors.ts';
import type { Portal, PortalUser } from './types.ts';

/**
 * HubSpot's user-provisioning API, dated 2026-03 (HubSpot-public-api-spec-collection@9989379,
 * PublicApiSpecs/Settings/User Provisioning/Rollouts/144927/2026-03/userProvisioning.json):
 * `GET /settings/users/2026-03/{userId}` (`idProperty` USER_ID or EMAIL) answers PublicUserMarch2026
 * (required: id, email, roleIds, superAdmin; every id a string), `GET /settings/users/2026-03`
 * pages PublicUser by `after`, `GET /settings/users/2026-03/roles` lists the portal's roles. Each
 * read needs `settings.users.read` or `crm.objects.users.read`. The spec gives no status for an
 * unknown user, only its generic Error; this answers 404 OBJECT_NOT_FOUND, as HubSpot's other
 * by-id reads do.
 */
export function usersRouter(ctx: SandboxContext): Router {
  const router = Router();
  const READ = ['settings.users.read', 'crm.objects.users.read'];
  router.use(requireBearer(ctx), (_req, res, next) => {
    if (hasScope(ctx, res, READ)) next();
  });
  router.get('/roles', (_req, res) => {
    res.json({ results: authed(res).portal.roles.map((r) => ({ ...r, requiresBillingWrite: false })) });
  });
  router.get('/', (req, res) => {
    const limit = Number(req.query.limit ?? 100);
    if (!Number.isInteger(limit) || limit < 1 || limit > 100)
      return validationError(res, `limit must be between 1 and 100, got ${String(req.query.limit)}`);
    const start = Number(req.query.after ?? 0);
    const all = authed(res).portal.users;
    const next = start + limit < all.length ? String(start + limit) : undefined;
    res.json({
      results: all.slice(start, start + limit).map((u) => ({ ...publicUser(u), seatNames: [] })),
      ...(next ? { paging: { next: { after: next } } } : {}),
    });
  });
  router.get('/:userId', (req, res) => {
    const by = String(req.query.idProperty ?? 'USER_ID');
    if (by !== 'USER_ID' && by !== 'EMAIL')
      return validationError(res, `idProperty must be one of USER_ID, EMAIL, got ${by}`);
    const { portal } = authed(res);
    const user = findUser(portal, req.params.userId, by);
    if (!user) return sendError(res, 404, `User with id ${req.params.userId} not found`, 'OBJECT_NOT_FOUND');
    res.json(publicUser(user));
  });
  return router;
}

function findUser(portal: Portal, key: string, by: 'USER_ID' | 'EMAIL'): PortalUser | undefined {
  return portal.users.find((u) =>
    by === 'EMAIL' ? u.email.toLowerCase() === key.toLowerCase() : String(u.id) === key,
  );
}

const publicUser = (u: PortalUser) => ({
  id: String(u.id),
  email: u.email,
  firstName: u.firstName,
  lastName: u.lastName,
  roleIds: u.roleIds,
  ...(u.roleIds[0] ? { roleId: u.roleIds[0] } : {}),
  superAdmin: u.superAdmin,
  secondaryTeamIds: [],
  sendWelcomeEmail: false,
});
