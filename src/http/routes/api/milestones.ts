import { Router } from 'express';
import { z } from 'zod';
import { acceptMilestone } from '../../../billing/accept.ts';
import { retryInvoice } from '../../../billing/retry.ts';
import type { AppContext } from '../../../context.ts';
import { WebUrl } from '../../../domain/values.ts';
import { newId } from '../../../ids.ts';
import { getMilestone, milestoneHistory, moveMilestone } from '../../../schedules/service.ts';
import { callerOf } from '../../auth.ts';
import { Decimal, Percent, toMinor } from '../../schemas.ts';
import { body, collect, params } from '../../validate.ts';

const Id = z.object({ id: z.string().min(1).max(64) });

const Evidence = z.strictObject({ name: z.string().trim().min(1).max(300), url: WebUrl });

export const PortionInput = z.union([
  z.strictObject({ percent: Percent }),
  z.strictObject({ amount: Decimal }),
]);

const AcceptBody = z.strictObject({
  portion: PortionInput.optional(),
  acceptedAt: z.iso.datetime({ offset: true }).optional(),
  acceptedBy: z
    .strictObject({ name: z.string().trim().min(1).max(200).optional(), email: z.email().optional() })
    .optional(),
  evidence: z.array(Evidence).max(20).default([]),
  note: z.string().max(2000).optional(),
});

const Reason = z.strictObject({ reason: z.string().trim().min(1).max(2000) });
const OptionalReason = z.strictObject({ reason: z.string().trim().min(1).max(2000).optional() });

export function milestoneRoutes(ctx: AppContext): Router {
  const router = Router();

  router.get('/milestones/:id', async (req, res) => {
    res.json(await getMilestone(callerOf(res), params(req, Id).id));
  });

  router.get('/milestones/:id/history', async (req, res) => {
    res.json(await milestoneHistory(callerOf(res), params(req, Id).id));
  });

  /** Acceptance recorded by a person; `Idempotency-Key` makes a retried request harmless. */
  router.post('/milestones/:id/acceptances', async (req, res) => {
    const { id } = params(req, Id);
    const input = body(req, AcceptBody);
    const caller = callerOf(res);
    const { currency } = (await getMilestone(caller, id)).amount;
    const portion = collect((issues) =>
      input.portion && 'amount' in input.portion
        ? { amount: toMinor(input.portion.amount, currency, 'portion.amount', issues) }
        : (input.portion ?? null),
    );
    const result = await acceptMilestone(ctx, {
      tenantId: caller.tenant.id,
      source: 'manual',
      sourceEventId: req.header('idempotency-key') ?? newId('manual'),
      milestone: { id },
      portion,
      acceptedAt: input.acceptedAt ? new Date(input.acceptedAt) : ctx.clock.now(),
      acceptedBy: input.acceptedBy ?? {},
      evidence: input.evidence,
      note: input.note,
      actor: caller.actor,
    });
    res.status(result.outcome === 'accepted' ? 201 : 200).json(result);
  });

  /** After the cause of a refused invoice is fixed (in QuickBooks or the settings), try again. */
  router.post('/milestones/:id/retry-invoice', async (req, res) => {
    res.status(202).json(await retryInvoice(ctx, callerOf(res), params(req, Id).id));
  });

  router.post('/milestones/:id/dispute', async (req, res) => {
    const { reason } = body(req, Reason);
    res.json(await moveMilestone(callerOf(res), params(req, Id).id, 'dispute', reason));
  });

  router.post('/milestones/:id/resolve', async (req, res) => {
    const { reason } = body(req, OptionalReason);
    res.json(await moveMilestone(callerOf(res), params(req, Id).id, 'resolve', reason));
  });

  return router;
}
