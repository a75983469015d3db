import { Router } from 'express';
import { z } from 'zod';
import { portfolio } from '../../../billing/portfolio.ts';
import type { AppContext } from '../../../context.ts';
import { Currency } from '../../../domain/values.ts';
import { mintSignInLink } from '../../../tenants/sign-in-links.ts';
import { callerOf, emailOf } from '../../auth.ts';

const Filters = z.strictObject({
  currency: Currency.optional(),
  customerId: z
    .string()
    .regex(/^\d{1,20}$/, 'must be a QuickBooks customer id')
    .optional(),
});

/** The portfolio across deals: by status and currency, money received and owed, what needs a person. */
export function portfolioRoutes(ctx: AppContext): Router {
  const router = Router();
  router.get('/portfolio', async (req, res) => {
    // The card API's signed query carries who asks; those are not filters.
    const { portalId: _p, userId: _u, userEmail: _e, appId: _a, permissions: _s, ...query } = req.query;
    const caller = callerOf(res);
    res.json(await portfolio(caller.db, caller.tenant.id, Filters.parse(query)));
  });
  /** "Open portfolio" in the card or settings: a single-use link (5 minutes) that signs a browser in. */
  router.post('/portfolio-link', async (_req, res) => {
    const { db, tenant, actor } = callerOf(res);
    const link = await mintSignInLink(db, {
      tenantId: tenant.id,
      purpose: 'portfolio',
      actor,
      userEmail: emailOf(actor),
    });
    res.status(201).json({
      url: `${ctx.config.publicUrl}/app/sign-in?link=${link.token}`,
      expiresAt: link.expiresAt.toISOString(),
    });
  });
  return router;
}
