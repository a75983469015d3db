import { eq } from 'drizzle-orm';
import express, { Router } from 'express';
import { z } from 'zod';
import type { AppContext } from '../context.ts';
import { DomainError } from '../domain/errors.ts';
import { HttpProblem, zodIssues } from '../http/problem.ts';
import { Decimal, Percent, toMinor } from '../http/schemas.ts';
import { collect } from '../http/validate.ts';
import { newId } from '../ids.ts';
import { queuePush } from '../jobs/invoice-push.ts';
import { findSchedule } from '../schedules/repository.ts';
import { inbox } from '../store/schema.ts';
import { acceptanceSecret, findTenantByPortal } from '../tenants/repository.ts';
import { recordAcceptance } from './record.ts';
import { verifyAcceptance } from './signature.ts';

/** The acceptance webhook's body (DESIGN §4.4; JSON Schema in webhooks/acceptance/). */
export const AcceptancePayload = z.strictObject({
  id: z.string().min(1).max(200),
  portalId: z.union([z.string(), z.number()]).transform(String),
  dealId: z.union([z.string(), z.number()]).transform(String),
  milestone: z.union([
    z.strictObject({ id: z.string().min(1) }),
    z.strictObject({ key: z.string().min(1) }),
    z.strictObject({ name: z.string().min(1) }),
  ]),
  acceptedAt: z.iso.datetime({ offset: true }),
  acceptedBy: z.strictObject({ name: z.string().max(200).optional(), email: z.email().optional() }),
  portion: z
    .union([
      z.strictObject({ percent: Percent }),
      z.strictObject({ amount: Decimal, currency: z.string().length(3).optional() }),
    ])
    .prefault({ percent: 100 }),
  evidence: z
    .array(z.strictObject({ name: z.string().min(1).max(300), url: z.url() }))
    .max(20)
    .default([]),
  note: z.string().max(2000).optional(),
});

/**
 * POST /webhooks/acceptance. The tenant comes from `portalId`, read before verification only to
 * find whose secret signs the body; nothing else is trusted or stored until the signature holds.
 */
export function acceptanceWebhookRoute(ctx: AppContext): Router {
  const router = Router();
  router.post('/webhooks/acceptance', express.raw({ type: () => true, limit: '1mb' }), async (req, res) => {
    const rawBody = Buffer.isBuffer(req.body) ? req.body.toString('utf8') : '';
    const body = parseJson(rawBody);
    const portalId = portalOf(body);
    const tenant = portalId ? await findTenantByPortal(ctx.database.db, portalId) : undefined;
    const check = tenant
      ? verifyAcceptance(
          acceptanceSecret(ctx.encryptionKey, tenant),
          rawBody,
          req.header('x-acceptance-signature'),
        )
      : ({ ok: false, reason: 'the body names no known portalId' } as const);
    if (!check.ok || !tenant)
      throw new HttpProblem(
        'invalid_signature',
        `acceptance signature rejected: ${check.ok ? '' : check.reason}`,
      );

    const parsed = AcceptancePayload.safeParse(body);
    if (!parsed.success) {
      const errors = zodIssues(parsed.error);
      throw new DomainError('invalid_request', errors.map((e) => e.message).join('; '), errors);
    }
    const event = parsed.data;
    const { db } = ctx.database;
    const [row] = await db
      .insert(inbox)
      .values({
        id: newId('in'),
        tenantId: tenant.id,
        source: 'acceptance',
        dedupeKey: `${tenant.id}:${event.id}`,
        payload: body as Record<string, unknown>,
      })
      .onConflictDoNothing()
      .returning({ id: inbox.id });
    const settle = (status: 'processed' | 'failed', outcome: string) =>
      row
        ? db.update(inbox).set({ status, outcome, processedAt: new Date() }).where(eq(inbox.id, row.id))
        : undefined;

    try {
      const schedule = await findSchedule(db, tenant.id, event.dealId);
      if (!schedule)
        throw new DomainError('unknown_milestone', `deal ${event.dealId} has no billing schedule`);
      const portion = collect((issues) => {
        const p = event.portion;
        if (!('amount' in p)) return { percent: p.percent };
        if (p.currency && p.currency !== schedule.currency) {
          issues.push({
            path: 'portion.currency',
            code: 'currency_mismatch',
            message: `portion.currency: the schedule is in ${schedule.currency}, not ${p.currency}`,
          });
        }
        return { amount: toMinor(p.amount, schedule.currency, 'portion.amount', issues) };
      });
      const result = await recordAcceptance(db, {
        tenantId: tenant.id,
        source: 'webhook',
        sourceEventId: event.id,
        dealId: event.dealId,
        milestone: event.milestone,
        portion,
        acceptedAt: new Date(event.acceptedAt),
        acceptedBy: event.acceptedBy,
        evidence: event.evidence,
        note: event.note,
        actor: `webhook:${event.id}`,
      });
      await queuePush(ctx, result.pushId);
      await settle('processed', result.outcome);
      res.status(200).json(result);
    } catch (error) {
      if (error instanceof DomainError) await settle('failed', `${error.code}: ${error.message}`);
      throw error;
    }
  });
  return router;
}

function parseJson(rawBody: string): unknown {
  try {
    return JSON.parse(rawBody);
  } catch {
    return undefined;
  }
}

function portalOf(body: unknown): string | undefined {
  const portal = (body as { portalId?: unknown } | null | undefined)?.portalId;
  return typeof portal === 'string' || typeof portal === 'number' ? String(portal) : undefined;
}
