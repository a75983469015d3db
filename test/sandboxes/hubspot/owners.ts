import { Router } from 'express';
import { authed, hasScope, requireBearer } from './auth.ts';
import type { SandboxContext } from './context.ts';
import { validationError } from './errors.ts';

// Owners report their user's creation time; a fixed value keeps output stable.
const CREATED_AT = '2024-01-15T09:00:00.000Z';

/** `GET /crm/owners/2026-03` (and v3): the portal's owners, paged by `after` like every CRM list. */
export function ownersRouter(ctx: SandboxContext): Router {
  const router = Router();
  router.get('/', requireBearer(ctx), (req, res) => {
    if (!hasScope(ctx, res, ['crm.objects.owners.read'])) return;
    const limit = Number(req.query.limit ?? 100);
    if (!Number.isInteger(limit) || limit < 1 || limit > 500)
      return validationError(res, `limit must be between 1 and 500, got ${String(req.query.limit)}`);
    const start = Number(req.query.after ?? 0);
    const all = authed(res).portal.owners;
    const page = all.slice(start, start + limit);
    const next = start + limit < all.length ? String(start + limit) : undefined;
    res.json({
      results: page.map((o) => ({
        id: o.id,
        email: o.email,
        type: 'PERSON',
        firstName: o.firstName,
        lastName: o.lastName,
        userId: o.userId,
        userIdIncludingInactive: o.userId,
        createdAt: CREATED_AT,
        updatedAt: CREATED_AT,
        archived: false,
      })),
      ...(next ? { paging: { next: { after: next, link: `?after=${next}` } } } : {}),
    });
  });
  return router;
}
