/**
 * The demo's portfolio: enough billing across customers, currencies, owners and stages that the
 * bookkeeper's pages (portfolio, forecast, aging) show something real at first sight.
 *
 * HubSpot records go into the sandbox before the app starts (so their ids are the same on every
 * run). Everything after goes through the app's own paths, as people and platforms would do it:
 * schedules through the API with the demo's key, acceptances through the signed acceptance
 * webhook (dated in the past, so invoices are dated and fall due in the past), invoices pushed
 * into the QuickBooks sandbox by the worker, payments entered on them as a bookkeeper does in
 * QuickBooks, dated the days they came in (its webhooks tell the app; the forecast shows them in
 * the weeks behind), and one invoice refused by QuickBooks itself: the admin had chosen an income
 * item a bookkeeper then deleted there.
 *
 * Forecast by design (weeks from Monday, k = weeks after this one; USD):
 *   this week  Acme "Site survey & permits" 15,000 (overdue since 12 days)
 *   k = 2      Acme "Foundations", 15,000 still open of 25,000 (10,000 paid)
 *   k = 8      65,000: Acme "Steel frame", Northwind "Data pipelines", Acme's Q2 visit (the cluster)
 *   others     6,000 to 25,000; weeks with nothing in between are the gaps.
 * EUR has its own: O'Brien's two fit-outs fall due in one week (about 22,000 against a median
 * near 9,600), beside Müller & Schmidt's refused invoice and paid survey.
 *
 * Idempotent on a restart with the same DATA_DIR: a schedule already there is kept, a repeated
 * acceptance is a duplicate (same event id) and makes no invoice, and payments are only entered
 * on invoices this run's QuickBooks company holds unpaid.
 */
import { and, eq, inArray } from 'drizzle-orm';
import { signAcceptance } from '../../src/acceptance/signature.ts';
import { addDays, type CalendarDate, today } from '../../src/domain/dates.ts';
import { weekOf } from '../../src/domain/forecast.ts';
import { formatAmount } from '../../src/domain/money.ts';
import { type PaymentTerms, termDays } from '../../src/domain/terms.ts';
import type { Runtime } from '../../src/runtime.ts';
import { invoicePushes, milestones } from '../../src/store/schema.ts';
import type { Tenant } from '../../src/tenants/repository.ts';
import type { HubSpotSandbox } from '../sandboxes/hubspot/index.ts';
import type { Owner, Portal } from '../sandboxes/hubspot/types.ts';
import type { QuickBooksSandbox } from '../sandboxes/quickbooks/index.ts';

/** A second salesperson in the portal, owning some of the deals (the installing admin owns the rest). */
export const SECOND_OWNER: Owner = {
  id: '45679001',
  userId: 45_679_001,
  email: 'maeve.kelly@obrien-demo.hubspot-sandbox.test',
  firstName: 'Maeve',
  lastName: 'Kelly',
};

const NORTHWIND_DEAL = 'Northwind Analytics – Data Platform';

/**
 * Adds to the seeded HubSpot account what the portfolio needs: Maeve Kelly as a second owner (of
 * Acme's maintenance deal, Müller & Schmidt's retrofit and a new US customer's deal), and that new
 * customer, Northwind Analytics, with its contact and a closed-won USD deal. Run before the app
 * touches the sandbox, so the ids are the same on every run.
 */
export async function seedHubSpotPortfolio(hs: HubSpotSandbox, portalId: number): Promise<void> {
  // The sandbox has no call to add a user to an account; its state holds the owners HubSpot's
  // owners API lists (and the app names in the portfolio's filters).
  const sandbox = hs as unknown as { ctx: { state: { requirePortal(id: number): Portal } } };
  const owners = sandbox.ctx.state.requirePortal(portalId).owners;
  if (!owners.some((o) => o.id === SECOND_OWNER.id)) owners.push({ ...SECOND_OWNER });

  const { companies, contacts, deals } = hs.seed(portalId, {
    companies: [
      {
        properties: {
          name: 'Northwind Analytics, Inc.',
          domain: 'northwind-analytics.com',
          address: '1200 Pine Street',
          address2: 'Floor 9',
          city: 'Seattle',
          state: 'WA',
          zip: '98101',
          country: 'United States',
          phone: '+1 206 555 0147',
          hubspot_owner_id: SECOND_OWNER.id,
        },
        createdAt: '2026-02-10T17:00:00Z',
      },
    ],
    contacts: [
      {
        properties: {
          firstname: 'Ravi',
          lastname: 'Shah',
          email: 'ravi.shah@northwind-analytics.com',
          company: 'Northwind Analytics, Inc.',
          phone: '+1 206 555 0148',
        },
        createdAt: '2026-02-10T17:05:00Z',
      },
    ],
    deals: [
      {
        properties: {
          dealname: NORTHWIND_DEAL,
          amount: '60000',
          deal_currency_code: 'USD',
          dealstage: 'closedwon',
          pipeline: 'default',
          closedate: '2026-10-15T00:00:00Z',
          dealtype: 'newbusiness',
          hubspot_owner_id: SECOND_OWNER.id,
        },
        createdAt: '2026-08-03T15:30:00Z',
      },
    ],
  });
  hs.seed(portalId, {
    associations: [
      { fromType: 'contacts', fromId: contacts[0]!, toType: 'companies', toId: companies[0]!, primary: true },
      { fromType: 'deals', fromId: deals[0]!, toType: 'companies', toId: companies[0]!, primary: true },
      { fromType: 'deals', fromId: deals[0]!, toType: 'contacts', toId: contacts[0]! },
    ],
  });
  for (const name of ['Acme Widgets – Annual Maintenance', 'Müller & Schmidt – Warehouse Retrofit'])
    await hs.updateDeal(portalId, dealNamed(hs, portalId, name).id, { hubspot_owner_id: SECOND_OWNER.id });
}

function dealNamed(hs: HubSpotSandbox, portalId: number, prefix: string) {
  const deal = hs.listDeals(portalId).find((d) => d.properties.dealname?.startsWith(prefix));
  if (!deal) throw new Error(`the HubSpot sandbox has no deal named ${prefix}…`);
  return deal;
}

interface PlannedMilestone {
  key: string;
  name: string;
  deliverable: string;
  acceptanceCriteria: string;
  amount: string;
  /** The week (0 = this one) whose Wednesday the forecast should expect the cash in. */
  expectedInWeek?: number;
  /** Or: planned this many days from today. */
  plannedInDays?: number;
  /** Or: accepted this many days ago, so its invoice is dated then. */
  acceptedDaysAgo?: number;
  acceptedBy?: { name: string; email: string };
  evidence?: string;
  /** What a bookkeeper enters in QuickBooks on its invoice (all of it, or this much), received that many days ago. */
  payment?: { amount: 'full' | string; daysAgo: number };
  /** The invoice QuickBooks refuses (the income item was deleted there). */
  refused?: true;
}

interface SeedSchedule {
  deal: string;
  paymentTerms: PaymentTerms;
  milestones: PlannedMilestone[];
}

const acme = { name: 'Jane Doe', email: 'jane.doe@acmewidgets.com' };
const northwind = { name: 'Ravi Shah', email: 'ravi.shah@northwind-analytics.com' };
const mueller = { name: 'Anna Schmidt', email: 'anna.schmidt@mueller-schmidt.de' };

const SCHEDULES: SeedSchedule[] = [
  {
    deal: 'Acme Widgets – Factory Expansion',
    paymentTerms: 'net_30',
    milestones: [
      {
        key: 'site-survey',
        name: 'Site survey & permits',
        deliverable: 'Site survey report and approved building permits',
        acceptanceCriteria: 'Permits issued by the city and survey report signed off',
        amount: '15000.00',
        acceptedDaysAgo: 42,
        acceptedBy: acme,
        evidence: 'Permit approval.pdf',
      },
      {
        key: 'foundations',
        name: 'Foundations',
        deliverable: 'Foundations poured and cured',
        acceptanceCriteria: 'Structural engineer signs the foundation inspection',
        amount: '25000.00',
        acceptedDaysAgo: 16,
        acceptedBy: acme,
        evidence: 'Foundation inspection.pdf',
        payment: { amount: '10000.00', daysAgo: 6 },
      },
      {
        key: 'steel-frame',
        name: 'Steel frame',
        deliverable: 'Steel frame erected and bolted',
        acceptanceCriteria: 'Frame inspection passed',
        amount: '35000.00',
        expectedInWeek: 8,
      },
      {
        key: 'handover',
        name: 'Fit-out & handover',
        deliverable: 'Interior fit-out complete, keys handed over',
        acceptanceCriteria: 'Certificate of occupancy issued',
        amount: '25000.00',
        expectedInWeek: 14,
      },
    ],
  },
  {
    deal: 'Acme Widgets – Annual Maintenance',
    paymentTerms: 'net_15',
    milestones: [1, 2, 3, 4].map((quarter, i) => ({
      key: `q${quarter}-visit`,
      name: `Q${quarter} service visit`,
      deliverable: `Quarterly maintenance visit ${quarter} of 4, with its service report`,
      acceptanceCriteria: 'Service report countersigned by the plant manager',
      amount: '6000.00',
      expectedInWeek: [3, 8, 16, 24][i]!,
    })),
  },
  {
    deal: NORTHWIND_DEAL,
    paymentTerms: 'net_30',
    milestones: [
      {
        key: 'data-audit',
        name: 'Discovery & data audit',
        deliverable: 'Data audit and platform architecture',
        acceptanceCriteria: 'Architecture approved by the client’s CTO',
        amount: '12000.00',
        acceptedDaysAgo: 35,
        acceptedBy: northwind,
        evidence: 'Architecture sign-off.pdf',
        payment: { amount: 'full', daysAgo: 12 },
      },
      {
        key: 'pipelines',
        name: 'Data pipelines',
        deliverable: 'Ingestion pipelines for the five source systems',
        acceptanceCriteria: 'A week of loads without a failed run',
        amount: '24000.00',
        expectedInWeek: 8,
      },
      {
        key: 'dashboards',
        name: 'Dashboards & handover',
        deliverable: 'Executive dashboards and runbook',
        acceptanceCriteria: 'Dashboards accepted in the steering meeting',
        amount: '24000.00',
        expectedInWeek: 12,
      },
    ],
  },
  {
    deal: 'Müller & Schmidt – Warehouse Retrofit',
    paymentTerms: 'net_30',
    milestones: [
      {
        key: 'survey',
        name: 'Survey & racking design',
        deliverable: 'Warehouse survey and racking layout',
        acceptanceCriteria: 'Layout approved by the warehouse manager',
        amount: '3000.50',
        acceptedDaysAgo: 33,
        acceptedBy: mueller,
        evidence: 'Layout approval.pdf',
        payment: { amount: 'full', daysAgo: 9 },
      },
      {
        key: 'racking',
        name: 'Racking installation',
        deliverable: 'Pallet racking installed in halls A and B',
        acceptanceCriteria: 'Load test passed and signed off',
        amount: '6000.00',
        acceptedDaysAgo: 4,
        acceptedBy: mueller,
        evidence: 'Load test report.pdf',
        refused: true,
      },
      {
        key: 'commissioning',
        name: 'Commissioning & handover',
        deliverable: 'Commissioned retrofit and as-built drawings',
        acceptanceCriteria: 'Handover protocol signed',
        amount: '3000.00',
        expectedInWeek: 18,
      },
    ],
  },
  {
    deal: 'O\'Brien & Sons – Phase 2 "Harbour View"',
    paymentTerms: 'net_30',
    milestones: [
      {
        key: 'fit-out',
        name: 'Harbour View fit-out',
        deliverable: 'Second-floor fit-out of the Harbour View offices',
        acceptanceCriteria: 'Snag list closed and signed by the client',
        amount: '9999.99',
        // The Office Fit-out is on the software template from today (main.ts): its Design
        // milestone is planned 42 days out, on net 30. This one falls due that same day.
        plannedInDays: 42,
      },
    ],
  },
];

export interface PortfolioSeed {
  appUrl: string;
  hs: HubSpotSandbox;
  qbo: QuickBooksSandbox;
  rt: Runtime;
  tenant: Tenant;
  portalId: number;
  realmId: string;
  /** The installing HubSpot user, who (in the card) may manage the app's settings. */
  admin: { userId: number; email: string };
  secret: string;
  api: (
    method: string,
    path: string,
    body?: unknown,
  ) => Promise<{ status: number; body: Record<string, unknown> }>;
}

export interface Seeded {
  /** Whether this run made the invoices (false: an earlier run in DATA_DIR did). */
  fresh: boolean;
  deals: number;
  customers: number;
  invoices: number;
  paid: number;
  partiallyPaid: number;
  overdue: number;
  refused: { milestone: string; docNumber: string; reason: string } | undefined;
  /** The forecast's cluster weeks, as the API answers them. */
  clusters: { currency: string; week: string; amount: string; median: string }[];
}

interface ForecastView {
  currencies: {
    currency: string;
    median: { amount: string };
    weeks: { week: string; mark: string | null; amount: { amount: string } }[];
  }[];
}

type ViewMilestone = { id: string; key: string; status: string };

/** Schedules, acceptances, invoices and payments of the demo's portfolio; see the file's comment. */
export async function seedPortfolio(s: PortfolioSeed): Promise<Seeded> {
  const asOf = today();
  const monday = weekOf(asOf);
  const dealOf = (name: string) => dealNamed(s.hs, s.portalId, name);

  // Planned milestones are dated so that planned date + terms falls on the week's Wednesday.
  const planned = (m: PlannedMilestone, terms: PaymentTerms): CalendarDate => {
    if (m.acceptedDaysAgo !== undefined) return addDays(asOf, -m.acceptedDaysAgo);
    if (m.plannedInDays !== undefined) return addDays(asOf, m.plannedInDays);
    return addDays(monday, 7 * (m.expectedInWeek ?? 0) + 2 - termDays(terms));
  };

  const views = new Map<string, { dealId: string; milestones: ViewMilestone[] }>();
  for (const schedule of SCHEDULES) {
    const deal = dealOf(schedule.deal);
    const existing = await s.api('GET', `/deals/${deal.id}/schedule`);
    const answer =
      existing.status === 200
        ? existing
        : await s.api('PUT', `/deals/${deal.id}/schedule`, {
            paymentTerms: schedule.paymentTerms,
            milestones: schedule.milestones.map((m) => ({
              key: m.key,
              name: m.name,
              deliverable: m.deliverable,
              acceptanceCriteria: m.acceptanceCriteria,
              amount: m.amount,
              plannedDate: planned(m, schedule.paymentTerms),
            })),
          });
    if (answer.status !== 200)
      throw new Error(`the schedule of ${schedule.deal} was not made: ${JSON.stringify(answer.body)}`);
    views.set(schedule.deal, {
      dealId: deal.id,
      milestones: (answer.body as unknown as { milestones: ViewMilestone[] }).milestones,
    });
  }

  const accept = async (schedule: SeedSchedule, m: PlannedMilestone) => {
    const { dealId } = views.get(schedule.deal)!;
    const acceptedAt = new Date(`${addDays(asOf, -(m.acceptedDaysAgo ?? 0))}T15:00:00Z`);
    const raw = JSON.stringify({
      id: `demo-seed-${dealId}-${m.key}`,
      portalId: String(s.portalId),
      dealId,
      milestone: { key: m.key },
      acceptedAt: (acceptedAt > new Date() ? new Date() : acceptedAt).toISOString(),
      acceptedBy: m.acceptedBy ?? {},
      evidence: m.evidence
        ? [{ name: m.evidence, url: `https://files.client.example/${encodeURI(m.evidence)}` }]
        : [],
      note: 'Signed off by the client',
    });
    const res = await fetch(`${s.appUrl}/webhooks/acceptance`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-acceptance-signature': signAcceptance(s.secret, raw),
      },
      body: raw,
    });
    const body = (await res.json()) as { outcome?: string; milestone?: { id: string } };
    if (res.status !== 200 || !body.milestone)
      throw new Error(
        `accepting ${m.name} of ${schedule.deal} failed: HTTP ${res.status} ${JSON.stringify(body)}`,
      );
    return { milestoneId: body.milestone.id, fresh: body.outcome === 'accepted' };
  };
  const acceptedOnes = SCHEDULES.flatMap((schedule) =>
    schedule.milestones.filter((m) => m.acceptedDaysAgo !== undefined).map((m) => ({ schedule, m })),
  );

  // The refusal first, while nothing else is on its way to QuickBooks: the income item the admin
  // chose is deleted in QuickBooks, so QuickBooks refuses the invoice; then the admin puts the
  // setting back to the app's own item, so Retry on the portfolio page sends it.
  const refusal = acceptedOnes.find((a) => a.m.refused)!;
  const refusedView = views.get(refusal.schedule.deal)!.milestones.find((v) => v.key === refusal.m.key)!;
  let fresh = false;
  if (refusedView.status === 'planned') {
    const item = s.qbo.addItem(s.realmId, {
      Name: 'Fit-out services',
      Type: 'Service',
      IncomeAccountRef: { value: '1' },
    });
    await invoiceDefaults(s, { incomeItemId: item.Id });
    try {
      s.qbo.deactivate(s.realmId, 'Item', item.Id);
      const { milestoneId } = await accept(refusal.schedule, refusal.m);
      const [push] = await settled(s, [milestoneId]);
      if (push!.status !== 'failed')
        throw new Error(`QuickBooks did not refuse the invoice of ${refusal.m.name}: it is ${push!.status}`);
      fresh = true;
    } finally {
      await invoiceDefaults(s, { incomeItemId: null });
    }
  }

  const results = await Promise.all(
    acceptedOnes.filter((a) => !a.m.refused).map(async (a) => ({ ...a, ...(await accept(a.schedule, a.m)) })),
  );
  const made = results.filter((r) => r.fresh);
  fresh ||= made.length > 0;
  const pushes = await settled(
    s,
    made.map((r) => r.milestoneId),
  );
  const failed = pushes.find((p) => p.status !== 'created');
  if (failed)
    throw new Error(`invoice ${failed.docNumber} was not created in QuickBooks: ${failed.errorMessage}`);

  // The bookkeeper enters what came in, in QuickBooks; its webhooks bring the payments to the app.
  const invoices = new Map(s.qbo.invoices(s.realmId).map((i) => [i.Id, i]));
  const paying = made.filter((r) => r.m.payment);
  for (const r of paying) {
    const push = pushes.find((p) => p.milestoneId === r.milestoneId)!;
    const invoice = push.qboInvoiceId ? invoices.get(push.qboInvoiceId) : undefined;
    if (
      !invoice ||
      invoice.DocNumber !== push.docNumber ||
      Number(invoice.Balance) !== Number(invoice.TotalAmt)
    )
      continue;
    const { amount, daysAgo } = r.m.payment!;
    const paid = amount === 'full' ? formatAmount(push.amount, push.currency) : amount;
    s.qbo.recordPayment(s.realmId, invoice.Id, Number(paid), addDays(asOf, -daysAgo));
  }
  await until(
    'payments from QuickBooks',
    () =>
      s.rt.database.db
        .select({ id: milestones.id, status: milestones.status })
        .from(milestones)
        .where(
          inArray(
            milestones.id,
            paying.map((r) => r.milestoneId),
          ),
        ),
    (rows) =>
      rows.every((row) => {
        const r = paying.find((p) => p.milestoneId === row.id)!;
        return row.status === (r.m.payment!.amount === 'full' ? 'paid' : 'partially_paid');
      }),
  );

  const all = await s.rt.database.db
    .select()
    .from(invoicePushes)
    .where(eq(invoicePushes.tenantId, s.tenant.id));
  const [refused] = await s.rt.database.db
    .select({ push: invoicePushes, name: milestones.name })
    .from(invoicePushes)
    .innerJoin(milestones, eq(milestones.id, invoicePushes.milestoneId))
    .where(and(eq(invoicePushes.tenantId, s.tenant.id), eq(invoicePushes.status, 'failed')));
  const created = all.filter((p) => p.status === 'created');
  const forecast = await s.api('GET', '/portfolio/forecast');
  if (forecast.status !== 200) throw new Error(`the forecast failed: ${JSON.stringify(forecast.body)}`);
  const clusters = (forecast.body as unknown as ForecastView).currencies.flatMap((c) =>
    c.weeks
      .filter((w) => w.mark === 'cluster')
      .map((w) => ({ currency: c.currency, week: w.week, amount: w.amount.amount, median: c.median.amount })),
  );
  return {
    fresh,
    deals: views.size,
    customers: new Set(SCHEDULES.map((x) => dealOf(x.deal).primaryCompanyId)).size,
    invoices: created.length,
    paid: created.filter((p) => p.paidAmount >= p.amount).length,
    partiallyPaid: created.filter((p) => p.paidAmount > 0 && p.paidAmount < p.amount).length,
    overdue: created.filter((p) => p.dueDate && p.dueDate < asOf && p.paidAmount < p.amount).length,
    refused: refused && {
      milestone: refused.name,
      docNumber: refused.push.docNumber,
      reason: refused.push.errorMessage ?? '',
    },
    clusters,
  };
}

/** The admin's change on the settings page in HubSpot: a card call, signed as HubSpot signs it. */
async function invoiceDefaults(s: PortfolioSeed, changes: Record<string, unknown>): Promise<void> {
  const res = await s.hs.hubspotFetch(`${s.appUrl}/card/v1/settings/invoice-defaults`, {
    method: 'PUT',
    body: changes,
    as: { portalId: s.portalId, userId: s.admin.userId },
  });
  if (res.status !== 200)
    throw new Error(`saving the invoice defaults failed: HTTP ${res.status} ${await res.text()}`);
}

/** The pushes of these milestones once each is created in QuickBooks or refused. */
function settled(s: PortfolioSeed, milestoneIds: string[]) {
  return until(
    'invoices in QuickBooks',
    () =>
      s.rt.database.db.select().from(invoicePushes).where(inArray(invoicePushes.milestoneId, milestoneIds)),
    (rows) =>
      rows.length === milestoneIds.length &&
      rows.every((r) => r.status === 'created' || r.status === 'failed'),
  );
}

async function until<T>(
  what: string,
  read: () => Promise<T>,
  done: (value: T) => boolean,
  timeoutMs = 20_000,
) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > deadline) throw new Error(`${what}: not there after ${timeoutMs / 1000} s`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
