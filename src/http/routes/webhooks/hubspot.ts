import type { Router } from 'express';
import type { AppContext } from '../../../context.ts';
import { dedupeKey, HubSpotEvent, hubspotApp, verifyV3 } from '../../../hubspot/index.ts';
import { findTenantByPortal } from '../../../tenants/repository.ts';
import { HttpProblem } from '../../problem.ts';
import { webhookRoute } from '../../webhook-pipeline.ts';

const MAX_EVENTS = 1000;

/**
 * POST /webhooks/hubspot: v3-signed batches. Each new event is kept in the inbox and the batch is
 * queued; the answer goes at once (HubSpot waits 5 s) and the worker processes the events.
 */
export function hubspotWebhookRoute(ctx: AppContext): Router {
  return webhookRoute(ctx, '/webhooks/hubspot', {
    source: 'hubspot',
    async verify(req, rawBody) {
      const check = verifyV3({
        clientSecret: hubspotApp(ctx.config).clientSecret,
        method: req.method,
        url: `${ctx.config.publicUrl}${req.originalUrl}`,
        rawBody,
        signature: req.header('x-hubspot-signature-v3'),
        timestamp: req.header('x-hubspot-request-timestamp'),
      });
      if (!check.ok)
        throw new HttpProblem('invalid_signature', `HubSpot signature rejected: ${check.reason}`);
      const tenants = new Map<string, Promise<string | null>>();
      const tenantOf = (portalId: string) => {
        if (!tenants.has(portalId))
          tenants.set(
            portalId,
            findTenantByPortal(ctx.db, portalId).then((t) => t?.id ?? null),
          );
        return tenants.get(portalId)!;
      };
      return {
        items: (body) =>
          Array.isArray(body) && body.length <= MAX_EVENTS
            ? body
            : { malformed: `the body is not a JSON array of at most ${MAX_EVENTS} events` },
        async parse(item) {
          const parsed = HubSpotEvent.safeParse(item);
          if (!parsed.success) {
            return {
              ok: false,
              why: parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '),
            };
          }
          const event = parsed.data;
          return { ok: true, event, dedupeKey: dedupeKey(event), tenantId: await tenantOf(event.portalId) };
        },
        async answer(delivered, res) {
          await ctx.jobs.hubspotEvents(delivered.fresh.map((e) => e.inboxId));
          res.json({ received: delivered.received, new: delivered.fresh.length });
        },
      };
    },
  });
}
