import { Router } from 'express';
import { z } from 'zod';
import type { AppContext } from '../../../context.ts';
import { createApiKey, listApiKeys, revokeApiKey } from '../../../tenants/repository.ts';
import { callerOf } from '../../auth.ts';
import { body, params } from '../../validate.ts';

const NewKey = z.strictObject({ name: z.string().trim().min(1).max(100) });
const KeyId = z.object({ id: z.string().regex(/^key_[A-Za-z0-9_-]{1,60}$/, 'is not an API key id') });

const keyView = (k: Awaited<ReturnType<typeof listApiKeys>>[number]) => ({
  ...k,
  createdAt: k.createdAt.toISOString(),
  revokedAt: k.revokedAt?.toISOString() ?? null,
});

/** API keys for the tenant's own systems: made here (shown once), listed, revoked. */
export function apiKeyRoutes(ctx: AppContext): Router {
  const router = Router();

  router.get('/settings/api-keys', async (_req, res) => {
    const { db, tenant } = callerOf(res);
    res.json({ apiKeys: (await listApiKeys(db, tenant.id)).map(keyView) });
  });

  router.post('/settings/api-keys', async (req, res) => {
    const { name } = body(req, NewKey);
    const { db, tenant, actor } = callerOf(res);
    const created = await createApiKey(db, tenant.id, name);
    ctx.logger.info({ tenantId: tenant.id, actor, keyId: created.id }, 'API key created');
    res.status(201).json({ id: created.id, name, key: created.key });
  });

  router.delete('/settings/api-keys/:id', async (req, res) => {
    const { id } = params(req, KeyId);
    const { db, tenant, actor } = callerOf(res);
    await revokeApiKey(db, tenant.id, id);
    ctx.logger.info({ tenantId: tenant.id, actor, keyId: id }, 'API key revoked');
    res.json({ revoked: true, id });
  });

  return router;
}
