import { Router } from 'express';
import type { AppContext } from '../../../context.ts';
import { mintSignInLink } from '../../../tenants/sign-in-links.ts';
import { callerOf, emailOf } from '../../auth.ts';

/**
 * The QuickBooks part of the settings page. Intuit's consent page needs a browser window with our
 * cookies, which `hubspot.fetch` cannot give: the page opens a short-lived, single-use link that
 * signs that window in and sends it on to Intuit (GET /oauth/quickbooks/start).
 */
export function quickbooksSettingsRoutes(ctx: AppContext): Router {
  const router = Router();

  router.post('/settings/quickbooks/connect-link', async (_req, res) => {
    const { db, tenant, actor } = callerOf(res);
    const link = await mintSignInLink(db, {
      tenantId: tenant.id,
      purpose: 'quickbooks_connect',
      actor,
      userEmail: emailOf(actor),
    });
    res.status(201).json({
      url: `${ctx.config.publicUrl}/oauth/quickbooks/start?link=${link.token}`,
      expiresAt: link.expiresAt.toISOString(),
    });
  });

  router.post('/settings/quickbooks/disconnect', async (_req, res) => {
    const { tenant, actor } = callerOf(res);
    const { realmId } = await ctx.quickbooks.disconnect(tenant.id);
    ctx.logger.info({ tenantId: tenant.id, realmId, actor }, 'QuickBooks company disconnected');
    res.json({ disconnected: true, realmId });
  });

  /** The company's active items and tax codes, for the invoice defaults. */
  router.get('/settings/quickbooks/choices', async (_req, res) => {
    res.json(await ctx.quickbooks.invoiceChoices(callerOf(res).tenant.id));
  });

  return router;
}
