import { createHash } from 'node:crypto';
import express, { Router } from 'express';
import { z } from 'zod';
import type { AppContext } from '../context.ts';
import { HttpProblem } from '../http/problem.ts';
import { newId } from '../ids.ts';
import { hubspotEvents } from '../jobs/hubspot-events.ts';
import { inbox } from '../store/schema.ts';
import { findTenantByPortal } from '../tenants/repository.ts';
import { dedupeKey, HubSpotEvent } from './events.ts';
import { hubspotApp } from './oauth.ts';
import { verifyV3 } from './signature.ts';

/**
 * POST /webhooks/hubspot: verify the v3 signature over the raw bytes, keep each new event in the
 * inbox, queue the batch and answer at once (HubSpot waits 5 s). Processing happens in the worker.
 */
export function hubspotWebhookRoute(ctx: AppContext): Router {
  const router = Router();
  router.post('/webhooks/hubspot', express.raw({ type: () => true, limit: '2mb' }), async (req, res) => {
    const rawBody = Buffer.isBuffer(req.body) ? req.body.toString('utf8') : '';
    const check = verifyV3({
      clientSecret: hubspotApp(ctx.config).clientSecret,
      method: req.method,
      url: `${ctx.config.publicUrl}${req.originalUrl}`,
      rawBody,
      signature: req.header('x-hubspot-signature-v3'),
      timestamp: req.header('x-hubspot-request-timestamp'),
    });
    if (!check.ok) throw new HttpProblem('invalid_signature', `HubSpot signature rejected: ${check.reason}`);

    const rows = await toInboxRows(ctx, rawBody);
    const inserted = rows.length
      ? await ctx.database.db.insert(inbox).values(rows).onConflictDoNothing().returning({ id: inbox.id })
      : [];
    const pending = new Set(rows.filter((r) => r.status === 'pending').map((r) => r.id));
    const ids = inserted.map((r) => r.id).filter((id) => pending.has(id));
    if (ids.length) {
      await ctx.queues
        .enqueue(hubspotEvents, { inboxIds: ids }, `hubspot-events:${ids[0]}`)
        .catch((error: Error) =>
          ctx.logger.warn(
            { err: error.message },
            'queue unavailable; the inbox sweeper will pick the batch up',
          ),
        );
    }
    res.json({ received: rows.length, new: inserted.length });
  });
  return router;
}

/** Signed but malformed payloads are acknowledged and kept for inspection, never thrown back. */
async function toInboxRows(ctx: AppContext, rawBody: string) {
  const malformed = (why: string, raw: unknown) => ({
    id: newId('in'),
    tenantId: null as string | null,
    source: 'hubspot' as const,
    dedupeKey: `malformed:${createHash('sha256').update(JSON.stringify(raw)).digest('hex')}`,
    payload: { raw } as Record<string, unknown>,
    status: 'ignored' as 'ignored' | 'pending',
    outcome: `malformed: ${why}` as string | null,
  });
  let json: unknown;
  try {
    json = JSON.parse(rawBody);
  } catch (error) {
    return [malformed((error as Error).message, rawBody.slice(0, 100_000))];
  }
  const batch = z.array(z.unknown()).max(1000).safeParse(json);
  if (!batch.success) return [malformed('the body is not a JSON array of events', json)];
  const tenants = new Map<string, string | null>();
  const rows: ReturnType<typeof malformed>[] = [];
  for (const item of batch.data) {
    const parsed = HubSpotEvent.safeParse(item);
    if (!parsed.success) {
      rows.push(
        malformed(parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '), item),
      );
      continue;
    }
    const event = parsed.data;
    if (!tenants.has(event.portalId)) {
      tenants.set(event.portalId, (await findTenantByPortal(ctx.database.db, event.portalId))?.id ?? null);
    }
    rows.push({
      ...malformed('', item),
      tenantId: tenants.get(event.portalId) ?? null,
      dedupeKey: dedupeKey(event),
      payload: item as Record<string, unknown>,
      status: 'pending' as const,
      outcome: null,
    });
  }
  return rows;
}
