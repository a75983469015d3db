import { Router } from 'express';
import { z } from 'zod';
import type { AppContext } from '../../../context.ts';
import {
  createShareLink,
  listShareLinks,
  revokeShareLink,
  SHARE_LINK_MAX_DAYS,
} from '../../../tenants/share-links.ts';
import { callerOf } from '../../auth.ts';
import { HttpProblem } from '../../problem.ts';
import { body, params } from '../../validate.ts';

const NewLink = z.strictObject({
  label: z.string().trim().min(1, 'name whom the link is for').max(100),
  days: z.int().min(1).max(SHARE_LINK_MAX_DAYS).default(30),
});
const LinkId = z.object({ id: z.string().regex(/^shl_[A-Za-z0-9_-]{1,60}$/, 'is not a share link id') });

/** Read-only portfolio links for bookkeepers without a HubSpot seat: made (shown once), listed, revoked. */
export function shareLinkRoutes(ctx: AppContext): Router {
  const router = Router();

  router.get('/settings/share-links', async (_req, res) => {
    const { db, tenant } = callerOf(res);
    res.json({ shareLinks: await listShareLinks(db, tenant.id) });
  });

  router.post('/settings/share-links', async (req, res) => {
    const input = body(req, NewLink);
    const { db, tenant, actor } = callerOf(res);
    const { token, link } = await createShareLink(db, { tenantId: tenant.id, ...input, createdBy: actor });
    ctx.logger.info({ tenantId: tenant.id, actor, shareLinkId: link.id }, 'share link created');
    res.status(201).json({ ...link, url: `${ctx.config.publicUrl}/app/shared?link=${token}` });
  });

  router.delete('/settings/share-links/:id', async (req, res) => {
    const { id } = params(req, LinkId);
    const { db, tenant, actor } = callerOf(res);
    const link = await revokeShareLink(db, tenant.id, id);
    if (!link) throw new HttpProblem('not_found', `no active share link ${id}`);
    ctx.logger.info({ tenantId: tenant.id, actor, shareLinkId: id }, 'share link revoked');
    res.json(link);
  });

  return router;
}
