import { eq } from 'drizzle-orm';
import type { Router } from 'express';
import type { AppContext } from '../../../context.ts';
import { parseQboChange, qboItems, verifyIntuitSignature } from '../../../quickbooks/index.ts';
import { qboConnections } from '../../../store/schema.ts';
import { HttpProblem } from '../../problem.ts';
import { webhookRoute } from '../../webhook-pipeline.ts';

/**
 * POST /webhooks/quickbooks: Intuit's change notifications, CloudEvents or legacy. A correctly
 * signed body is always answered 200 at once (Intuit retries a whole batch on anything else and may
 * hold back later events); what cannot be used is kept in the inbox for inspection. The signature
 * has no timestamp: the inbox's dedupe on the event id is the replay defence.
 */
export function quickbooksWebhookRoute(ctx: AppContext): Router {
  return webhookRoute(ctx, '/webhooks/quickbooks', {
    source: 'quickbooks',
    async verify(req, rawBody) {
      const verifier = ctx.config.quickbooks.webhookVerifierToken;
      if (!verifier)
        throw new HttpProblem(
          'invalid_signature',
          'QuickBooks webhooks are not configured (QBO_WEBHOOK_VERIFIER_TOKEN)',
        );
      const check = verifyIntuitSignature(verifier, rawBody, req.header('intuit-signature'));
      if (!check.ok)
        throw new HttpProblem('invalid_signature', `QuickBooks signature rejected: ${check.reason}`);
      const tenants = new Map<string, Promise<string | null>>();
      const tenantOf = (realmId: string) => {
        if (!tenants.has(realmId))
          tenants.set(
            realmId,
            ctx.db
              .select({ tenantId: qboConnections.tenantId })
              .from(qboConnections)
              .where(eq(qboConnections.realmId, realmId))
              .then(([row]) => row?.tenantId ?? null),
          );
        return tenants.get(realmId)!;
      };
      return {
        items: qboItems,
        async parse(item) {
          const parsed = parseQboChange(item);
          if (!parsed.ok) return { ok: false, why: parsed.why };
          const { change } = parsed;
          return {
            ok: true,
            event: change,
            dedupeKey: change.dedupeKey,
            tenantId: await tenantOf(change.realmId),
          };
        },
        async answer(delivered, res) {
          await ctx.jobs.quickbooksChanges(delivered.fresh.map((e) => e.event.realmId));
          res.json({ received: delivered.received, new: delivered.fresh.length });
        },
      };
    },
  });
}
