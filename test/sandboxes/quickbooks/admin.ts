import express, { type NextFunction, type Request, type Response } from 'express';
import { z } from 'zod';
import { QboFault } from './faults.ts';
import type { QuickBooksSandbox } from './server.ts';
import { ENTITY_NAMES, type EntityName } from './types.ts';

const faultSchema = z.object({
  errorRate: z.number().min(0).max(1).optional(),
  latencyMs: z.union([z.number().min(0), z.tuple([z.number().min(0), z.number().min(0)])]).optional(),
  timeoutAfterCreateRate: z.number().min(0).max(1).optional(),
  expireTokens: z.boolean().optional(),
  invalidGrant: z.boolean().optional(),
});

const realmSchema = z.object({
  realmId: z.string().min(1),
  companyName: z.string().min(1),
  country: z.string().min(2),
  homeCurrency: z.string().length(3),
  multiCurrency: z.boolean(),
  duplicateDocNumberCheck: z.boolean().optional(),
});

const webhookSchema = z.object({
  url: z.string().url(),
  verifierToken: z.string().optional(),
  format: z.enum(['legacy', 'cloudevents']),
  entities: z.array(z.string()).optional(),
  batchMs: z.number().min(0).optional(),
  retryDelaysMs: z.array(z.number().min(0)).optional(),
});

type Handler = (req: Request, res: Response) => unknown;

/** Sync/async handler with one error shape: 400 for bad input, 404 for unknown things. */
function route(handler: Handler) {
  return async (req: Request, res: Response, _next: NextFunction) => {
    try {
      const result = await handler(req, res);
      if (!res.headersSent) res.json(result ?? { ok: true });
    } catch (err) {
      if (err instanceof z.ZodError) {
        res.status(400).json({ error: 'invalid_request', issues: err.issues });
      } else if (err instanceof QboFault) {
        res.status(err.status).json(err.toBody());
      } else {
        const message = (err as Error).message ?? String(err);
        res.status(/not found|unknown/i.test(message) ? 404 : 400).json({ error: message });
      }
    }
  };
}

function entityName(raw: string): EntityName {
  const found = ENTITY_NAMES.find((e) => e.toLowerCase() === raw.toLowerCase());
  if (!found) throw new Error(`Unknown entity ${raw}`);
  return found;
}

/**
 * Control plane for tests, benchmarks and the demo running in another process:
 * the same switches as the programmatic API, as JSON over HTTP.
 */
export function adminRouter(sandbox: QuickBooksSandbox): express.Router {
  const r = express.Router();
  r.use(express.json({ limit: '5mb' }));
  const p = (req: Request, name: string) => String(req.params[name]);

  r.get(
    '/faults',
    route(() => sandbox.faults),
  );
  r.post(
    '/faults',
    route((req) => {
      sandbox.setFaults(faultSchema.parse(req.body ?? {}));
      return sandbox.faults;
    }),
  );
  r.delete(
    '/faults',
    route(() => {
      sandbox.clearFaults();
      return sandbox.faults;
    }),
  );
  r.post(
    '/expire-tokens',
    route((req) => {
      const realmId = (req.body as { realmId?: string } | undefined)?.realmId;
      sandbox.expireAccessTokens(realmId);
    }),
  );
  r.post(
    '/consent',
    route((req) => {
      sandbox.setConsent(z.object({ mode: z.enum(['approve', 'prompt', 'deny']) }).parse(req.body).mode);
    }),
  );

  r.get(
    '/realms',
    route(() => sandbox.realmIds()),
  );
  r.post(
    '/realms',
    route((req) => {
      const { realmId, ...input } = realmSchema.parse(req.body);
      sandbox.addRealm(realmId, input);
      return { realmId };
    }),
  );
  r.post(
    '/realms/:realmId/tokens',
    route((req) => sandbox.issueTokens(p(req, 'realmId'))),
  );
  r.post(
    '/realms/:realmId/customers',
    route((req) => sandbox.addCustomer(p(req, 'realmId'), req.body)),
  );
  r.post(
    '/realms/:realmId/items',
    route((req) => sandbox.addItem(p(req, 'realmId'), req.body)),
  );
  r.get(
    '/realms/:realmId/invoices',
    route((req) => sandbox.invoices(p(req, 'realmId'))),
  );
  r.get(
    '/realms/:realmId/customers',
    route((req) => sandbox.customers(p(req, 'realmId'))),
  );
  r.get(
    '/realms/:realmId/payments',
    route((req) => sandbox.payments(p(req, 'realmId'))),
  );
  r.get(
    '/realms/:realmId/attachables',
    route((req) => sandbox.attachables(p(req, 'realmId'))),
  );
  r.get(
    '/realms/:realmId/stats',
    route((req) => sandbox.stats(p(req, 'realmId'))),
  );
  r.get(
    '/realms/:realmId/entities/:type/:id',
    route((req) => {
      const found = sandbox.entity(p(req, 'realmId'), entityName(p(req, 'type')), p(req, 'id'));
      if (!found) throw new Error('Entity not found');
      return found;
    }),
  );
  r.post(
    '/realms/:realmId/invoices/:id/payments',
    route((req) => {
      const { amount } = z.object({ amount: z.number().positive() }).parse(req.body);
      return sandbox.recordPayment(p(req, 'realmId'), p(req, 'id'), amount);
    }),
  );
  r.post(
    '/realms/:realmId/invoices/:id/void',
    route((req) => sandbox.voidInvoice(p(req, 'realmId'), p(req, 'id'))),
  );

  r.get(
    '/requests',
    route(() => sandbox.requests),
  );
  r.get(
    '/tokens/requests',
    route(() => ({ byGrantType: sandbox.tokenRequests, log: sandbox.tokenLog })),
  );
  r.get(
    '/emails',
    route(() => sandbox.sentEmails),
  );

  r.post(
    '/webhooks',
    route((req) => {
      sandbox.configureWebhooks(
        req.body === null || Object.keys(req.body ?? {}).length === 0 ? null : webhookSchema.parse(req.body),
      );
    }),
  );
  r.post(
    '/webhooks/deliver',
    route((req) => sandbox.deliverWebhook((req.body as { payload?: unknown }).payload ?? req.body)),
  );
  r.get(
    '/webhooks/deliveries',
    route(() => sandbox.webhookDeliveries),
  );

  r.get(
    '/files/:realmId/:id',
    route((req, res) => {
      const realmId = p(req, 'realmId');
      const id = p(req, 'id');
      const bytes = sandbox.attachmentContent(realmId, id);
      const meta = sandbox.entity(realmId, 'Attachable', id);
      if (!bytes || !meta) throw new Error('File not found');
      res.type(String(meta.ContentType ?? 'application/octet-stream')).send(bytes);
    }),
  );
  return r;
}
