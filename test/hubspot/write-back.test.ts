import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dealBillingSummary, writeBack } from '../../src/billing/write-back.ts';
import { fixedClock } from '../../src/domain/dates.ts';
import type { MilestoneEvent } from '../../src/domain/lifecycle.ts';
import { parseAmount } from '../../src/domain/money.ts';
import { billingPropertyValues, SCOPES } from '../../src/hubspot/index.ts';
import { newId } from '../../src/ids.ts';
import { hubspotWriteBack } from '../../src/jobs/hubspot-write-back.ts';
import { findMilestone } from '../../src/schedules/repository.ts';
import { applyTransition } from '../../src/schedules/transition.ts';
import { hubspotInstalls, invoicePushes, schedules } from '../../src/store/schema.ts';
import { type HubSpotSandbox, startHubSpotSandbox } from '../sandboxes/hubspot/index.ts';
import { startTestApp, type TestApp, type TestTenant } from '../support/app.ts';
import { eventually } from '../support/net.ts';

let hs: HubSpotSandbox;
let t: TestApp;
/** The fixtures' invoice is dated 2026-11-03, due 2026-12-03: today is before it is due. */
const TODAY = '2026-11-20';

beforeAll(async () => {
  hs = await startHubSpotSandbox();
  t = await startTestApp(
    {
      HUBSPOT_CLIENT_ID: hs.clientId,
      HUBSPOT_CLIENT_SECRET: hs.clientSecret,
      HUBSPOT_API_BASE_URL: hs.url,
      QBO_ENVIRONMENT: 'sandbox',
    },
    { clock: fixedClock(`${TODAY}T12:00:00Z`) },
  );
});
afterAll(async () => {
  await t?.close();
  await hs?.close();
});

const GROUP = 'milestone_billing';
const PROPERTIES = [
  'mb_invoiced_to_date',
  'mb_paid_to_date',
  'mb_outstanding',
  'mb_overdue',
  'mb_next_milestone_date',
  'mb_schedule_status',
];

/** A tenant whose portal has the realistic seed and the app installed with exactly its scopes. */
async function installedTenant() {
  const tenant = await t.tenant();
  const portal = Number(tenant.portalId);
  const seeded = hs.seedRealistic(portal);
  const tokens = hs.issueTokens(portal, { scopes: SCOPES });
  await t.ctx.hubspot.saveInstall(tenant.tenant.id, {
    portalId: tenant.portalId,
    hubDomain: null,
    installedBy: null,
    tokens: {
      access_token: tokens.accessToken,
      refresh_token: tokens.refreshToken,
      expires_in: tokens.expiresIn,
      scopes: SCOPES,
    },
  });
  return { tenant, portal, deals: seeded.deals, accessToken: tokens.accessToken };
}

type Installed = Awaited<ReturnType<typeof installedTenant>>;

/** O'Brien & Sons (EUR 48,000 in HubSpot): the contract value comes from the deal. */
async function scheduleOn(tenant: TestTenant, dealId: string) {
  const res = await tenant.put(`/deals/${dealId}/schedule`, {
    paymentTerms: 'net_30',
    milestones: [
      {
        name: 'Kick-off & <Discovery>',
        deliverable: 'Project plan',
        acceptanceCriteria: 'Plan signed by the client',
        percent: '10',
        plannedDate: '2026-11-02',
      },
      {
        name: 'Design',
        deliverable: 'Drawings',
        acceptanceCriteria: 'Drawings approved',
        percent: '40',
        plannedDate: '2026-12-15',
      },
      {
        name: 'Build',
        deliverable: 'Fit-out',
        acceptanceCriteria: 'Handover signed',
        percent: '50',
        plannedDate: '2027-02-01',
      },
    ],
  });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  expect(res.body.contractValue).toEqual({ amount: '48000.00', currency: 'EUR' });
  return res.body as { id: string; milestones: { id: string; name: string }[] };
}

async function move(tenantId: string, milestoneId: string, ...events: MilestoneEvent[]) {
  for (const event of events) {
    const row = (await findMilestone(t.database.db, tenantId, milestoneId))!;
    await t.database.db.transaction((tx) => applyTransition(tx, row, event, { actor: 'job:test' }));
  }
}

/**
 * The ledger row as the QuickBooks worker leaves it once QuickBooks answered. Upserted: the
 * acceptance may already have written the pending row.
 */
async function createdPush(values: {
  tenantId: string;
  milestoneId: string;
  acceptanceId: string;
  docNumber: string;
  amount: number;
  qboInvoiceId: string;
}) {
  const created = {
    ...values,
    status: 'created' as const,
    attempts: 1,
    currency: 'EUR',
    invoiceDate: '2026-11-03',
    dueDate: '2026-12-03',
    qboCustomerId: '58',
    writtenBackAt: null,
  };
  const [push] = await t.database.db
    .insert(invoicePushes)
    .values({ id: newId('push'), ...created })
    .onConflictDoUpdate({ target: invoicePushes.milestoneId, set: created })
    .returning();
  return push!;
}

let invoices = 0;
/** Accepted through the API, then invoiced the way the QuickBooks worker does it. */
async function invoice(tenant: TestTenant, milestoneId: string) {
  const accepted = await tenant.post(`/milestones/${milestoneId}/acceptances`, {
    acceptedBy: { name: 'Dana Client' },
  });
  expect(accepted.status, JSON.stringify(accepted.body)).toBe(201);
  const n = ++invoices;
  const push = await createdPush({
    tenantId: tenant.tenant.id,
    milestoneId,
    acceptanceId: accepted.body.acceptanceId,
    docNumber: `MB-${1000 + n}`,
    amount: parseAmount(accepted.body.milestone.amount.amount, 'EUR'),
    qboInvoiceId: String(140 + n),
  });
  await move(tenant.tenant.id, milestoneId, 'push', 'invoice_created');
  return push;
}

async function fixture(installed?: Installed) {
  const i = installed ?? (await installedTenant());
  const dealId = i.deals[0]!;
  const schedule = await scheduleOn(i.tenant, dealId);
  const push = await invoice(i.tenant, schedule.milestones[0]!.id);
  return { ...i, dealId, schedule, push };
}

const pushRow = async (id: string) =>
  (await t.database.db.select().from(invoicePushes).where(eq(invoicePushes.id, id)))[0]!;
const billingGroups = (portal: number) =>
  hs.propertyGroupsOf(portal, 'deals').filter((g) => g.name === GROUP);
const billingProps = (portal: number) =>
  hs.propertiesOf(portal, 'deals').filter((p) => PROPERTIES.includes(p.name));

describe('write-back of a created invoice to HubSpot', () => {
  it('creates the property group and properties, sets the deal values and adds one note linked 214', async () => {
    const { tenant, portal, dealId, push } = await fixture();
    expect(await writeBack(t.ctx, push.id)).toBe('written');

    expect(billingGroups(portal)).toEqual([
      expect.objectContaining({ name: GROUP, label: 'Milestone billing' }),
    ]);
    const props = billingProps(portal);
    expect(props.map((p) => p.name).sort()).toEqual([...PROPERTIES].sort());
    for (const p of props) {
      expect(p.groupName).toBe(GROUP);
      expect(p.label).not.toBe('');
      expect(p.description).not.toBe('');
    }
    const byName = Object.fromEntries(props.map((p) => [p.name, p]));
    expect(byName.mb_invoiced_to_date).toMatchObject({
      type: 'number',
      fieldType: 'number',
      numberDisplayHint: 'currency',
    });
    expect(byName.mb_outstanding).toMatchObject({ type: 'number', numberDisplayHint: 'currency' });
    expect(byName.mb_next_milestone_date).toMatchObject({ type: 'date', fieldType: 'date' });
    expect(byName.mb_schedule_status).toMatchObject({ type: 'enumeration', fieldType: 'select' });
    expect(byName.mb_schedule_status!.options.map((o) => o.value)).toEqual([
      'none',
      'draft',
      'active',
      'attention',
      'complete',
    ]);

    expect(hs.getDeal(portal, dealId)!.properties).toMatchObject({
      mb_invoiced_to_date: '4800.00',
      mb_paid_to_date: '0.00',
      mb_outstanding: '4800.00',
      mb_next_milestone_date: '2026-12-15',
      mb_schedule_status: 'active',
    });

    const notes = hs.notesFor(portal, dealId);
    expect(notes).toHaveLength(1);
    const [note] = notes;
    expect(note!.associationTypeIds).toEqual([214]);
    expect(Math.abs(Date.parse(note!.timestamp!) - Date.now())).toBeLessThan(60_000);
    expect(note!.body).toContain(push.docNumber);
    expect(note!.body).toContain('EUR 4,800.00');
    expect(note!.body).toContain('due 2026-12-03');
    expect(note!.body).toContain('10 % of the contract');
    expect(note!.body).toContain(
      `href="https://app.sandbox.qbo.intuit.com/app/invoice?txnId=${push.qboInvoiceId}"`,
    );
    // The milestone name is text, not markup.
    expect(note!.body).toContain('Kick-off &amp; &lt;Discovery&gt;');
    expect(note!.body).not.toContain('<Discovery>');

    expect((await pushRow(push.id)).writtenBackAt).toBeInstanceOf(Date);
    const [install] = await t.database.db
      .select()
      .from(hubspotInstalls)
      .where(eq(hubspotInstalls.tenantId, tenant.tenant.id));
    expect(install!.propertiesReadyAt).toBeInstanceOf(Date);

    // Again: nothing is sent to HubSpot at all.
    const before = hs.requests.filter((r) => r.portalId === portal).length;
    expect(await writeBack(t.ctx, push.id)).toBe('already_written');
    expect(hs.requests.filter((r) => r.portalId === portal)).toHaveLength(before);
    expect(hs.notesFor(portal, dealId)).toHaveLength(1);
  });

  it('creates the definitions once when two processes ensure them at the same time, and skips them later', async () => {
    const installed = await installedTenant();
    const { tenant, portal } = installed;
    const portalRef = { tenantId: tenant.tenant.id, portalId: tenant.portalId };
    await Promise.all([
      t.ctx.hubspot.ensureBillingProperties(portalRef),
      t.ctx.hubspot.ensureBillingProperties(portalRef),
    ]);
    expect(billingGroups(portal)).toHaveLength(1);
    expect(billingProps(portal)).toHaveLength(PROPERTIES.length);
    const definitions = hs.requests.filter(
      (r) => r.portalId === portal && r.method === 'POST' && r.path.startsWith('/crm/properties/2026-03/0-3'),
    );
    // Each definition was created exactly once; whatever else was sent met "already exists".
    expect(definitions.filter((r) => r.status === 201)).toHaveLength(1 + PROPERTIES.length);
    expect(definitions.every((r) => r.status === 201 || r.status === 409)).toBe(true);

    const before = hs.requests.filter((r) => r.portalId === portal).length;
    await t.ctx.hubspot.ensureBillingProperties(portalRef);
    expect(hs.requests.filter((r) => r.portalId === portal)).toHaveLength(before);

    // A second invoice on a portal that is ready writes values and a note, no definitions.
    const { push, dealId } = await fixture(installed);
    hs.clearLogs();
    expect(await writeBack(t.ctx, push.id)).toBe('written');
    expect(hs.requests.filter((r) => r.path.startsWith('/crm/properties/'))).toHaveLength(0);
    expect(hs.notesFor(portal, dealId)).toHaveLength(1);
  });

  it('rides out a 5xx from HubSpot on the deal update and on the note, still one note', async () => {
    const { portal, dealId, push } = await fixture();
    await t.ctx.hubspot.ensureBillingProperties({
      tenantId: push.tenantId,
      portalId: String(portal),
    });
    hs.failNext(1, 502, { match: '/crm/objects/2026-03/0-3/batch/update' });
    hs.failNext(1, 503, { match: '/crm/objects/2026-03/notes' });
    expect(await writeBack(t.ctx, push.id)).toBe('written');
    const failed = hs.requests.filter((r) => r.portalId === undefined || r.portalId === portal);
    expect(failed.some((r) => r.status === 502 && r.path === '/crm/objects/2026-03/0-3/batch/update')).toBe(
      true,
    );
    expect(failed.some((r) => r.status === 503 && r.path === '/crm/objects/2026-03/notes/batch/create')).toBe(
      true,
    );
    expect(hs.notesFor(portal, dealId)).toHaveLength(1);
    expect(hs.getDeal(portal, dealId)!.properties.mb_invoiced_to_date).toBe('4800.00');
    expect((await pushRow(push.id)).writtenBackAt).toBeInstanceOf(Date);
  });

  it('does not add a second note when an earlier attempt created it but did not record it', async () => {
    const { portal, dealId, push } = await fixture();
    // Someone's own note on the deal, which the look-up must not take for ours.
    hs.seed(portal, {
      notes: [
        {
          id: 990001,
          properties: { hs_note_body: '<p>Call with Dana</p>', hs_timestamp: '2026-10-01T09:00:00Z' },
        },
      ],
      associations: [{ fromType: 'notes', fromId: 990001, toType: 'deals', toId: dealId, typeId: 214 }],
    });
    expect(await writeBack(t.ctx, push.id)).toBe('written');
    // As if the worker died between HubSpot's answer and the database update.
    await t.database.db
      .update(invoicePushes)
      .set({ writtenBackAt: null })
      .where(eq(invoicePushes.id, push.id));
    expect(await writeBack(t.ctx, push.id)).toBe('written');
    const notes = hs.notesFor(portal, dealId);
    expect(notes).toHaveLength(2);
    expect(notes.filter((n) => n.body?.includes(push.docNumber))).toHaveLength(1);
    expect((await pushRow(push.id)).writtenBackAt).toBeInstanceOf(Date);
  });

  it('marks a push whose deal was deleted in HubSpot as written back instead of retrying forever', async () => {
    const { portal, dealId, push, accessToken } = await fixture();
    const deleted = await fetch(`${hs.url}/crm/objects/2026-03/0-3/${dealId}`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${accessToken}` },
    });
    expect(deleted.status).toBe(204);
    expect(await writeBack(t.ctx, push.id)).toBe('deal_not_found');
    expect((await pushRow(push.id)).writtenBackAt).toBeInstanceOf(Date);
    expect(hs.notesFor(portal, dealId)).toHaveLength(0);
    expect(await writeBack(t.ctx, push.id)).toBe('already_written');
  });

  it('recreates the properties when someone deleted one in HubSpot', async () => {
    const { portal, dealId, push, accessToken } = await fixture();
    await t.ctx.hubspot.ensureBillingProperties({ tenantId: push.tenantId, portalId: String(portal) });
    const removed = await fetch(`${hs.url}/crm/properties/2026-03/0-3/mb_outstanding`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${accessToken}` },
    });
    expect(removed.status).toBe(204);
    expect(await writeBack(t.ctx, push.id)).toBe('written');
    expect(billingProps(portal)).toHaveLength(PROPERTIES.length);
    expect(hs.getDeal(portal, dealId)!.properties.mb_outstanding).toBe('4800.00');
  });

  it('refuses a push that QuickBooks has not created yet', async () => {
    const { push } = await fixture();
    await t.database.db
      .update(invoicePushes)
      .set({ status: 'sending', writtenBackAt: null })
      .where(eq(invoicePushes.id, push.id));
    await expect(writeBack(t.ctx, push.id)).rejects.toMatchObject({ code: 'push_not_created' });
  });

  it("writes the tenant's waiting invoices together: two calls for three invoices", async () => {
    const installed = await installedTenant();
    const first = await fixture(installed);
    const second = await invoice(installed.tenant, first.schedule.milestones[1]!.id);
    const third = await invoice(installed.tenant, first.schedule.milestones[2]!.id);
    await t.ctx.hubspot.ensureBillingProperties({
      tenantId: first.push.tenantId,
      portalId: String(installed.portal),
    });
    hs.clearLogs();
    expect(await writeBack(t.ctx, first.push.id)).toBe('written');
    expect(hs.requests.map((r) => `${r.method} ${r.path}`)).toEqual([
      'POST /crm/objects/2026-03/0-3/batch/update',
      'POST /crm/objects/2026-03/notes/batch/create',
    ]);
    expect(await writeBack(t.ctx, second.id)).toBe('already_written');
    expect(await writeBack(t.ctx, third.id)).toBe('already_written');
    const notes = hs.notesFor(installed.portal, first.dealId);
    expect(notes.map((n) => /MB-\d+/.exec(n.body ?? '')?.[0]).sort()).toEqual(
      [first.push, second, third].map((p) => p.docNumber).sort(),
    );
    expect(hs.getDeal(installed.portal, first.dealId)!.properties.mb_invoiced_to_date).toBe('48000.00');
    for (const push of [first.push, second, third])
      expect((await pushRow(push.id)).writtenBackAt).toBeInstanceOf(Date);
  });

  it('says in the note when the invoice bills a part of its milestone accepted by amount', async () => {
    const installed = await installedTenant();
    const { schedule } = await fixture(installed);
    const design = schedule.milestones[1]!.id;
    const accepted = await installed.tenant.post(`/milestones/${design}/acceptances`, {
      acceptedBy: { name: 'Dana Client' },
      portion: { amount: '9000.00' },
    });
    expect(accepted.status, JSON.stringify(accepted.body)).toBe(201);
    const push = await createdPush({
      tenantId: installed.tenant.tenant.id,
      milestoneId: design,
      acceptanceId: accepted.body.acceptanceId,
      docNumber: 'MB-2001',
      amount: parseAmount('9000.00', 'EUR'),
      qboInvoiceId: '2001',
    });
    await move(installed.tenant.tenant.id, design, 'push', 'invoice_created');
    expect(await writeBack(t.ctx, push.id)).toBe('written');
    const note = hs.notesFor(installed.portal, installed.deals[0]!).find((n) => n.body?.includes('MB-2001'));
    expect(note?.body).toContain('partial acceptance');
    expect(note?.body).not.toContain('40 % of the contract');
  });

  it('runs as the hubspot-write-back job in the worker', async () => {
    const { portal, dealId, push } = await fixture();
    t.ctx.queues.process([hubspotWriteBack], t.ctx);
    await t.ctx.queues.enqueue(hubspotWriteBack, { pushId: push.id });
    await eventually(
      () => pushRow(push.id),
      (row) => row.writtenBackAt !== null,
    );
    expect(hs.notesFor(portal, dealId)).toHaveLength(1);
  });
});

const dealBillingProperties = async (db: typeof t.database.db, tenantId: string, dealId: string) =>
  billingPropertyValues(await dealBillingSummary(db, tenantId, dealId, TODAY));

describe('dealBillingProperties', () => {
  it('follows the schedule from draft through active and attention to complete, with paid amounts', async () => {
    const { tenant, deals } = await installedTenant();
    const dealId = deals[0]!;
    const db = t.database.db;
    const id = tenant.tenant.id;
    expect(await dealBillingProperties(db, id, dealId)).toEqual({
      mb_invoiced_to_date: '',
      mb_paid_to_date: '',
      mb_outstanding: '',
      mb_overdue: '',
      mb_next_milestone_date: '',
      mb_schedule_status: 'none',
    });

    const schedule = await scheduleOn(tenant, dealId);
    const [kickoff, design, build] = schedule.milestones.map((m) => m.id);
    expect(await dealBillingProperties(db, id, dealId)).toEqual({
      mb_invoiced_to_date: '0.00',
      mb_paid_to_date: '0.00',
      mb_outstanding: '0.00',
      mb_overdue: '0.00',
      mb_next_milestone_date: '2026-11-02',
      mb_schedule_status: 'draft',
    });

    await invoice(tenant, kickoff!);
    await invoice(tenant, design!);
    await move(id, kickoff!, 'full_payment');
    expect(await dealBillingProperties(db, id, dealId)).toEqual({
      mb_invoiced_to_date: '24000.00',
      mb_paid_to_date: '4800.00',
      mb_outstanding: '19200.00',
      mb_overdue: '0.00',
      mb_next_milestone_date: '2027-02-01',
      mb_schedule_status: 'active',
    });

    await move(id, design!, 'partial_payment');

    // A failed push needs a person; so does a schedule flagged against the deal.
    const accepted = await tenant.post(`/milestones/${build}/acceptances`, {});
    expect(accepted.status).toBe(201);
    await move(id, build!, 'push', 'invoice_failed');
    expect(await dealBillingProperties(db, id, dealId)).toMatchObject({
      mb_invoiced_to_date: '24000.00',
      mb_next_milestone_date: '',
      mb_schedule_status: 'attention',
    });

    await move(id, build!, 'retry', 'invoice_created');
    await createdPush({
      tenantId: id,
      milestoneId: build!,
      acceptanceId: accepted.body.acceptanceId,
      docNumber: 'MB-BUILD',
      amount: 2_400_000,
      qboInvoiceId: '999',
    });
    expect(await dealBillingProperties(db, id, dealId)).toEqual({
      mb_invoiced_to_date: '48000.00',
      mb_paid_to_date: '4800.00',
      mb_outstanding: '43200.00',
      mb_overdue: '0.00',
      mb_next_milestone_date: '',
      mb_schedule_status: 'complete',
    });

    await db
      .update(schedules)
      .set({ attention: ['amount_mismatch'] })
      .where(eq(schedules.id, schedule.id));
    expect((await dealBillingProperties(db, id, dealId)).mb_schedule_status).toBe('attention');
  });
});
