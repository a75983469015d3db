import { Router } from 'express';
import { authed, requireBearer } from './auth.ts';
import type { SandboxContext } from './context.ts';

/**
 * `/account-info/2026-03/details`: the portal's settings, among them its company currency (what a
 * deal without `deal_currency_code` is in) and the other currencies it has turned on.
 */
export function accountInfoRouter(ctx: SandboxContext): Router {
  const router = Router();
  router.get('/details', requireBearer(ctx), (_req, res) => {
    const { portal } = authed(res);
    res.json({
      portalId: portal.id,
      accountType: 'STANDARD',
      timeZone: 'US/Eastern',
      companyCurrency: portal.companyCurrency,
      additionalCurrencies: portal.currencies.filter((c) => c !== portal.companyCurrency),
      utcOffset: '-05:00',
      utcOffsetMilliseconds: -18_000_000,
      uiDomain: 'app.hubspot.com',
      dataHostingLocation: 'na1',
    });
  });
  return router;
}
