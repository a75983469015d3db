import { Router } from 'express';
import type { AppContext } from '../../../context.ts';
import { callerOf } from '../../auth.ts';
import { endTenantSessions } from '../../session.ts';

/** "End every portfolio session": each browser signed in to the tenant's pages must sign in again. */
export function sessionRoutes(ctx: AppContext): Router {
  const router = Router();
  router.post('/settings/sessions/end', async (_req, res) => {
    const { db, tenant, actor } = callerOf(res);
    const ended = await endTenantSessions(db, tenant.id);
    ctx.logger.info({ tenantId: tenant.id, actor, ended }, 'portfolio sessions ended');
    res.json({ ended });
  });
  return router;
}
