import { type Request, Router } from 'express';
import { z } from 'zod';
import { receivablesAging } from '../../../billing/aging.ts';
import { cashForecast, forecastWeek } from '../../../billing/forecast.ts';
import { portfolio } from '../../../billing/portfolio.ts';
import type { AppContext } from '../../../context.ts';
import { CalendarDate, Currency } from '../../../domain/values.ts';
import { mintSignInLink } from '../../../tenants/sign-in-links.ts';
import { callerOf, emailOf } from '../../auth.ts';
import { HttpProblem } from '../../problem.ts';

const HubSpotId = (what: string) =>
  z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,64}$/, `must be a HubSpot ${what} id`)
    .optional();

/** The filters every portfolio view takes, from the query string; empty values mean "all". */
export const PortfolioQuery = z.strictObject({
  currency: Currency.optional(),
  ownerId: HubSpotId('owner'),
  pipelineId: HubSpotId('pipeline'),
  customerId: z
    .string()
    .regex(/^\d{1,20}$/, 'must be a QuickBooks customer id')
    .optional(),
});

export const PORTFOLIO_FILTERS = Object.keys(PortfolioQuery.shape);

/** `others`: query parameters of the caller's own (a page's notice), not filters. */
export function portfolioFilters(req: Request, others: readonly string[] = []) {
  const query = Object.fromEntries(
    Object.entries(req.query).filter(([k, v]) => !others.includes(k) && v !== ''),
  );
  return PortfolioQuery.parse(query);
}

/** The portfolio across deals, the cash-flow forecast and receivables aging, each with the same filters. */
export function portfolioRoutes(ctx: AppContext): Router {
  const router = Router();
  router.get('/portfolio', async (req, res) => {
    const { db, tenant } = callerOf(res);
    res.json(await portfolio(db, tenant.id, portfolioFilters(req), ctx.clock.today()));
  });
  router.get('/portfolio/forecast', async (req, res) => {
    const { db, tenant } = callerOf(res);
    res.json(await cashForecast(db, tenant.id, portfolioFilters(req), ctx.clock.today()));
  });
  /** The deals behind one week of the forecast (`currency` names whose chart the week is in). */
  router.get('/portfolio/forecast/weeks/:week', async (req, res) => {
    const { db, tenant } = callerOf(res);
    const { week } = z.object({ week: CalendarDate }).parse(req.params);
    const { currency, ...filters } = portfolioFilters(req);
    if (!currency)
      throw new HttpProblem('invalid_request', 'currency: required (the chart the week belongs to)', [
        { path: 'currency', code: 'required', message: 'currency: required' },
      ]);
    res.json(await forecastWeek(db, tenant.id, week, currency, filters, ctx.clock.today()));
  });
  router.get('/portfolio/aging', async (req, res) => {
    const { db, tenant } = callerOf(res);
    res.json(await receivablesAging(db, tenant.id, portfolioFilters(req), ctx.clock.today()));
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
