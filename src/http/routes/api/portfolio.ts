import { Router } from 'express';
import { z } from 'zod';
import { portfolio } from '../../../billing/portfolio.ts';
import { Currency } from '../../../domain/values.ts';
import { callerOf } from '../../auth.ts';

const Filters = z.strictObject({
  currency: Currency.optional(),
  customerId: z
    .string()
    .regex(/^\d{1,20}$/, 'must be a QuickBooks customer id')
    .optional(),
});

/** The portfolio across deals: by status and currency, money received and owed, what needs a person. */
export function portfolioRoutes(): Router {
  const router = Router();
  router.get('/portfolio', async (req, res) => {
    // The card API's signed query carries who asks; those are not filters.
    const { portalId: _p, userId: _u, userEmail: _e, appId: _a, permissions: _s, ...query } = req.query;
    const caller = callerOf(res);
    res.json(await portfolio(caller.db, caller.tenant.id, Filters.parse(query)));
  });
  return router;
}
