import { AssociationTypes, type Client } from '@hubspot/api-client';
import { AssociationSpecAssociationCategoryEnum } from '@hubspot/api-client/lib/codegen/crm/objects/notes/models/AssociationSpec.js';
import { and, eq, inArray, isNull } from 'drizzle-orm';
import { z } from 'zod';
import type { Config } from '../config.ts';
import type { AppContext } from '../context.ts';
import { DomainError } from '../domain/errors.ts';
import { isEarned } from '../domain/lifecycle.ts';
import { displayMoney, formatAmount, toSafe } from '../domain/money.ts';
import { formatPercent, HUNDRED_PERCENT } from '../domain/percent.ts';
import { findSchedule, type MilestoneRow, milestonesOf, type ScheduleRow } from '../schedules/repository.ts';
import { withLock } from '../security/redis-lock.ts';
import type { Queryable } from '../store/db.ts';
import {
  acceptances,
  hubspotInstalls,
  invoicePushes,
  milestones,
  schedules,
  tenants,
} from '../store/schema.ts';
import { type HubSpotDeps, isNotFound, type Portal, withHubSpot } from './client.ts';
import { hubspotDeps, portalOf } from './portal.ts';

// ── the "Milestone billing" property group on deals ─────────────────────────────────────────

export const BILLING_GROUP = { name: 'milestone_billing', label: 'Milestone billing', displayOrder: -1 };

export const SCHEDULE_STATUSES = ['none', 'draft', 'active', 'attention', 'complete'] as const;
export type ScheduleStatus = (typeof SCHEDULE_STATUSES)[number];

const STATUS_OPTIONS: Record<ScheduleStatus, { label: string; description: string }> = {
  none: { label: 'No schedule', description: 'The deal has no milestone billing schedule.' },
  draft: { label: 'Draft', description: 'A schedule exists; no milestone has been accepted yet.' },
  active: { label: 'Active', description: 'Milestones are being accepted and invoiced.' },
  attention: {
    label: 'Needs attention',
    description: 'An invoice failed to reach QuickBooks, or the schedule no longer matches the deal.',
  },
  complete: { label: 'Complete', description: 'Every milestone has been invoiced.' },
};

const currencyProperty = (name: string, label: string, description: string, displayOrder: number) => ({
  name,
  label,
  description,
  groupName: BILLING_GROUP.name,
  type: 'number',
  fieldType: 'number',
  numberDisplayHint: 'currency',
  displayOrder,
});

export const BILLING_PROPERTIES = [
  currencyProperty(
    'mb_invoiced_to_date',
    'Invoiced to date',
    'Total of the milestone invoices created in QuickBooks for this deal, in the schedule currency.',
    0,
  ),
  currencyProperty(
    'mb_paid_to_date',
    'Paid to date',
    'Payments recorded in QuickBooks against this deal’s milestone invoices.',
    1,
  ),
  currencyProperty('mb_outstanding', 'Outstanding', 'Invoiced to date minus paid to date.', 2),
  {
    name: 'mb_next_milestone_date',
    label: 'Next milestone date',
    description: 'Planned date of the earliest milestone that is not yet accepted.',
    groupName: BILLING_GROUP.name,
    type: 'date',
    fieldType: 'date',
    displayOrder: 3,
  },
  {
    name: 'mb_schedule_status',
    label: 'Billing schedule status',
    description: 'Where the deal’s milestone billing schedule stands.',
    groupName: BILLING_GROUP.name,
    type: 'enumeration',
    fieldType: 'select',
    displayOrder: 4,
    options: SCHEDULE_STATUSES.map((value, displayOrder) => ({
      value,
      ...STATUS_OPTIONS[value],
      displayOrder,
      hidden: false,
    })),
  },
];

export interface BillingProperties {
  mb_invoiced_to_date: string;
  mb_paid_to_date: string;
  mb_outstanding: string;
  mb_next_milestone_date: string;
  mb_schedule_status: ScheduleStatus;
}

const Created = z.object({ name: z.string() });
const ErrorBody = z.object({ message: z.string() });

/**
 * Creates the group and the properties in the portal, once: afterwards `propertiesReadyAt`
 * short-cuts every call. Concurrent callers may race; whoever loses gets 409 and is done too.
 */
export async function ensureBillingProperties(deps: HubSpotDeps, portal: Portal): Promise<void> {
  const [install] = await deps.db
    .select({ readyAt: hubspotInstalls.propertiesReadyAt })
    .from(hubspotInstalls)
    .where(eq(hubspotInstalls.tenantId, portal.tenantId));
  if (install?.readyAt) return;
  // Properties name their group, so it must exist before any of them.
  await createDefinition(deps, portal, '/crm/v3/properties/deals/groups', BILLING_GROUP);
  await Promise.all(
    BILLING_PROPERTIES.map((p) => createDefinition(deps, portal, '/crm/v3/properties/deals', p)),
  );
  await deps.db
    .update(hubspotInstalls)
    .set({ propertiesReadyAt: new Date() })
    .where(eq(hubspotInstalls.tenantId, portal.tenantId));
}

/**
 * POSTs a group or property definition. Through `apiRequest` rather than the generated
 * `coreApi.create` because SDK 13.5's serializer drops `numberDisplayHint`, and without it the
 * amounts would not show as currency.
 */
function createDefinition(
  deps: HubSpotDeps,
  portal: Portal,
  path: string,
  body: object,
): Promise<'created' | 'exists'> {
  return withHubSpot(deps, portal, async (client) => {
    const res = await client.apiRequest({ method: 'POST', path, body });
    // Another process got there first: the definition exists, which is all we need.
    if (res.status === 409) return 'exists';
    const json: unknown = await res.json().catch(() => undefined);
    if (!res.ok) throw apiException(res.status, json);
    Created.parse(json);
    return 'created';
  });
}

/** Shaped like the SDK's ApiException so that withHubSpot retries and reports it alike. */
function apiException(status: number, body: unknown): Error {
  const parsed = ErrorBody.safeParse(body);
  const message = parsed.success ? parsed.data.message : `HTTP ${status}`;
  return Object.assign(new Error(message), { code: status, body });
}

// ── the values, from the database only ─────────────────────────────────────────────────────

/** Minor units paid per milestone id; a later issue fills it from QuickBooks payments. */
export type PaidAmounts = ReadonlyMap<string, number>;

const INVOICED = new Set<string>(['invoiced', 'partially_paid', 'paid']);

/**
 * The deal's "Milestone billing" property values, as the strings HubSpot stores. Payment
 * amounts are not recorded yet: once they are, they are loaded here and passed on as `paid`.
 */
export async function dealBillingProperties(
  db: Queryable,
  tenantId: string,
  dealId: string,
): Promise<BillingProperties> {
  const schedule = await findSchedule(db, tenantId, dealId);
  if (!schedule) return billingProperties(undefined, [], []);
  const rows = await milestonesOf(db, schedule.id);
  const pushes = rows.length
    ? await db
        .select({ milestoneId: invoicePushes.milestoneId, amount: invoicePushes.amount })
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
  return billingProperties(schedule, rows, pushes);
}

/**
 * Pure: the property values of a schedule, its milestones and its created invoices. A milestone
 * marked paid without a recorded amount counts as paid in full; one partially paid counts what
 * `paid` says it received.
 */
export function billingProperties(
  schedule: ScheduleRow | undefined,
  rows: MilestoneRow[],
  pushes: { milestoneId: string; amount: number }[],
  paid: PaidAmounts = new Map(),
): BillingProperties {
  const live = rows.filter((m) => m.status !== 'cancelled');
  const status = scheduleStatus(schedule, live);
  if (!schedule || status === 'none') {
    return {
      mb_invoiced_to_date: '',
      mb_paid_to_date: '',
      mb_outstanding: '',
      mb_next_milestone_date: '',
      mb_schedule_status: 'none',
    };
  }
  const invoicedBy = new Map(pushes.map((p) => [p.milestoneId, p.amount]));
  const invoiced = sum(pushes.map((p) => p.amount));
  const received = sum(live.map((m) => paidOf(m, invoicedBy.get(m.id) ?? m.amount, paid)));
  const money = (minor: bigint) => formatAmount(toSafe(minor, 'the amount'), schedule.currency);
  return {
    mb_invoiced_to_date: money(invoiced),
    mb_paid_to_date: money(received),
    mb_outstanding: money(invoiced - received),
    mb_next_milestone_date: nextMilestoneDate(live),
    mb_schedule_status: status,
  };
}

function paidOf(m: MilestoneRow, invoiced: number, paid: PaidAmounts): number {
  const recorded = paid.get(m.id);
  if (recorded !== undefined) return recorded;
  return m.status === 'paid' ? invoiced : 0;
}

/** Exact whatever the count: bigint, back to a safe integer once at the end. */
const sum = (amounts: number[]): bigint => amounts.reduce((s, a) => s + BigInt(a), 0n);

/** `YYYY-MM-DD` sorts as text; empty clears the property when nothing is planned. */
function nextMilestoneDate(live: MilestoneRow[]): string {
  const planned = live.filter((m) => m.status === 'planned').map((m) => m.plannedDate);
  return planned.sort()[0] ?? '';
}

function scheduleStatus(schedule: ScheduleRow | undefined, live: MilestoneRow[]): ScheduleStatus {
  if (!schedule || live.length === 0) return 'none';
  const troubled = live.some((m) => m.status === 'invoice_failed' || m.needsAttention);
  if (schedule.attention.length > 0 || troubled) return 'attention';
  if (live.every((m) => INVOICED.has(m.status))) return 'complete';
  if (!live.some((m) => isEarned(m.status))) return 'draft';
  return 'active';
}

// ── the write-back of one invoice ──────────────────────────────────────────────────────────

export type WriteBackOutcome = 'written' | 'already_written' | 'deal_not_found';

type Push = typeof invoicePushes.$inferSelect & { qboInvoiceId: string };

/**
 * Writes one created invoice back to its HubSpot deal: the billing properties, then a note.
 * Holding a lock per push, so a stalled job re-run elsewhere cannot add a second note.
 */
export function writeBack(ctx: AppContext, pushId: string): Promise<WriteBackOutcome> {
  return withLock(ctx.redis, `lock:hubspot-write-back:${pushId}`, () => writeBackLocked(ctx, pushId), {
    ttlMs: 120_000,
    waitMs: 130_000,
  });
}

async function writeBackLocked(ctx: AppContext, pushId: string): Promise<WriteBackOutcome> {
  const { db } = ctx.database;
  const push = await loadPush(db, pushId);
  if (push.writtenBackAt) return 'already_written';
  const facts = await invoiceFacts(db, push);
  const deps = hubspotDeps(ctx);
  const portal = portalOf(facts.tenant);
  const { dealId } = facts.schedule;

  await ensureBillingProperties(deps, portal);
  const properties = await dealBillingProperties(db, push.tenantId, dealId);
  try {
    await updateDeal(deps, portal, dealId, properties);
  } catch (error) {
    if (!isNotFound(error)) throw error;
    // Deleted in HubSpot: there is nothing to write to, now or on any retry.
    ctx.logger.warn({ pushId, dealId }, 'deal no longer exists in HubSpot; write-back skipped');
    await markWrittenBack(db, push.id);
    return 'deal_not_found';
  }
  const url = invoiceUrl(ctx.config, push.qboInvoiceId);
  await createNoteOnce(deps, portal, push.id, dealId, url, invoiceNote({ ...facts, push, url }));
  await markWrittenBack(db, push.id);
  ctx.logger.info({ pushId, dealId, docNumber: push.docNumber }, 'invoice written back to HubSpot');
  return 'written';
}

async function loadPush(db: Queryable, pushId: string): Promise<Push> {
  const [push] = await db.select().from(invoicePushes).where(eq(invoicePushes.id, pushId));
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
  const [row] = await db
    .select({ tenant: tenants, milestone: milestones, schedule: schedules, acceptance: acceptances })
    .from(milestones)
    .innerJoin(schedules, eq(schedules.id, milestones.scheduleId))
    .innerJoin(tenants, eq(tenants.id, milestones.tenantId))
    .leftJoin(acceptances, eq(acceptances.id, push.acceptanceId))
    .where(and(eq(milestones.id, push.milestoneId), eq(milestones.tenantId, push.tenantId)));
  if (!row) throw new DomainError('not_found', `milestone ${push.milestoneId} of push ${push.id} is gone`);
  const [split] = await db
    .select({ id: milestones.id })
    .from(milestones)
    .where(eq(milestones.splitFromId, row.milestone.id))
    .limit(1);
  const partial = row.milestone.splitFromId !== null || split !== undefined;
  return { ...row, portion: portionText(row.milestone, row.acceptance?.percent ?? null, partial) };
}

function portionText(milestone: MilestoneRow, acceptedPercent: number | null, partial: boolean): string {
  if (acceptedPercent !== null && acceptedPercent < HUNDRED_PERCENT)
    return `${formatPercent(acceptedPercent)} % of the milestone`;
  if (partial) return 'partial acceptance';
  if (milestone.percent !== null) return `${formatPercent(milestone.percent)} % of the contract`;
  return 'fixed amount';
}

async function markWrittenBack(db: Queryable, pushId: string): Promise<void> {
  await db
    .update(invoicePushes)
    .set({ writtenBackAt: new Date(), updatedAt: new Date() })
    .where(and(eq(invoicePushes.id, pushId), isNull(invoicePushes.writtenBackAt)));
}

// ── deal properties ────────────────────────────────────────────────────────────────────────

const Updated = z.object({ id: z.string() });

/** PATCHes the values; if someone deleted our properties in HubSpot meanwhile, recreates them once. */
async function updateDeal(
  deps: HubSpotDeps,
  portal: Portal,
  dealId: string,
  properties: BillingProperties,
): Promise<void> {
  if (await patchDeal(deps, portal, dealId, properties)) return;
  await deps.db
    .update(hubspotInstalls)
    .set({ propertiesReadyAt: null })
    .where(eq(hubspotInstalls.tenantId, portal.tenantId));
  await ensureBillingProperties(deps, portal);
  if (!(await patchDeal(deps, portal, dealId, properties))) {
    throw new DomainError('hubspot_error', 'HubSpot does not know the milestone billing deal properties');
  }
}

/** False when HubSpot refuses the values because a property does not exist. */
function patchDeal(
  deps: HubSpotDeps,
  portal: Portal,
  dealId: string,
  properties: BillingProperties,
): Promise<boolean> {
  return withHubSpot(deps, portal, async (client) => {
    try {
      Updated.parse(await client.crm.deals.basicApi.update(dealId, { properties: { ...properties } }));
      return true;
    } catch (error) {
      const { code, body } = error as { code?: unknown; body?: unknown };
      if (code === 400 && JSON.stringify(body ?? '').includes('PROPERTY_DOESNT_EXIST')) return false;
      throw error;
    }
  });
}

// ── the note ───────────────────────────────────────────────────────────────────────────────

export function invoiceUrl(config: Config, qboInvoiceId: string): string {
  const host =
    config.quickbooks.environment === 'sandbox' ? 'app.sandbox.qbo.intuit.com' : 'app.qbo.intuit.com';
  return `https://${host}/app/invoice?txnId=${encodeURIComponent(qboInvoiceId)}`;
}

const escapeHtml = (text: string) =>
  text.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!,
  );

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

const NOTE_MARKER_TTL_S = 7 * 24 * 3600;
const NOTE_ROUNDS = 3;

/**
 * HubSpot has no idempotency key for notes, so a create whose outcome is unknown (a 5xx or a
 * timeout, or a crash before `writtenBackAt` was stored) is followed by a look for the note,
 * recognised by its invoice link, before anything is created again. A Redis marker tells a
 * later job attempt that an earlier one may have created it.
 */
async function createNoteOnce(
  deps: HubSpotDeps,
  portal: Portal,
  pushId: string,
  dealId: string,
  url: string,
  body: string,
): Promise<string> {
  const marker = `hubspot:write-back:note:${pushId}`;
  let uncertain = (await deps.redis.set(marker, '1', 'EX', NOTE_MARKER_TTL_S, 'NX')) === null;
  for (let round = 1; ; round++) {
    if (uncertain) {
      const existing = await findNote(deps, portal, dealId, escapeHtml(url));
      if (existing) return existing;
    }
    if (round > NOTE_ROUNDS) throw new DomainError('hubspot_error', 'HubSpot did not take the invoice note');
    const created = await tryCreateNote(deps, portal, dealId, body);
    if (created) return created;
    uncertain = true;
  }
}

const NoteCreated = z.object({ id: z.string() });

/** The note's id, or null when a first try failed in a way that may have created it. */
function tryCreateNote(deps: HubSpotDeps, portal: Portal, dealId: string, body: string) {
  let sent = false;
  return withHubSpot(deps, portal, async (client): Promise<string | null> => {
    if (sent) return null;
    sent = true;
    const note = await client.crm.objects.notes.basicApi.create({
      properties: { hs_timestamp: new Date().toISOString(), hs_note_body: body },
      associations: [
        {
          to: { id: dealId },
          types: [
            {
              associationCategory: AssociationSpecAssociationCategoryEnum.HubspotDefined,
              associationTypeId: AssociationTypes.noteToDeal,
            },
          ],
        },
      ],
    });
    return NoteCreated.parse(note).id;
  });
}

const AssociationPage = z.object({
  results: z.array(z.object({ toObjectId: z.coerce.string() })),
  paging: z.object({ next: z.object({ after: z.string() }).nullish() }).nullish(),
});

const NoteBodies = z.object({
  results: z.array(
    z.object({ id: z.string(), properties: z.object({ hs_note_body: z.string().nullish() }) }),
  ),
});

const BATCH_READ_MAX = 100;

async function findNote(
  deps: HubSpotDeps,
  portal: Portal,
  dealId: string,
  needle: string,
): Promise<string | undefined> {
  const ids = await noteIdsOf(deps, portal, dealId);
  for (let i = 0; i < ids.length; i += BATCH_READ_MAX) {
    const inputs = ids.slice(i, i + BATCH_READ_MAX).map((id) => ({ id }));
    const page = NoteBodies.parse(
      await withHubSpot(deps, portal, (client: Client) =>
        client.crm.objects.notes.batchApi.read({
          inputs,
          properties: ['hs_note_body'],
          propertiesWithHistory: [],
        }),
      ),
    );
    const found = page.results.find((n) => n.properties.hs_note_body?.includes(needle));
    if (found) return found.id;
  }
  return undefined;
}

async function noteIdsOf(deps: HubSpotDeps, portal: Portal, dealId: string): Promise<string[]> {
  const ids: string[] = [];
  let after: string | undefined;
  do {
    const cursor = after;
    const page = AssociationPage.parse(
      await withHubSpot(deps, portal, (client) =>
        client.crm.associations.v4.basicApi.getPage('deals', dealId, 'notes', cursor, 500),
      ),
    );
    ids.push(...page.results.map((r) => r.toObjectId));
    after = page.paging?.next?.after ?? undefined;
  } while (after);
  return ids;
}
