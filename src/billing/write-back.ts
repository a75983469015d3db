import { and, eq, inArray, isNull, sql } from 'drizzle-orm';
import { type BillingSummary, billingSummary } from '../domain/billing-summary.ts';
import type { CalendarDate } from '../domain/dates.ts';
import { DomainError } from '../domain/errors.ts';
import { displayMoney } from '../domain/money.ts';
import { formatPercent, HUNDRED_PERCENT } from '../domain/percent.ts';
import { withLock } from '../redis/lock.ts';
import { findSchedule, type MilestoneRow, milestonesOf } from '../schedules/repository.ts';
import { escapeHtml } from '../security/html.ts';
import type { Queryable } from '../store/db.ts';
import { acceptances, invoicePushes, milestones, schedules, tenants } from '../store/schema.ts';
import { portalOf } from '../tenants/repository.ts';
import type { BillingDeps } from './deps.ts';
import { billedOn, findPush, type Push } from './ledger.ts';

export type WriteBackOutcome = 'written' | 'already_written' | 'deal_not_found';

/** Invoices of one tenant written back together: HubSpot's batch calls take 100 at a time. */
const PER_BATCH = 100;

/**
 * Writes one created invoice back to its HubSpot deal (the billing properties, then a note), and
 * with it every other invoice of the tenant still waiting: under a backlog a handful of calls
 * carry a hundred invoices. One writer per tenant, so a stalled job re-run elsewhere cannot add a
 * second note.
 */
export async function writeBack(deps: BillingDeps, pushId: string): Promise<WriteBackOutcome> {
  const push = await createdPush(deps.db, pushId);
  if (push.writtenBackAt) return 'already_written';
  return withLock(
    deps.redis,
    `lock:hubspot-write-back:${push.tenantId}`,
    () => writeBackWaiting(deps, push),
    { ttlMs: 10_000, waitMs: 130_000, renew: true },
  );
}

async function writeBackWaiting(deps: BillingDeps, push: CreatedPush): Promise<WriteBackOutcome> {
  for (;;) {
    const waiting = await waitingPushes(deps.db, push.tenantId);
    // Written meanwhile with another invoice's batch.
    if (!waiting.some((w) => w.id === push.id)) return 'already_written';
    const outcomes = await writeBatch(deps, waiting);
    const outcome = outcomes.get(push.id);
    if (outcome) return outcome;
  }
}

/** The tenant's created invoices not yet written back, oldest first. */
function waitingPushes(db: Queryable, tenantId: string): Promise<CreatedPush[]> {
  return db
    .select()
    .from(invoicePushes)
    .where(
      and(
        eq(invoicePushes.tenantId, tenantId),
        eq(invoicePushes.status, 'created'),
        isNull(invoicePushes.writtenBackAt),
      ),
    )
    .orderBy(invoicePushes.createdAt)
    .limit(PER_BATCH) as Promise<CreatedPush[]>;
}

async function writeBatch(deps: BillingDeps, pushes: CreatedPush[]): Promise<Map<string, WriteBackOutcome>> {
  const { db } = deps;
  const facts = await Promise.all(pushes.map((push) => invoiceFacts(db, push)));
  const portal = portalOf(facts[0]!.tenant);
  const dealIds = [...new Set(facts.map((f) => f.schedule.dealId))];
  const deals = await Promise.all(
    dealIds.map(async (dealId) => ({
      dealId,
      summary: await dealBillingSummary(db, pushes[0]!.tenantId, dealId, deps.clock.today()),
    })),
  );
  const { notFound } = await deps.hubspot.writeBillingSummaries(portal, deals);
  const gone = new Set(notFound);
  const outcomes = new Map<string, WriteBackOutcome>();
  const notes = [];
  for (const [i, push] of pushes.entries()) {
    const { dealId } = facts[i]!.schedule;
    if (gone.has(dealId)) {
      // Deleted in HubSpot: there is nothing to write to, now or on any retry.
      deps.logger.warn({ pushId: push.id, dealId }, 'deal no longer exists in HubSpot; write-back skipped');
      outcomes.set(push.id, 'deal_not_found');
      continue;
    }
    const url = deps.quickbooks.invoiceUrl(push.qboInvoiceId);
    notes.push({
      push,
      note: {
        dealId,
        key: `invoice:${push.id}`,
        marker: escapeHtml(url),
        body: invoiceNote({ ...facts[i]!, push, url }),
      },
    });
    outcomes.set(push.id, 'written');
  }
  await deps.hubspot.addNotesOnce(
    portal,
    notes.map((n) => n.note),
  );
  await markWrittenBack(
    db,
    pushes.map((p) => p.id),
  );
  for (const { push, note } of notes)
    deps.logger.info(
      { pushId: push.id, dealId: note.dealId, docNumber: push.docNumber, batch: pushes.length },
      'invoice written back to HubSpot',
    );
  return outcomes;
}

/** The deal's roll-up from the database alone: its schedule, milestones and created invoices. */
export async function dealBillingSummary(
  db: Queryable,
  tenantId: string,
  dealId: string,
  asOf: CalendarDate,
): Promise<BillingSummary> {
  const schedule = await findSchedule(db, tenantId, dealId);
  if (!schedule) return billingSummary(undefined, [], []);
  const rows = await milestonesOf(db, schedule.id);
  const invoices = rows.length
    ? await db
        .select()
        .from(invoicePushes)
        .where(
          and(
            eq(invoicePushes.tenantId, tenantId),
            eq(invoicePushes.status, 'created'),
            inArray(
              invoicePushes.milestoneId,
              rows.map((r) => r.id),
            ),
          ),
        )
    : [];
  return billingSummary(schedule, rows, invoices.map(summaryInvoice), asOf);
}

/**
 * A created invoice as the roll-up counts it: what QuickBooks said was received once it was read;
 * before that, `paid: null` lets the milestone's status stand for it.
 */
export const summaryInvoice = (push: Push) => ({
  milestoneId: push.milestoneId,
  // Billed as QuickBooks has it, tax included: what is outstanding is then its balance.
  amount: billedOn(push),
  dueDate: push.dueDate,
  paid: push.reconciledAt ? push.paidAmount : null,
});

type CreatedPush = Push & { qboInvoiceId: string };

async function createdPush(db: Queryable, pushId: string): Promise<CreatedPush> {
  const push = await findPush(db, pushId);
  if (!push) throw new DomainError('not_found', `no invoice push ${pushId}`);
  if (push.status !== 'created' || !push.qboInvoiceId) {
    throw new DomainError(
      'push_not_created',
      `invoice push ${pushId} is ${push.status}; only created invoices are written back`,
    );
  }
  return { ...push, qboInvoiceId: push.qboInvoiceId };
}

/** What the note says: whose invoice, for which milestone and which part of it. */
async function invoiceFacts(db: Queryable, push: Push) {
  const [found] = await db
    .select({
      tenant: tenants,
      milestone: milestones,
      schedule: schedules,
      acceptance: acceptances,
      // Another portion was split off this milestone (a partial acceptance).
      splitOff: sql<boolean>`exists (select 1 from ${milestones} as portion where portion.split_from_id = ${milestones.id})`,
    })
    .from(milestones)
    .innerJoin(schedules, eq(schedules.id, milestones.scheduleId))
    .innerJoin(tenants, eq(tenants.id, milestones.tenantId))
    .leftJoin(acceptances, eq(acceptances.id, push.acceptanceId))
    .where(and(eq(milestones.id, push.milestoneId), eq(milestones.tenantId, push.tenantId)));
  if (!found) throw new DomainError('not_found', `milestone ${push.milestoneId} of push ${push.id} is gone`);
  const { splitOff, ...row } = found;
  const partial = row.milestone.splitFromId !== null || splitOff;
  return { ...row, portion: portionText(row.milestone, row.acceptance?.percent ?? null, partial) };
}

function portionText(milestone: MilestoneRow, acceptedPercent: number | null, partial: boolean): string {
  if (acceptedPercent !== null && acceptedPercent < HUNDRED_PERCENT)
    return `${formatPercent(acceptedPercent)} % of the milestone`;
  if (partial) return 'partial acceptance';
  if (milestone.percent !== null) return `${formatPercent(milestone.percent)} % of the contract`;
  return 'fixed amount';
}

async function markWrittenBack(db: Queryable, pushIds: string[]): Promise<void> {
  await db
    .update(invoicePushes)
    .set({ writtenBackAt: new Date(), updatedAt: new Date() })
    .where(and(inArray(invoicePushes.id, pushIds), isNull(invoicePushes.writtenBackAt)));
}

export function invoiceNote(facts: {
  push: Pick<Push, 'docNumber' | 'amount' | 'currency' | 'dueDate'>;
  milestone: Pick<MilestoneRow, 'name'>;
  portion: string;
  url: string;
}): string {
  const { push, milestone, portion, url } = facts;
  const doc = escapeHtml(push.docNumber);
  const due = push.dueDate ? `due ${escapeHtml(push.dueDate)}` : 'no due date';
  return (
    `<p>Invoice <strong>${doc}</strong> created in QuickBooks for milestone ` +
    `<strong>${escapeHtml(milestone.name)}</strong> (${escapeHtml(portion)}): ` +
    `${escapeHtml(displayMoney(push.amount, push.currency))}, ${due}.</p>` +
    `<p><a href="${escapeHtml(url)}">Open invoice ${doc} in QuickBooks</a></p>`
  );
}
