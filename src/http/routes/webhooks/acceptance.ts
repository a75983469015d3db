import type { Router } from 'express';
import {
  type AcceptancePayload,
  claimedPortal,
  AcceptancePayload as Payload,
} from '../../../acceptance/payload.ts';
import { verifyAcceptance } from '../../../acceptance/signature.ts';
import { acceptMilestone } from '../../../billing/accept.ts';
import type { AppContext } from '../../../context.ts';
import { DomainError, type Issue } from '../../../domain/errors.ts';
import { toMinor } from '../../../domain/values.ts';
import { findSchedule } from '../../../schedules/repository.ts';
import { settleEntry } from '../../../store/inbox.ts';
import { acceptanceSecret, findTenantByPortal, type Tenant } from '../../../tenants/repository.ts';
import { HttpProblem } from '../../problem.ts';
import { collect, controlCharacterAt } from '../../validate.ts';
import { webhookRoute } from '../../webhook-pipeline.ts';

/**
 * POST /webhooks/acceptance (DESIGN §4.4). The tenant comes from `portalId`, read before
 * verification only to find whose secret signs the body. The acceptance is recorded before the
 * answer: its sender learns at once whether it holds (an unknown milestone, a portion too large).
 */
export function acceptanceWebhookRoute(ctx: AppContext): Router {
  return webhookRoute(
    ctx,
    '/webhooks/acceptance',
    {
      source: 'acceptance',
      async verify(req, rawBody, body) {
        const portalId = claimedPortal(body);
        const tenant = portalId ? await findTenantByPortal(ctx.db, portalId) : undefined;
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
        return {
          items: (body) => [body],
          async parse(item) {
            // Kept in the inbox under the tenant whose secret signed it, for inspection.
            const tenantId = tenant.id;
            const control = controlCharacterAt(item);
            if (control)
              return {
                ok: false,
                why: `${control}: contains a control character (such as U+0000)`,
                tenantId,
              };
            const parsed = Payload.safeParse(item);
            if (!parsed.success)
              return { ok: false, why: parsed.error.message, issues: parsed.error, tenantId };
            return {
              ok: true,
              event: parsed.data,
              dedupeKey: `${tenant.id}:${parsed.data.id}`,
              tenantId: tenant.id,
            };
          },
          async answer(delivered, res) {
            const [unusable] = delivered.unusable;
            if (unusable) throw unusable.issues ?? new DomainError('invalid_request', unusable.why);
            const fresh = delivered.fresh[0];
            const event = (fresh ?? delivered.repeated[0]!).event;
            try {
              const result = await accept(ctx, tenant, event);
              if (fresh) await settleEntry(ctx.db, fresh.inboxId, 'processed', result.outcome);
              res.status(200).json(result);
            } catch (error) {
              if (fresh && error instanceof DomainError)
                await settleEntry(ctx.db, fresh.inboxId, 'failed', `${error.code}: ${error.message}`);
              throw error;
            }
          },
        };
      },
    },
    { limit: '1mb' },
  );
}

async function accept(ctx: AppContext, tenant: Tenant, event: AcceptancePayload) {
  const schedule = await findSchedule(ctx.db, tenant.id, event.dealId);
  if (!schedule) throw new DomainError('unknown_milestone', `deal ${event.dealId} has no billing schedule`);
  const portion = collect((issues: Issue[]) => {
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
  return acceptMilestone(ctx, {
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
}
