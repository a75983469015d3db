import express, { type NextFunction, type Request, type Response } from 'express';
import { accountInfoRouter } from './account.ts';
import { batchAssociationsRouter, objectAssociationsRouter } from './associations.ts';
import type { InjectedFault, SandboxContext } from './context.ts';
import { crmObjectsRouter } from './crm.ts';
import { errorBody, sendError } from './errors.ts';
import { oauthRouter } from './oauth.ts';
import { ownersRouter } from './owners.ts';
import { pipelinesRouter } from './pipelines.ts';
import { propertiesRouter } from './properties.ts';
import { TEN_SECONDLY_BODY } from './rate-limit.ts';
import { usersRouter } from './users.ts';

function faultMatches(fault: InjectedFault, path: string): boolean {
  if (fault.match === undefined) return path.startsWith('/crm/');
  return typeof fault.match === 'string' ? path.startsWith(fault.match) : fault.match.test(path);
}

function sendFault(res: Response, fault: InjectedFault): void {
  if (typeof fault.body === 'string') {
    res.status(fault.status).type('html').send(fault.body);
    return;
  }
  if (fault.body !== undefined) {
    res.status(fault.status).json(fault.body);
    return;
  }
  if (fault.status === 429) {
    res.status(429).json({
      ...errorBody(TEN_SECONDLY_BODY.message, undefined),
      errorType: 'RATE_LIMIT',
      policyName: TEN_SECONDLY_BODY.policyName,
    });
    return;
  }
  const message = fault.status >= 500 ? 'internal error' : `injected ${fault.status} response`;
  res.status(fault.status).json(errorBody(message, fault.status >= 500 ? 'INTERNAL_ERROR' : undefined));
}

/** Builds the express app: the HubSpot API host and (for convenience) the app.hubspot.com authorize page. */
export function createApp(ctx: SandboxContext): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);

  app.use((req, res, next) => {
    const at = Date.now();
    res.on('finish', () => {
      const locals = res.locals as { portal?: { id: number }; portalId?: number };
      // originalUrl, because req.path is relative to whichever router handled the request.
      const [path = '', query = ''] = req.originalUrl.split(/\?(.*)/s);
      ctx.state.requestLog.push({
        method: req.method,
        path,
        query,
        portalId: locals.portal?.id ?? locals.portalId,
        status: res.statusCode,
        at,
      });
    });
    next();
  });

  app.use(async (_req, _res, next) => {
    if (ctx.latencyMs > 0) await new Promise((resolve) => setTimeout(resolve, ctx.latencyMs));
    next();
  });

  app.use(async (req, res, next) => {
    const hold = ctx.holds.claim({ method: req.method, path: req.path });
    if (!hold) return next();
    let clientGone = false;
    res.on('close', () => {
      if (!res.writableFinished) clientGone = true;
    });
    if (hold.phase === 'request') {
      await hold.released;
      // Its client went away while the request was held: to HubSpot it never arrived.
      if (!clientGone) next();
      return;
    }
    // Handled as ever; only the answer waits, and is lost when the client is gone by then.
    const end = res.end.bind(res) as (...args: unknown[]) => Response;
    res.end = ((...args: unknown[]) => {
      void hold.released.then(() => !clientGone && end(...args));
      return res;
    }) as Response['end'];
    next();
  });

  app.use((req, res, next) => {
    const fault = ctx.faults.find((f) => f.remaining > 0 && faultMatches(f, req.path));
    if (!fault) return next();
    fault.remaining--;
    if (fault.remaining === 0) ctx.faults.splice(ctx.faults.indexOf(fault), 1);
    sendFault(res, fault);
  });

  app.use(oauthRouter(ctx));

  const json = express.json({ limit: '5mb', type: ['application/json', 'application/*+json'] });
  const objectAssociations = objectAssociationsRouter(ctx);
  const batchAssociations = batchAssociationsRouter(ctx);
  const objects = crmObjectsRouter(ctx);
  const properties = propertiesRouter(ctx);
  const pipelines = pipelinesRouter(ctx);
  // The dated 2026-03 paths (what the app calls) and the numbered ones (what @hubspot/api-client
  // 13.5.0's typed clients call, which the sandbox's own tests use) share handlers.
  app.use(['/crm/v4/objects', '/crm/objects/2026-03'], json, objectAssociations);
  app.use(['/crm/v4/associations', '/crm/associations/2026-03'], json, batchAssociations);
  app.use(['/crm/v3/objects', '/crm/objects/2026-03'], json, objects);
  app.use(['/crm/v3/properties', '/crm/properties/2026-03'], json, properties);
  app.use(['/crm/v3/pipelines', '/crm/pipelines/2026-03'], pipelines);
  app.use('/account-info/2026-03', accountInfoRouter(ctx));
  app.use(['/crm/v3/owners', '/crm/owners/2026-03'], ownersRouter(ctx));
  app.use('/settings/users/2026-03', usersRouter(ctx));

  app.use((req, res) => {
    sendError(res, 404, `Unable to route ${req.method} request to ${req.path}`, 'OBJECT_NOT_FOUND');
  });

  app.use((err: unknown, _req: Request, res: Response, _next: NextFunction) => {
    const e = err as { type?: string; message?: string; status?: number };
    if (e?.type === 'entity.parse.failed') {
      return sendError(res, 400, `Invalid input JSON: ${e.message ?? 'malformed JSON'}`, 'VALIDATION_ERROR');
    }
    if (e?.type === 'entity.too.large')
      return sendError(res, 413, 'Request entity too large', 'VALIDATION_ERROR');
    sendError(res, 500, `internal error: ${e?.message ?? String(err)}`, 'INTERNAL_ERROR');
  });

  return app;
}
