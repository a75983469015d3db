import { and, eq, sql } from 'drizzle-orm';
import { DomainError } from '../domain/errors.ts';
import { parseAmount } from '../domain/money.ts';
import type { DealChange, HubSpotEvent } from '../hubspot/index.ts';
import { findSchedule, milestonesOf } from '../schedules/repository.ts';
import { schedules } from '../store/schema.ts';
import type { Tenant } from '../tenants/repository.ts';
import { acceptMilestone } from './accept.ts';
import type { BillingDeps } from './deps.ts';

/** What a HubSpot deal change did to billing, for the inbox row. */
export async function applyDealChange(
  deps: Pick<BillingDeps, 'db' | 'jobs' | 'clock'>,
  tenant: Tenant,
  event: HubSpotEvent,
  change: DealChange,
): Promise<string> {
  switch (change.kind) {
    case 'stage':
      return stageChanged(deps, tenant, event, change.dealId, change.stage);
    case 'amount':
      return amountChanged(deps, tenant, change.dealId, change.amount, new Date(event.occurredAt));
    case 'deleted':
      return dealDeleted(deps, tenant, change.dealId);
    case 'owner':
    case 'pipeline':
      return dealFactChanged(deps, tenant, change, event.occurredAt);
    case 'ignored':
      return `ignored: ${change.why}`;
  }
}

/** A milestone mapped to the deal's new stage is accepted, once, however often HubSpot says so. */
async function stageChanged(
  deps: Pick<BillingDeps, 'db' | 'jobs' | 'clock'>,
  tenant: Tenant,
  e: HubSpotEvent,
  dealId: string,
  stage: string | undefined,
): Promise<string> {
  const schedule = await findSchedule(deps.db, tenant.id, dealId);
  if (!schedule || !stage) return 'ignored: no schedule';
  const mapped = (await milestonesOf(deps.db, schedule.id)).filter(
    (m) => m.splitFromId === null && m.status !== 'cancelled' && m.triggerStage === stage,
  );
  if (mapped.length === 0) return `ignored: no milestone mapped to stage ${stage}`;
  const outcomes: string[] = [];
  for (const milestone of mapped) {
    try {
      const result = await acceptMilestone(deps, {
        tenantId: tenant.id,
        source: 'hubspot',
        sourceEventId: `stage:${dealId}:${milestone.id}:${stage}`,
        dealId,
        milestone: { id: milestone.id },
        portion: null,
        acceptedAt: new Date(e.occurredAt),
        acceptedBy: { name: e.sourceId ? `HubSpot ${e.sourceId}` : 'HubSpot' },
        evidence: [],
        note: `Deal moved to stage ${stage} (${e.changeSource ?? 'HubSpot'})`,
        actor: `hubspot:${e.eventId}`,
      });
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
async function amountChanged(
  deps: Pick<BillingDeps, 'db'>,
  tenant: Tenant,
  dealId: string,
  value: string | undefined,
  at: Date,
): Promise<string> {
  return deps.db.transaction(async (tx) => {
    const schedule = await findSchedule(tx, tenant.id, dealId, { lock: true });
    if (!schedule) return 'ignored: no schedule';
    if (schedule.dealAmountAt && schedule.dealAmountAt >= at) return 'ignored: a newer amount is known';
    const amount = value ? parseAmount(value, schedule.currency, { round: true }) : null;
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

/** The portfolio filters by the deal's owner and pipeline; of two reports, the later one wins. */
async function dealFactChanged(
  deps: Pick<BillingDeps, 'db'>,
  tenant: Tenant,
  change: Extract<DealChange, { kind: 'owner' | 'pipeline' }>,
  occurredAt: number,
): Promise<string> {
  const at = new Date(occurredAt).toISOString();
  const column = change.kind === 'owner' ? 'ownerId' : 'pipelineId';
  const updated = await deps.db
    .update(schedules)
    .set({
      [column]: change.value,
      dealFactsAt: sql`${schedules.dealFactsAt} || jsonb_build_object(${change.kind}::text, ${at}::text)`,
      updatedAt: new Date(),
    })
    .where(
      and(
        eq(schedules.tenantId, tenant.id),
        eq(schedules.dealId, change.dealId),
        sql`coalesce(${schedules.dealFactsAt} ->> ${change.kind}, '') < ${at}`,
      ),
    )
    .returning({ id: schedules.id });
  return updated.length ? `${change.kind} recorded` : 'ignored: no schedule or a newer report';
}

/** The deal is gone: its schedule is kept for the record and accepts no further change. */
async function dealDeleted(deps: Pick<BillingDeps, 'db'>, tenant: Tenant, dealId: string): Promise<string> {
  const frozen = await deps.db
    .update(schedules)
    .set({ state: 'frozen', attention: ['deal_deleted'], updatedAt: new Date() })
    .where(and(eq(schedules.tenantId, tenant.id), eq(schedules.dealId, dealId)))
    .returning({ id: schedules.id });
  return frozen.length ? 'schedule frozen' : 'ignored: no schedule';
}
