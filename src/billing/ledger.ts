import { and, eq, ne, sql } from 'drizzle-orm';
import { today } from '../domain/dates.ts';
import { withhold } from '../domain/retainage.ts';
import { dueDate } from '../domain/terms.ts';
import { newId } from '../ids.ts';
import type { MilestoneRow, ScheduleRow } from '../schedules/repository.ts';
import type { Queryable } from '../store/db.ts';
import { invoicePushes, milestones, tenants } from '../store/schema.ts';

const DOC_NUMBER_MAX = 21;

/**
 * Records the push of an accepted milestone portion, in the acceptance's own transaction: from
 * here on the invoice cannot be lost, and its DocNumber, requestid (the row id), amount and dates
 * are fixed for every attempt.
 */
export async function recordPush(
  tx: Queryable,
  schedule: ScheduleRow,
  milestone: MilestoneRow,
  acceptanceId: string,
  acceptedAt: Date,
  now: Date,
): Promise<string> {
  const [tenant] = await tx
    .update(tenants)
    .set({ nextDocNumber: sql`${tenants.nextDocNumber} + 1` })
    .where(eq(tenants.id, schedule.tenantId))
    .returning({ number: tenants.nextDocNumber, settings: tenants.settings });
  const prefix = tenant!.settings.docNumberPrefix ?? 'MB-';
  const docNumber = `${prefix}${tenant!.number - 1}`.slice(0, DOC_NUMBER_MAX);
  const invoiceDate = today(acceptedAt > now ? now : acceptedAt);
  const amount =
    milestone.kind === 'retainage_release'
      ? await withheldOn(tx, schedule.id)
      : withhold(milestone.amount, schedule.retainagePercent).payable;
  const id = newId('push');
  await tx.insert(invoicePushes).values({
    id,
    tenantId: schedule.tenantId,
    milestoneId: milestone.id,
    acceptanceId,
    docNumber,
    amount,
    currency: schedule.currency,
    invoiceDate,
    dueDate: dueDate(invoiceDate, milestone.paymentTerms ?? schedule.paymentTerms),
  });
  return id;
}

/**
 * What the schedule's invoices held back, to the minor unit: each portion's amount less what its
 * invoice bills, over every invoice not voided. The release bills exactly this, however the
 * milestones were split and rounded, so the invoices add up to what was accepted.
 */
async function withheldOn(tx: Queryable, scheduleId: string): Promise<number> {
  const [row] = await tx
    .select({ withheld: sql<string>`coalesce(sum(${milestones.amount} - ${invoicePushes.amount}), 0)::text` })
    .from(invoicePushes)
    .innerJoin(milestones, eq(milestones.id, invoicePushes.milestoneId))
    .where(
      and(
        eq(milestones.scheduleId, scheduleId),
        eq(milestones.kind, 'standard'),
        ne(invoicePushes.status, 'voided'),
      ),
    );
  return Number(row?.withheld ?? 0);
}

export type Push = typeof invoicePushes.$inferSelect;

export async function findPush(db: Queryable, pushId: string): Promise<Push | undefined> {
  const [push] = await db.select().from(invoicePushes).where(eq(invoicePushes.id, pushId));
  return push;
}

/** Invoices QuickBooks refused, with its reason, for the people who fix the cause. */
export function failedPushes(db: Queryable, tenantId: string) {
  return db
    .select({
      milestoneId: invoicePushes.milestoneId,
      docNumber: invoicePushes.docNumber,
      error: invoicePushes.errorMessage,
    })
    .from(invoicePushes)
    .where(and(eq(invoicePushes.tenantId, tenantId), eq(invoicePushes.status, 'failed')));
}

type Owed = Pick<Push, 'amount' | 'paidAmount' | 'qboBalance'>;

/** What the client still owes on an invoice as QuickBooks says (tax included); before its first read, what it billed less what came in. */
export const owedOn = (push: Owed) =>
  push.qboBalance ?? Math.max(0, push.amount - Math.min(push.paidAmount, push.amount));

/** What an invoice bills as QuickBooks has it (tax included), else the milestone's own amount. */
export const billedOn = (push: Pick<Push, 'amount' | 'qboTotal'>) => push.qboTotal ?? push.amount;
