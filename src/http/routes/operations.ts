import { createBullBoard } from '@bull-board/api';
import { BullAdapter } from '@bull-board/api/bullAdapter';
import { ExpressAdapter } from '@bull-board/express';
import type express from 'express';
import { type RequestHandler, Router } from 'express';
import type { AppContext } from '../../context.ts';
import { JOBS } from '../../jobs/index.ts';
import { queueDepth, registry } from '../../metrics.ts';
import { safeEqual } from '../../security/crypto.ts';
import { HttpProblem } from '../problem.ts';

const BOARD_PATH = '/admin/queues';

/**
 * The operator's token, as a bearer or as the password of HTTP Basic (so a browser can open the
 * dashboard). Without ADMIN_TOKEN set, nothing opens the operator pages.
 */
function requireAdmin(token: string | undefined): RequestHandler {
  return (req, res, next) => {
    const header = req.header('authorization') ?? '';
    const [scheme, value = ''] = header.split(' ');
    const given =
      scheme?.toLowerCase() === 'bearer'
        ? value
        : scheme?.toLowerCase() === 'basic'
          ? Buffer.from(value, 'base64').toString('utf8').split(':').slice(1).join(':')
          : '';
    if (token && given && safeEqual(given, token)) return next();
    res.setHeader('WWW-Authenticate', 'Basic realm="Milestone Billing operators", charset="UTF-8"');
    throw new HttpProblem(
      'unauthorized',
      token
        ? 'give the operator token (ADMIN_TOKEN) as the password'
        : 'set ADMIN_TOKEN to open the operator pages',
    );
  };
}

/** Prometheus metrics (guarded once ADMIN_TOKEN is set) and the queue dashboard (always guarded). */
export function operationsRoutes(ctx: AppContext): Router {
  const router = Router();
  const admin = requireAdmin(ctx.config.adminToken);

  router.get('/metrics', ctx.config.adminToken ? admin : (_req, _res, next) => next(), async (_req, res) => {
    await Promise.all(
      JOBS.map(async (def) => {
        const counts = await ctx.queues.queue(def).getJobCounts();
        for (const [state, n] of Object.entries(counts)) queueDepth.set({ queue: def.id, state }, n);
      }),
    ).catch((error) => ctx.logger.warn({ err: (error as Error).message }, 'queue depth unavailable'));
    res.type(registry.contentType).send(await registry.metrics());
  });

  // Made on first use: every queue it shows opens its own Redis connections.
  let board: Router | undefined;
  const dashboard: RequestHandler = (req, res, next) => {
    if (!board) {
      const adapter = new ExpressAdapter().setBasePath(BOARD_PATH);
      createBullBoard({
        queues: JOBS.map((def) => new BullAdapter(ctx.queues.queue(def), { readOnlyMode: false })),
        serverAdapter: adapter,
      });
      const app = adapter.getRouter() as express.Express;
      // The dashboard is an express app of its own: it would announce "X-Powered-By: Express".
      app.disable('x-powered-by');
      board = app;
    }
    board(req, res, next);
  };
  router.use(
    BOARD_PATH,
    admin,
    (_req, res, next) => {
      // The dashboard is a script of its own: this one page may run the app's own scripts.
      res.setHeader(
        'Content-Security-Policy',
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; frame-ancestors 'none'; base-uri 'none'",
      );
      next();
    },
    dashboard,
  );
  return router;
}
