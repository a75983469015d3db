import { eq } from 'drizzle-orm';
import { z } from 'zod';
import { type BillingSummary, SCHEDULE_STATUSES, type ScheduleStatus } from '../domain/billing-summary.ts';
import { DomainError } from '../domain/errors.ts';
import { formatAmount } from '../domain/money.ts';
import type { Db } from '../store/db.ts';
import { hubspotInstalls } from '../store/schema.ts';
import { type Connection, type Portal, request, withHubSpot } from './client.ts';

/** The "Milestone billing" property group on deals. */
export const BILLING_GROUP = { name: 'milestone_billing', label: 'Milestone billing', displayOrder: -1 };

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
  currencyProperty(
    'mb_overdue',
    'Overdue',
    'Outstanding on milestone invoices whose due date has passed.',
    5,
  ),
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

/** The deal property values, as the strings HubSpot stores; empty clears a property. */
export function billingPropertyValues(summary: BillingSummary) {
  const { currency } = summary;
  const money = (minor: number) => (currency ? formatAmount(minor, currency) : '');
  return {
    mb_invoiced_to_date: money(summary.invoiced),
    mb_paid_to_date: money(summary.paid),
    mb_outstanding: money(summary.outstanding),
    mb_overdue: money(summary.overdue),
    mb_next_milestone_date: summary.nextMilestoneDate ?? '',
    mb_schedule_status: summary.status,
  };
}

type Deps = Connection & { db: Db };

const Created = z.object({ name: z.string() });

/**
 * Creates the group and the properties in the portal, once: afterwards `propertiesReadyAt`
 * short-cuts every call. Concurrent callers may race; whoever loses gets 409 and is done too.
 */
export async function ensureBillingProperties(deps: Deps, portal: Portal): Promise<void> {
  const [install] = await deps.db
    .select({ readyAt: hubspotInstalls.propertiesReadyAt })
    .from(hubspotInstalls)
    .where(eq(hubspotInstalls.tenantId, portal.tenantId));
  if (install?.readyAt) return;
  // Properties name their group, so it must exist before any of them.
  await createDefinition(deps, portal, '/crm/properties/2026-03/0-3/groups', BILLING_GROUP);
  await Promise.all(
    BILLING_PROPERTIES.map((p) => createDefinition(deps, portal, '/crm/properties/2026-03/0-3', p)),
  );
  await deps.db
    .update(hubspotInstalls)
    .set({ propertiesReadyAt: new Date() })
    .where(eq(hubspotInstalls.tenantId, portal.tenantId));
}

/** POSTs a group or property definition. Safe to repeat: a second create answers 409. */
function createDefinition(
  deps: Deps,
  portal: Portal,
  path: string,
  body: object,
): Promise<'created' | 'exists'> {
  return withHubSpot(
    deps,
    portal,
    async (client) => {
      try {
        await request(client, { method: 'POST', path, body }, Created);
        return 'created';
      } catch (error) {
        // Another process got there first: the definition exists, which is all we need.
        if ((error as { code?: unknown }).code === 409) return 'exists';
        throw error;
      }
    },
    { safeToRepeat: true, background: true },
  );
}

const BATCH = 100;
const BatchUpdated = z.object({
  results: z.array(z.object({ id: z.string() })),
  errors: z
    .array(
      z.object({
        category: z.string(),
        context: z
          .object({ ids: z.array(z.string()) })
          .partial()
          .optional(),
      }),
    )
    .optional(),
});

/**
 * Many deals' roll-ups in as few calls as HubSpot allows: 100 deals per batch update. Answers the
 * deals HubSpot no longer has. A property someone deleted in HubSpot is created again, and the
 * batch written once more.
 */
export async function writeBillingSummaries(
  deps: Deps,
  portal: Portal,
  deals: { dealId: string; summary: BillingSummary }[],
): Promise<{ written: string[]; notFound: string[] }> {
  await ensureBillingProperties(deps, portal);
  const written: string[] = [];
  const notFound: string[] = [];
  for (let i = 0; i < deals.length; i += BATCH) {
    const inputs = deals
      .slice(i, i + BATCH)
      .map((d) => ({ id: d.dealId, properties: billingPropertyValues(d.summary) }));
    let answer = await batchUpdate(deps, portal, inputs);
    if (!answer) {
      await deps.db
        .update(hubspotInstalls)
        .set({ propertiesReadyAt: null })
        .where(eq(hubspotInstalls.tenantId, portal.tenantId));
      await ensureBillingProperties(deps, portal);
      answer = await batchUpdate(deps, portal, inputs);
      if (!answer)
        throw new DomainError('hubspot_error', 'HubSpot does not know the milestone billing deal properties');
    }
    written.push(...answer.results.map((r) => r.id));
    for (const e of answer.errors ?? [])
      if (e.category === 'OBJECT_NOT_FOUND') notFound.push(...(e.context?.ids ?? []));
  }
  return { written, notFound };
}

function batchUpdate(
  deps: Deps,
  portal: Portal,
  inputs: { id: string; properties: Record<string, string> }[],
) {
  return withHubSpot(
    deps,
    portal,
    async (client) => {
      try {
        return await request(
          client,
          { method: 'POST', path: '/crm/objects/2026-03/0-3/batch/update', body: { inputs } },
          BatchUpdated,
        );
      } catch (error) {
        const { code, body } = error as { code?: unknown; body?: unknown };
        if (code === 207) return BatchUpdated.parse(body);
        if (code === 400 && JSON.stringify(body ?? '').includes('PROPERTY_DOESNT_EXIST')) return undefined;
        throw error;
      }
    },
    { safeToRepeat: true, background: true },
  );
}
