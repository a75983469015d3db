import express from 'express';
import type { AppContext } from '../context.ts';
import { requireApiKey } from './auth.ts';
import { requireCardSignature } from './card-auth.ts';
import { errorHandler, HttpProblem } from './problem.ts';
import { requestLog } from './request-log.ts';
import { milestoneRoutes } from './routes/api/milestones.ts';
import { PORTFOLIO_FILTERS, portfolioRoutes } from './routes/api/portfolio.ts';
import { scheduleRoutes } from './routes/api/schedules.ts';
import { templateRoutes } from './routes/api/templates.ts';
import { agingPageRoutes } from './routes/app/aging.ts';
import { dealPageRoutes } from './routes/app/deal.ts';
import { exportRoutes } from './routes/app/export.ts';
import { forecastPageRoutes } from './routes/app/forecast.ts';
import { portfolioPageRoutes } from './routes/app/portfolio.ts';
import { signInRoutes } from './routes/app/sign-in.ts';
import { healthRoutes } from './routes/health.ts';
import { hubspotOAuthRoutes } from './routes/oauth/hubspot.ts';
import { quickbooksOAuthRoutes } from './routes/oauth/quickbooks.ts';
import { operationsRoutes } from './routes/operations.ts';
import { settingsRoutes } from './routes/settings/index.ts';
import { acceptanceWebhookRoute } from './routes/webhooks/acceptance.ts';
import { hubspotWebhookRoute } from './routes/webhooks/hubspot.ts';
import { quickbooksWebhookRoute } from './routes/webhooks/quickbooks.ts';
import { securityHeaders } from './security.ts';
import { tenantRateLimit } from './tenant-rate-limit.ts';
import { refuseControlCharacters } from './validate.ts';

/** The card routes that take query parameters of their own: the portfolio's filters. */
const cardQueryKeys = (method: string, path: string) =>
  method === 'GET' && /^\/portfolio(\/|$)/.test(path) ? PORTFOLIO_FILTERS : [];

/** The web process's express app; tests drive it with supertest over a real database. */
export function createApp(deps: AppContext) {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', true);
  app.use(requestLog(deps.logger), securityHeaders(), refuseControlCharacters());
  app.use(healthRoutes(deps), operationsRoutes(deps));
  app.use(hubspotWebhookRoute(deps), acceptanceWebhookRoute(deps), quickbooksWebhookRoute(deps));
  app.use(hubspotOAuthRoutes(deps));
  app.use(
    quickbooksOAuthRoutes(deps),
    signInRoutes(deps),
    portfolioPageRoutes(deps),
    forecastPageRoutes(deps),
    agingPageRoutes(deps),
    dealPageRoutes(deps),
    exportRoutes(deps),
  );

  const api = express.Router();
  api.use(express.json({ limit: '1mb' }), refuseControlCharacters());
  const perTenant = tenantRateLimit(deps.redis, deps.config.apiRequestsPerMinute, deps.logger);
  api.use(requireApiKey(deps.database.db), perTenant);
  api.use(templateRoutes(), scheduleRoutes(deps), milestoneRoutes(deps), portfolioRoutes(deps));
  api.use((req) => {
    throw new HttpProblem('not_found', `no route ${req.method} ${req.baseUrl}${req.path}`);
  });
  app.use('/api/v1', api);

  // The same use cases for the HubSpot app card, authenticated by HubSpot's signature instead.
  const card = express.Router();
  card.use(requireCardSignature(deps, cardQueryKeys), perTenant, refuseControlCharacters());
  card.use(
    templateRoutes(),
    scheduleRoutes(deps),
    milestoneRoutes(deps),
    portfolioRoutes(deps),
    settingsRoutes(deps),
  );
  card.use((req) => {
    throw new HttpProblem('not_found', `no route ${req.method} ${req.baseUrl}${req.path}`);
  });
  app.use('/card/v1', card);

  app.use((req) => {
    throw new HttpProblem('not_found', `no route ${req.method} ${req.baseUrl}${req.path}`);
  });
  app.use(errorHandler(deps.logger));
  return app;
}
