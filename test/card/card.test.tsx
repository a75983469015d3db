import {
  Alert,
  Button,
  Checkbox,
  EmptyState,
  Input,
  Link,
  List,
  Select,
  StatisticsItem,
  Table,
  TableRow,
  Tag,
  Text,
} from '@hubspot/ui-extensions';
import { createRenderer } from '@hubspot/ui-extensions/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BACKEND } from '../../plugin-manifest/src/app/cards/api.ts';
import { Card } from '../../plugin-manifest/src/app/cards/Card.tsx';
import type { CardUser } from '../sandboxes/hubspot/index.ts';
import { type Billing, startBilling } from '../support/billing.ts';
import { confirmLink } from '../support/links.ts';
import { eventually } from '../support/net.ts';

let b: Billing;
/** Who is signed in to HubSpot and looking at the card. */
let viewer: CardUser;
beforeAll(async () => {
  b = await startBilling({ listen: true });
  const appUrl = b.t.ctx.config.publicUrl;
  // HubSpot's side of hubspot.fetch: the card's request, with who is looking at the card appended
  // and signed v3 with the app's secret, sent to the real backend (a local port, not production's).
  Object.assign(globalThis, {
    self: globalThis,
    hsFetch: (url: string | URL, options: { method?: string; body?: unknown } = {}) =>
      b.hs.hubspotFetch(String(url).replace(BACKEND, appUrl), {
        method: options.method,
        body: options.body,
        as: viewer,
      }),
  });
});
afterAll(() => b?.close());

type Tenant = Awaited<ReturnType<Billing['connectedTenant']>>;
const WAIT = { timeoutInMs: 15_000 };

/** The card on a deal's record, as Sam, a sales rep of the tenant's portal, sees it. */
function renderCard(tenant: Tenant, dealId: string) {
  b.hs.addUser(tenant.portal, { id: 77, email: 'sam@agency.example' });
  viewer = { portalId: tenant.portal, userId: 77 };
  const renderer = createRenderer('crm.record.tab');
  renderer.render(<Card dealId={dealId} />);
  return renderer;
}

const rowsOf = (r: ReturnType<typeof renderCard>) => r.find(Table).findAll(TableRow).length - 1;
const input = (r: ReturnType<typeof renderCard>, name: string) => r.find(Input, { name });
/**
 * Types into an input as a person would, and waits until the card shows it (a click right after
 * would otherwise act on the state before). The testing types want the handler, not its argument.
 */
async function type(r: ReturnType<typeof renderCard>, name: string, value: string) {
  (input(r, name).trigger as (event: 'onInput', value: string) => void)('onInput', value);
  await r.waitFor(() => expect(input(r, name).props.value).toBe(value));
}

describe('the deal card', () => {
  it('offers a template for a deal with no schedule and applies it to the deal amount', async () => {
    const tenant = await b.connectedTenant();
    const deal = tenant.dealNamed('Acme Widgets – Factory Expansion');
    const card = renderCard(tenant, deal.id);
    await card.waitFor(() => expect(card.find(EmptyState).props.title).toBe('No billing schedule yet'), WAIT);
    expect(card.find(EmptyState).find(Text).text).toContain('USD 100000.00');
    card.findByTestId(Button, 'apply-template').trigger('onClick');
    await card.waitFor(() => expect(rowsOf(card)).toBe(4), WAIT);
    const schedule = await tenant.get(`/deals/${deal.id}/schedule`);
    expect(schedule.body.contractValue).toEqual({ amount: '100000.00', currency: 'USD' });
  });

  it('shows what is over-allocated while a schedule is built by hand, and the backend refusal by its field', async () => {
    const tenant = await b.connectedTenant();
    const deal = tenant.dealNamed('Acme Widgets – Annual Maintenance');
    const card = renderCard(tenant, deal.id);
    await card.waitFor(() => card.findByTestId(Button, 'build'), WAIT);
    card.findByTestId(Button, 'build').trigger('onClick');
    await type(card, 'milestones[0].percent', '60');
    card.findByTestId(Button, 'add-row').trigger('onClick');
    await type(card, 'milestones[1].percent', '50');
    expect(card.findByTestId(Text, 'allocation').text).toBe('110 % allocated: 10 % over the contract');
    expect(card.findByTestId(Button, 'save-schedule').props.disabled).toBe(true);

    await type(card, 'milestones[1].percent', '40');
    expect(card.findByTestId(Text, 'allocation').text).toBe('100 % allocated');
    card.findByTestId(Button, 'save-schedule').trigger('onClick');
    // Names and dates were left empty: the backend says so next to each field.
    await card.waitFor(
      () => expect(input(card, 'milestones[0].name').props.validationMessage).toContain('name'),
      WAIT,
    );
    expect(input(card, 'milestones[1].plannedDate').props.error).toBe(true);
    expect((await tenant.get(`/deals/${deal.id}/schedule`)).status).toBe(404);
  });

  it('shows invoiced, partly accepted and refused milestones; a retry after the fix invoices it', async () => {
    const tenant = await b.connectedTenant();
    const deal = tenant.dealNamed('Acme Widgets – Factory Expansion');
    expect(
      (
        await tenant.post(`/deals/${deal.id}/schedule/template`, {
          template: 'software',
          startDate: '2026-12-01',
        })
      ).status,
    ).toBe(201);
    await tenant.accept({ id: `c-1-${tenant.portal}`, dealId: deal.id, milestone: { key: 'discovery' } });
    await tenant.accept({
      id: `c-2-${tenant.portal}`,
      dealId: deal.id,
      milestone: { key: 'design' },
      portion: { percent: 40 },
    });
    await tenant.settled(2);
    // An income item QuickBooks does not know: the next invoice is refused.
    await b.t.database.db.execute(
      `update tenants set settings = '{"incomeItemId":"999999"}' where id = '${tenant.tenant.id}'`,
    );
    await tenant.accept({ id: `c-3-${tenant.portal}`, dealId: deal.id, milestone: { key: 'build' } });
    await tenant.settled(3);

    const card = renderCard(tenant, deal.id);
    await card.waitFor(() => expect(rowsOf(card)).toBe(5), WAIT);
    const statuses = card.findAll(Tag).map((t) => t.text);
    expect(statuses.filter((s) => s === 'invoiced')).toHaveLength(2);
    expect(statuses).toContain('invoice failed');
    expect(statuses.filter((s) => s === 'locked')).toHaveLength(3);
    const links = card.findAll(Link).map((l) => [l.text, l.props.href]);
    expect(links).toEqual(
      expect.arrayContaining([
        [
          expect.stringMatching(/^MB-\d+$/),
          expect.stringContaining('app.sandbox.qbo.intuit.com/app/invoice?txnId='),
        ],
      ]),
    );
    const refused = card.findAll(Alert).find((a) => a.props.title === 'Invoice refused')!;
    expect(refused.find(Text).text).toContain('Invalid Reference Id');

    await b.t.database.db.execute(`update tenants set settings = '{}' where id = '${tenant.tenant.id}'`);
    refused.find(Button).trigger('onClick');
    await card.waitFor(
      () => expect(card.findAll(Alert).some((a) => a.props.title === 'Invoice refused')).toBe(false),
      WAIT,
    );
    await tenant.settled(3);
    expect((await tenant.pushesOf()).map((r) => r.push.status)).toEqual(['created', 'created', 'created']);
  }, 60_000);

  it('records a partial acceptance and a change order, with invoiced rows locked', async () => {
    const tenant = await b.connectedTenant();
    const deal = tenant.dealNamed('Acme Widgets – Factory Expansion');
    const schedule = await tenant.post(`/deals/${deal.id}/schedule/template`, {
      template: 'software',
      startDate: '2026-12-01',
    });
    const design = schedule.body.milestones[1].id as string;
    const card = renderCard(tenant, deal.id);
    await card.waitFor(() => expect(rowsOf(card)).toBe(4), WAIT);

    card.findByTestId(Button, `accept-${design}`).trigger('onClick');
    await type(card, 'portion.percent', '25');
    await type(card, 'acceptedBy.name', 'Dana Client');
    card.findByTestId(Button, 'record-acceptance').trigger('onClick');
    await card.waitFor(() => expect(rowsOf(card)).toBe(5), WAIT);
    expect((await tenant.settled(1))[0]!.push.amount).toBe(625_000);
    // The accepted part is locked; the remainder stays open.
    await card.waitFor(
      () => expect(card.findAll(Tag).filter((t) => t.text === 'locked')).toHaveLength(1),
      WAIT,
    );

    card.findByTestId(Button, 'change-order').trigger('onClick');
    card.findByTestId(Button, 'submit-change-order').trigger('onClick');
    await card.waitFor(() => expect(input(card, 'reason').props.validationMessage).toContain('reason'), WAIT);
    await type(card, 'reason', 'Client adds a mobile app');
    await type(card, 'add[0].name', 'Mobile app');
    await type(card, 'add[0].deliverable', 'iOS and Android apps');
    await type(card, 'add[0].acceptanceCriteria', 'Store approval');
    await type(card, 'add[0].amount', '20000.00');
    await type(card, 'add[0].plannedDate', '2027-05-01');
    card.findByTestId(Button, 'submit-change-order').trigger('onClick');
    // More scope than the contract holds: refused, and said so.
    await card.waitFor(
      () => expect(card.findByTestId(Text, 'refusal').text).toContain('exceed the contract'),
      WAIT,
    );
    await type(card, 'contractValue.amount', '120000.00');
    card.findByTestId(Button, 'submit-change-order').trigger('onClick');
    await card.waitFor(() => expect(rowsOf(card)).toBe(6), WAIT);
    const history = await tenant.get(`/deals/${deal.id}/schedule/versions`);
    expect(JSON.stringify(history.body)).toContain('change order: Client adds a mobile app');
  }, 60_000);

  it("builds rows by percent and by amount, accepted at a stage of the deal's pipeline, with their own terms", async () => {
    const tenant = await b.connectedTenant();
    const deal = tenant.dealNamed('Acme Widgets – Factory Expansion');
    const card = renderCard(tenant, deal.id);
    await card.waitFor(() => card.findByTestId(Button, 'build'), WAIT);
    card.findByTestId(Button, 'build').trigger('onClick');
    const stage = () => card.find(Select, { name: 'milestones[0].triggerStage' });
    // The stages come from the deal's pipeline in HubSpot, in their order.
    expect(stage().props.options.map((o) => o.label)).toEqual([
      'No stage (acceptance recorded)',
      'Appointment Scheduled',
      'Qualified To Buy',
      'Presentation Scheduled',
      'Decision Maker Bought-In',
      'Contract Sent',
      'Closed Won',
      'Closed Lost',
    ]);
    const choose = (name: string, value: string) =>
      (card.find(Select, { name }).trigger as (e: 'onChange', v: string) => void)('onChange', value);
    for (const [i, name] of ['Kick-off', 'Handover'].entries()) {
      if (i > 0) card.findByTestId(Button, 'add-row').trigger('onClick');
      await card.waitFor(() => input(card, `milestones[${i}].name`));
      await type(card, `milestones[${i}].name`, name);
      await type(card, `milestones[${i}].deliverable`, `${name} pack`);
      await type(card, `milestones[${i}].acceptanceCriteria`, `${name} approved`);
      await type(card, `milestones[${i}].plannedDate`, `2027-0${i + 1}-15`);
    }
    await type(card, 'milestones[0].percent', '40');
    choose('milestones[0].triggerStage', 'contractsent');
    choose('milestones[1].by', 'amount');
    await card.waitFor(() => input(card, 'milestones[1].amount'));
    await type(card, 'milestones[1].amount', '70000.00');
    expect(card.findByTestId(Text, 'allocation').text).toBe('110 % allocated: 10 % over the contract');
    await type(card, 'milestones[1].amount', '60000.00');
    expect(card.findByTestId(Text, 'allocation').text).toBe('100 % allocated');
    choose('milestones[1].paymentTerms', 'net_60');
    card.findByTestId(Button, 'save-schedule').trigger('onClick');
    await card.waitFor(() => expect(rowsOf(card)).toBe(2), WAIT);

    const saved = (await tenant.get(`/deals/${deal.id}/schedule`)).body;
    expect(saved.milestones.map((m: { amount: { amount: string } }) => m.amount.amount)).toEqual([
      '40000.00',
      '60000.00',
    ]);
    expect(saved.milestones[0].triggerStage).toBe('contractsent');
    expect(saved.milestones[1].paymentTerms).toBe('net_60');
    card.findByTestId(Button, `criteria-${saved.milestones[0].id}`).trigger('onClick');
    await card.waitFor(
      () =>
        expect(card.findByTestId(Text, 'criteria').text).toContain('when the deal reaches "Contract Sent"'),
      WAIT,
    );
  }, 60_000);

  it("offers a template's trigger stages that the deal's pipeline has, and applies them", async () => {
    const tenant = await b.connectedTenant();
    const step = (name: string, percent: string, triggerStageLabel: string) => ({
      name,
      deliverable: `${name} done`,
      acceptanceCriteria: `${name} signed off`,
      percent,
      offsetDays: 10,
      triggerStageLabel,
    });
    const made = await tenant.post('/templates', {
      key: 'staged',
      name: 'Staged by the pipeline',
      milestones: [step('Contract', '30', 'contract  sent'), step('Go-live', '70', 'Go-live approved')],
    });
    expect(made.status).toBe(201);
    const deal = tenant.dealNamed('Acme Widgets – Factory Expansion');
    const card = renderCard(tenant, deal.id);
    await card.waitFor(() => card.find(Select, { name: 'template' }), WAIT);
    (card.find(Select, { name: 'template' }).trigger as (e: 'onChange', v: string) => void)(
      'onChange',
      'staged',
    );
    await card.waitFor(() => card.find(Checkbox, { name: 'useTriggerStages' }), WAIT);
    // Only the label the pipeline has is offered ("Contract Sent" matches however it is spaced or cased).
    expect(card.find(Checkbox).text).toBe('Accept milestones when the deal reaches "contract  sent"');
    card.findByTestId(Button, 'apply-template').trigger('onClick');
    await card.waitFor(() => expect(rowsOf(card)).toBe(2), WAIT);
    const saved = (await tenant.get(`/deals/${deal.id}/schedule`)).body;
    expect(saved.milestones.map((m: { triggerStage: string | null }) => m.triggerStage)).toEqual([
      'contractsent',
      null,
    ]);
  });

  it('changes and cancels open milestones by change order; the invoiced one is not offered', async () => {
    const tenant = await b.connectedTenant();
    const deal = tenant.dealNamed('Acme Widgets – Factory Expansion');
    const made = await tenant.post(`/deals/${deal.id}/schedule/template`, {
      template: 'software',
      startDate: '2026-12-01',
    });
    const [discovery, , build, launch] = made.body.milestones as { id: string }[];
    await tenant.accept({ id: `co-1-${tenant.portal}`, dealId: deal.id, milestone: { key: 'discovery' } });
    await tenant.settled(1);
    const card = renderCard(tenant, deal.id);
    await card.waitFor(
      () => expect(card.findByTestId(Tag, `status-${discovery!.id}`).text).toBe('invoiced'),
      WAIT,
    );

    const choose = (name: string, value: string) =>
      (card.find(Select, { name }).trigger as (e: 'onChange', v: string) => void)('onChange', value);
    card.findByTestId(Button, 'change-order').trigger('onClick');
    const offered = card.find(Select, { name: 'change.id' }).props.options.map((o) => o.value);
    expect(offered).not.toContain(discovery!.id);
    expect(offered).toContain(launch!.id);
    await type(card, 'reason', 'Launch handled by the client');
    choose('change.id', launch!.id);
    (card.find(Checkbox, { name: 'change.cancel' }).trigger as (e: 'onChange', v: boolean) => void)(
      'onChange',
      true,
    );
    await card.waitFor(() => expect(card.find(Checkbox, { name: 'change.cancel' }).props.checked).toBe(true));
    card.findByTestId(Button, 'submit-change-order').trigger('onClick');
    // A cancelled milestone leaves the table; the remainder it frees is called out.
    await card.waitFor(() => expect(rowsOf(card)).toBe(3), WAIT);
    expect(
      card
        .findAll(Alert)
        .some((a) => a.find(Text).text?.includes('USD 15,000.00 of the contract is not in any milestone')),
    ).toBe(true);

    card.findByTestId(Button, 'change-order').trigger('onClick');
    await type(card, 'reason', 'Build takes the launch work');
    choose('change.id', build!.id);
    await type(card, 'change[0].amount', '50000.00');
    card.findByTestId(Button, 'submit-change-order').trigger('onClick');
    await card.waitFor(
      () =>
        expect(card.findAll(Alert).some((a) => a.text?.includes('Build takes the launch work'))).toBe(true),
      WAIT,
    );
    const saved = (await tenant.get(`/deals/${deal.id}/schedule`)).body;
    const byId = new Map(saved.milestones.map((m: { id: string }) => [m.id, m]));
    expect((byId.get(build!.id) as { amount: { amount: string } }).amount.amount).toBe('50000.00');
    expect((byId.get(discovery!.id) as { status: string }).status).toBe('invoiced');
  }, 60_000);

  it('disputes and resolves a milestone; its history names the HubSpot user', async () => {
    const tenant = await b.connectedTenant();
    const deal = tenant.dealNamed('Acme Widgets – Factory Expansion');
    const schedule = await tenant.post(`/deals/${deal.id}/schedule/template`, {
      template: 'software',
      startDate: '2026-12-01',
    });
    const design = schedule.body.milestones[1].id as string;
    const card = renderCard(tenant, deal.id);
    await card.waitFor(() => card.findByTestId(Button, `dispute-${design}`), WAIT);
    card.findByTestId(Button, `dispute-${design}`).trigger('onClick');
    card.findByTestId(Button, 'submit-dispute').trigger('onClick');
    // A dispute needs its reason: refused by the field, nothing changed.
    await card.waitFor(() => expect(input(card, 'reason').props.validationMessage).toBeTruthy(), WAIT);
    expect((await tenant.get(`/milestones/${design}`)).body.status).toBe('planned');
    await type(card, 'reason', 'Mock-ups miss the brand colours');
    card.findByTestId(Button, 'submit-dispute').trigger('onClick');
    await card.waitFor(() => expect(card.findByTestId(Tag, `status-${design}`).text).toBe('disputed'), WAIT);
    expect(card.findAll(Alert).some((a) => a.find(Text).text?.includes('is disputed'))).toBe(true);

    card.findByTestId(Button, `dispute-${design}`).trigger('onClick');
    await card.waitFor(() => card.findByTestId(Button, 'submit-dispute'), WAIT);
    card.findByTestId(Button, 'submit-dispute').trigger('onClick');
    await card.waitFor(() => expect(card.findByTestId(Tag, `status-${design}`).text).toBe('planned'), WAIT);

    card.findByTestId(Button, `history-${design}`).trigger('onClick');
    await card.waitFor(() => expect(card.findByTestId(List, 'history').findAll(Text)).toHaveLength(3), WAIT);
    const lines = card
      .findByTestId(List, 'history')
      .findAll(Text)
      .map((t) => t.text);
    expect(lines[1]).toContain('planned → disputed');
    expect(lines[1]).toContain('hubspot_user:77 <sam@agency.example>: Mock-ups miss the brand colours');
    expect(lines[2]).toContain('disputed → planned');
  }, 60_000);

  it('shows what QuickBooks received on each invoice, what is outstanding and what is overdue', async () => {
    b.quickbooksWebhooks('legacy');
    try {
      const tenant = await b.connectedTenant();
      const deal = tenant.dealNamed('Acme Widgets – Factory Expansion');
      const made = await tenant.post(`/deals/${deal.id}/schedule/template`, {
        template: 'software',
        startDate: '2026-10-01',
      });
      const [discovery, design] = made.body.milestones as { id: string }[];
      // Accepted 45 days ago on net 30: its invoice fell due 15 days ago.
      const longAgo = new Date(Date.now() - 45 * 86_400_000).toISOString();
      await tenant.accept({
        id: `old-${tenant.portal}`,
        dealId: deal.id,
        milestone: { key: 'discovery' },
        acceptedAt: longAgo,
      });
      await tenant.accept({ id: `new-${tenant.portal}`, dealId: deal.id, milestone: { key: 'design' } });
      const pushes = await tenant.settled(2);
      const invoiceOf = (id: string) => pushes.find((p) => p.milestone.id === id)!.push.qboInvoiceId!;
      b.qbo.recordPayment(tenant.realmId, invoiceOf(design!.id), 25_000);
      b.qbo.recordPayment(tenant.realmId, invoiceOf(discovery!.id), 5_000);
      await eventually(
        () => tenant.pushesOf(),
        (rows) => rows.filter((r) => r.push.paidAmount > 0).length === 2,
      );

      const card = renderCard(tenant, deal.id);
      await card.waitFor(
        () => expect(card.findByTestId(Text, `paid-${design!.id}`).text).toBe('USD 25000.00'),
        WAIT,
      );
      expect(card.findByTestId(Text, `paid-${discovery!.id}`).text).toBe('USD 5000.00');
      expect(card.findByTestId(Tag, `status-${design!.id}`).text).toBe('paid');
      expect(card.findByTestId(Tag, `status-${discovery!.id}`).text).toBe('partially paid');
      const stat = (label: string) =>
        card.findAll(StatisticsItem).find((i) => i.props.label === label)?.props.number;
      expect(stat('Paid')).toBe('USD 30000.00');
      expect(stat('Outstanding')).toBe('USD 20000.00');
      expect(stat('Overdue')).toBe('USD 20000.00');
      const alert = card.findAll(Alert).find((a) => a.find(Text).text?.includes('was due on'));
      expect(alert?.find(Text).text).toContain('USD 20,000.00 still open');
      // The deal in HubSpot carries the same roll-up.
      await eventually(
        async () => b.hs.getDeal(tenant.portal, deal.id)?.properties,
        (p) => p?.mb_paid_to_date === '30000.00' && p?.mb_overdue === '20000.00',
      );
    } finally {
      b.quickbooksWebhooks(null);
    }
  }, 60_000);

  it('opens the portfolio in a new window through a single-use sign-in link', async () => {
    const tenant = await b.connectedTenant();
    const card = renderCard(tenant, tenant.dealNamed('Acme Widgets – Factory Expansion').id);
    await card.waitFor(() => card.findByTestId(Button, 'portfolio-link'), WAIT);
    card.findByTestId(Button, 'portfolio-link').trigger('onClick');
    await card.waitFor(() => card.findByTestId(Button, 'portfolio-open'), WAIT);
    const href = card.findByTestId(Button, 'portfolio-open').props.href as { url: string; external: boolean };
    expect(href.external).toBe(true);
    const { answer: signedIn } = await confirmLink(href.url);
    expect(signedIn.status).toBe(303);
    expect(signedIn.headers.getSetCookie().some((c) => c.startsWith('mb_session='))).toBe(true);
  });

  it('says loudly that QuickBooks is not connected', async () => {
    const tenant = await b.connectedTenant();
    await b.t.ctx.quickbooks.disconnect(tenant.tenant.id);
    const deal = tenant.dealNamed('Acme Widgets – Factory Expansion');
    const card = renderCard(tenant, deal.id);
    await card.waitFor(() => card.find(Alert), WAIT);
    const alert = card.find(Alert);
    expect(alert.props.variant).toBe('danger');
    expect(alert.find(Text).text).toContain('No QuickBooks company is connected');
  });
});
