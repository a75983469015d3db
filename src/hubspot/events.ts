import { and, eq } from 'drizzle-orm';
import { z } from 'zod';
import { recordAcceptance } from '../acceptance/record.ts';
import type { AppContext } from '../context.ts';
import { DomainError } from '../domain/errors.ts';
import { parseAmount } from '../domain/money.ts';
import { queuePush } from '../jobs/invoice-push.ts';
import { findSchedule, milestonesOf } from '../schedules/repository.ts';
import { schedules } from '../store/schema.ts';
import type { Tenant } from '../tenants/repository.ts';

/** One HubSpot webhook event; fields beyond these are kept in the inbox but not relied on. */
export const HubSpotEvent = z.looseObject({
  eventId: z.union([z.number(), z.string()]),
  portalId: z.union([z.number(), z.string()]).transform(String),
  occurredAt: z.number(),
  subscriptionType: z.string().optional(),
  eventType: z.string().optional(),
  objectId: z.union([z.number(), z.string()]).transform(String),
  objectTypeId: z.string().optional(),
  propertyName: z.string().optional(),
  propertyValue: z.string().optional(),
  changeSource: z.string().optional(),
  sourceId: z.string().optional(),
  attemptNumber: z.number().optional(),
});
export type HubSpotEvent = z.output<typeof HubSpotEvent>;

/**
 * `eventId` alone is not unique, so a delivery is identified by what it says happened; a retry
 * (any attemptNumber) of the same event has the same key.
 */
export function dedupeKey(e: HubSpotEvent): string {
  const type = e.subscriptionType ?? e.eventType ?? '';
  return [
    e.portalId,
    type,
    e.objectTypeId ?? '',
    e.objectId,
    e.propertyName ?? '',
    e.propertyValue ?? '',
    e.occurredAt,
    e.eventId,
  ].join(':');
}

const isDeal = (e: HubSpotEvent, type: string) => {
  const t = e.subscriptionType ?? e.eventType;
  return t === `deal.${type}` || (t === `object.${type}` && e.objectTypeId === '0-3');
};

/** What an event did, for the inbox row. */
export async function processEvent(ctx: AppContext, tenant: Tenant, e: HubSpotEvent): Promise<string> {
  // Imports rewrite thousands of deals at once; they are not a client accepting anything.
  if (e.changeSource === 'IMPORT') return 'ignored: import';
  if (isDeal(e, 'propertyChange') && e.propertyName === 'dealstage') return stageChanged(ctx, tenant, e);
  if (isDeal(e, 'propertyChange') && e.propertyName === 'amount') return amountChanged(ctx, tenant, e);
  if (isDeal(e, 'deletion')) return dealDeleted(ctx, tenant, e);
  return `ignored: ${e.subscriptionType ?? e.eventType} ${e.propertyName ?? ''}`.trim();
}

/** A milestone mapped to the deal's new stage is accepted, once, however often HubSpot says so. */
async function stageChanged(ctx: AppContext, tenant: Tenant, e: HubSpotEvent): Promise<string> {
  const { db } = ctx.database;
  const schedule = await findSchedule(db, tenant.id, e.objectId);
  if (!schedule || !e.propertyValue) return 'ignored: no schedule';
  const mapped = (await milestonesOf(db, schedule.id)).filter(
    (m) => m.splitFromId === null && m.status !== 'cancelled' && m.triggerStage === e.propertyValue,
  );
  if (mapped.length === 0) return `ignored: no milestone mapped to stage ${e.propertyValue}`;
  const outcomes: string[] = [];
  for (const milestone of mapped) {
    try {
      const result = await recordAcceptance(db, {
        tenantId: tenant.id,
        source: 'hubspot',
        sourceEventId: `stage:${e.objectId}:${milestone.id}:${e.propertyValue}`,
        dealId: e.objectId,
        milestone: { id: milestone.id },
        portion: null,
        acceptedAt: new Date(e.occurredAt),
        acceptedBy: { name: e.sourceId ? `HubSpot ${e.sourceId}` : 'HubSpot' },
        evidence: [],
        note: `Deal moved to stage ${e.propertyValue} (${e.changeSource ?? 'HubSpot'})`,
        actor: `hubspot:${e.eventId}`,
      });
      await queuePush(ctx, result.pushId);
      outcomes.push(`${milestone.key} ${result.outcome}`);
    } catch (error) {
      if (!(error instanceof DomainError)) throw error;
      outcomes.push(`${milestone.key} ${error.code}`);
    }
  }
  return outcomes.join(', ');
}

/**
 * The deal's amount changed: the schedule is flagged when its contract no longer matches. Invoiced
 * milestones are never re-priced; people decide with a change order. Older events lose to newer.
 */
async function amountChanged(ctx: AppContext, tenant: Tenant, e: HubSpotEvent): Promise<string> {
  const { db } = ctx.database;
  return db.transaction(async (tx) => {
    const schedule = await findSchedule(tx, tenant.id, e.objectId, { lock: true });
    if (!schedule) return 'ignored: no schedule';
    const at = new Date(e.occurredAt);
    if (schedule.dealAmountAt && schedule.dealAmountAt >= at) return 'ignored: a newer amount is known';
    const amount = e.propertyValue ? parseAmount(e.propertyValue, schedule.currency, { round: true }) : null;
    const mismatch = amount !== schedule.contractValue;
    const attention = schedule.attention.filter((a) => a !== 'amount_mismatch');
    if (mismatch) attention.push('amount_mismatch');
    await tx
      .update(schedules)
      .set({ dealAmount: amount, dealAmountAt: at, attention, updatedAt: new Date() })
      .where(eq(schedules.id, schedule.id));
    return mismatch ? 'flagged: deal amount differs from the contract value' : 'amount matches';
  });
}

/** The deal is gone: its schedule is kept for the record and accepts no further change. */
async function dealDeleted(ctx: AppContext, tenant: Tenant, e: HubSpotEvent): Promise<string> {
  const { db } = ctx.database;
  const frozen = await db
    .update(schedules)
    .set({ state: 'frozen', attention: ['deal_deleted'], updatedAt: new Date() })
    .where(and(eq(schedules.tenantId, tenant.id), eq(schedules.dealId, e.objectId)))
    .returning({ id: schedules.id });
  return frozen.length ? 'schedule frozen' : 'ignored: no schedule';
}
