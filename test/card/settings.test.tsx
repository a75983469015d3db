import {
  Alert,
  Button,
  ErrorState,
  Input,
  MultiSelect,
  Select,
  Table,
  TableCell,
  TableRow,
  Tag,
  Text,
  TextArea,
  Toggle,
} from '@hubspot/ui-extensions';
import { createRenderer } from '@hubspot/ui-extensions/testing';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BACKEND } from '../../plugin-manifest/src/app/cards/api.ts';
import { Settings } from '../../plugin-manifest/src/app/settings/Settings.tsx';
import { signAcceptance } from '../../src/acceptance/signature.ts';
import { shareLinks, tenants } from '../../src/store/schema.ts';
import { connectThroughLink } from '../demo/oauth.ts';
import type { CardUser, PortalUser } from '../sandboxes/hubspot/index.ts';
import { type Billing, startBilling } from '../support/billing.ts';
import { confirmLink } from '../support/links.ts';

let b: Billing;
/** Who is signed in to HubSpot and looking at the settings page. */
let viewer: CardUser;
let appUrl: string;
beforeAll(async () => {
  b = await startBilling({ listen: true });
  appUrl = b.t.ctx.config.publicUrl;
  // HubSpot's side of hubspot.fetch: who is signed in appended, signed v3 with the app's secret,
  // sent to the real backend.
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

const WAIT = { timeoutInMs: 15_000 };
type Page = ReturnType<typeof createRenderer<'settings'>>;

/**
 * The settings page as a user of the portal sees it: Ada, a super admin, unless `user` is someone
 * else (a sales rep without rights, say).
 */
function renderSettings(portal: number, user: Partial<PortalUser> & { id: number } = ADA): Page {
  b.hs.addUser(portal, user);
  viewer = { portalId: portal, userId: user.id };
  const renderer = createRenderer('settings');
  renderer.render(<Settings />);
  return renderer;
}
const ADA = { id: 91, email: 'ada@agency.example', superAdmin: true };

const click = (page: Page, testId: string) => page.findByTestId(Button, testId).trigger('onClick');

/** Types into an input as a person would, and waits until the page shows it. */
async function type(page: Page, name: string, value: string) {
  (page.find(Input, { name }).trigger as (event: 'onInput', value: string) => void)('onInput', value);
  await page.waitFor(() => expect(page.find(Input, { name }).props.value).toBe(value));
}

const settingsOf = async (tenantId: string) =>
  (await b.t.database.db.select().from(tenants).where(eq(tenants.id, tenantId)))[0]!.settings;

describe('the settings page', () => {
  it('connects QuickBooks in a new window through a single-use signed link, and disconnects it', async () => {
    const tenant = await b.installedTenant(31_000_001, {}, { connect: false });
    const page = renderSettings(tenant.portal);
    await page.waitFor(
      () => expect(page.findByTestId(Tag, 'quickbooks-state').text).toBe('not connected'),
      WAIT,
    );

    click(page, 'quickbooks-connect');
    await page.waitFor(() => page.findByTestId(Button, 'quickbooks-open'), WAIT);
    const href = page.findByTestId(Button, 'quickbooks-open').props.href as {
      url: string;
      external: boolean;
    };
    expect(href.external).toBe(true);
    b.qbo.chooseRealm(tenant.realmId);
    expect(await connectThroughLink(href.url)).toBe(tenant.realmId);
    // The link signed one window in once; opened again (or by someone it leaked to) it is refused.
    const again = await fetch(href.url, { redirect: 'manual' });
    expect(again.status).toBe(403);
    const refusal = await again.text();
    expect(refusal).toContain('expired or was already used');
    expect(refusal).not.toContain(new URL(href.url).searchParams.get('link'));

    click(page, 'quickbooks-refresh');
    await page.waitFor(() => expect(page.findByTestId(Tag, 'quickbooks-state').text).toBe('connected'), WAIT);
    expect(page.findByTestId(Text, 'quickbooks-company').text).toContain(tenant.realmId);

    click(page, 'quickbooks-disconnect');
    await page.waitFor(
      () => expect(page.findByTestId(Tag, 'quickbooks-state').text).toBe('not connected'),
      WAIT,
    );
    expect(await b.t.ctx.quickbooks.connectionState(tenant.tenant.id)).toBe('not_connected');
  }, 60_000);

  it("saves invoice defaults with an item from the company's QuickBooks items; a bad prefix is refused by its field", async () => {
    const tenant = await b.connectedTenant();
    const page = renderSettings(tenant.portal);
    const item = () => page.find(Select, { name: 'incomeItemId' });
    await page.waitFor(
      () => expect(item().props.options.map((o) => o.label)).toContain('Hours (Service)'),
      WAIT,
    );
    const hours = item().props.options.find((o) => o.label === 'Hours (Service)')!.value;

    (item().trigger as (event: 'onChange', value: unknown) => void)('onChange', hours);
    await type(page, 'docNumberPrefix', 'TOO-LONG-PREFIX');
    click(page, 'save-defaults');
    await page.waitFor(
      () =>
        expect(page.find(Input, { name: 'docNumberPrefix' }).props.validationMessage).toContain('up to 8'),
      WAIT,
    );
    expect(await settingsOf(tenant.tenant.id)).toEqual({});

    await type(page, 'docNumberPrefix', 'ACME-');
    (page.find(Toggle, { name: 'emailInvoices' }).trigger as (e: 'onChange', v: boolean) => void)(
      'onChange',
      true,
    );
    click(page, 'save-defaults');
    await page.waitFor(() => expect(page.find(Alert).props.title).toBe('Saved'), WAIT);
    expect(await settingsOf(tenant.tenant.id)).toEqual({
      incomeItemId: String(hours),
      defaultPaymentTerms: 'net_30',
      taxable: false,
      docNumberPrefix: 'ACME-',
      emailInvoices: true,
    });
  }, 60_000);

  it('saves the overdue reminder policy, off by default; a bad interval is refused by its field', async () => {
    const tenant = await b.connectedTenant();
    const page = renderSettings(tenant.portal);
    const toggle = () => page.find(Toggle, { name: 'reminders.enabled' });
    await page.waitFor(() => expect(toggle().props.checked).toBe(false), WAIT);
    (toggle().trigger as (e: 'onChange', v: boolean) => void)('onChange', true);
    await type(page, 'everyDays', '0');
    click(page, 'save-reminders');
    await page.waitFor(
      () => expect(page.find(Input, { name: 'everyDays' }).props.validationMessage).toContain('everyDays'),
      WAIT,
    );
    expect((await settingsOf(tenant.tenant.id)).reminders).toBeUndefined();
    await type(page, 'everyDays', '14');
    await type(page, 'excludedCustomerIds', '58, 61');
    click(page, 'save-reminders');
    await page.waitFor(() => expect(page.find(Alert).text).toContain('new policy'), WAIT);
    expect((await settingsOf(tenant.tenant.id)).reminders).toEqual({
      enabled: true,
      firstAfterDays: 3,
      everyDays: 14,
      maxReminders: 3,
      excludedCustomerIds: ['58', '61'],
    });
  }, 60_000);

  it('creates a template with its total checked while typing, edits it and deletes it', async () => {
    const tenant = await b.connectedTenant();
    const page = renderSettings(tenant.portal);
    await page.waitFor(() => page.findByTestId(Button, 'new-template'), WAIT);
    click(page, 'new-template');
    await type(page, 'key', 'retainer');
    await type(page, 'name', 'Retainer with sign-off');
    for (const [i, [name, percent, stage]] of [
      ['Kick-off', '40', 'Contract sent'],
      ['Sign-off', '70', ''],
    ].entries()) {
      if (i > 0) click(page, 'template-add-row');
      await page.waitFor(() => page.find(Input, { name: `milestones[${i}].name` }));
      await type(page, `milestones[${i}].name`, name!);
      await type(page, `milestones[${i}].deliverable`, `${name} pack`);
      await type(page, `milestones[${i}].acceptanceCriteria`, `${name} approved`);
      await type(page, `milestones[${i}].percent`, percent!);
      await type(page, `milestones[${i}].offsetDays`, String(14 * (i + 1)));
      if (stage) await type(page, `milestones[${i}].triggerStageLabel`, stage);
    }
    expect(page.findByTestId(Text, 'template-allocation').text).toBe(
      '110 % allocated: 10 % over the contract',
    );
    expect(page.findByTestId(Button, 'save-template').props.disabled).toBe(true);
    await type(page, 'milestones[1].percent', '60');
    expect(page.findByTestId(Text, 'template-allocation').text).toBe('100 % allocated');
    click(page, 'save-template');
    await page.waitFor(() => page.findByTestId(Button, 'edit-template-retainer'), WAIT);

    const saved = (await tenant.get('/templates')).body.templates.find(
      (t: { key: string }) => t.key === 'retainer',
    );
    expect(saved.milestones.map((m: { percent: string }) => m.percent)).toEqual(['40', '60']);
    expect(saved.milestones[0].triggerStageLabel).toBe('Contract sent');

    click(page, 'edit-template-retainer');
    await type(page, 'name', 'Retainer, two steps');
    click(page, 'save-template');
    await page.waitFor(
      () => expect(page.find(Alert).text).toContain('The template "Retainer, two steps" is saved.'),
      WAIT,
    );
    const names = (await tenant.get('/templates')).body.templates.map((t: { name: string }) => t.name);
    expect(names).toContain('Retainer, two steps');

    const rows = page.find(Table).findAll(TableRow).length;
    click(page, 'delete-template-retainer');
    await page.waitFor(() => expect(page.find(Table).findAll(TableRow)).toHaveLength(rows - 1), WAIT);
    const keys = (await tenant.get('/templates')).body.templates.map((t: { key: string }) => t.key);
    expect(keys).not.toContain('retainer');
  }, 60_000);

  it('reveals and rotates the acceptance secret: the old one stops verifying', async () => {
    const tenant = await b.connectedTenant();
    const page = renderSettings(tenant.portal);
    await page.waitFor(() => page.find(TextArea, { name: 'webhook-example' }), WAIT);
    expect(page.find(TextArea, { name: 'webhook-example' }).props.value).toContain(
      'X-Acceptance-Signature: t=$T,v1=$SIG',
    );
    expect(page.find(Input, { name: 'webhook-url' }).props.value).toBe(`${appUrl}/webhooks/acceptance`);

    click(page, 'reveal-secret');
    await page.waitFor(() => page.findByTestId(Input, 'webhook-secret'), WAIT);
    const old = page.findByTestId(Input, 'webhook-secret').props.value as string;
    expect(old).toMatch(/^whsec_/);

    click(page, 'rotate-secret');
    await page.waitFor(
      () => expect(page.findByTestId(Input, 'webhook-secret').props.value).not.toBe(old),
      WAIT,
    );
    const fresh = page.findByTestId(Input, 'webhook-secret').props.value as string;
    const post = (secret: string) => {
      const raw = JSON.stringify({
        id: `rot-${secret.slice(-6)}`,
        portalId: tenant.portalId,
        dealId: tenant.dealNamed('Acme Widgets – Factory Expansion').id,
        milestone: { key: 'nothing-here' },
        acceptedAt: new Date().toISOString(),
        acceptedBy: { name: 'Dana Client' },
      });
      return b.t.http
        .post('/webhooks/acceptance')
        .set('Content-Type', 'application/json')
        .set('X-Acceptance-Signature', signAcceptance(secret, raw))
        .send(raw);
    };
    expect((await post(old)).status).toBe(401);
    // The new secret verifies: the request gets past the signature to the milestone look-up.
    expect((await post(fresh)).status).not.toBe(401);
  }, 60_000);

  it('creates an API key shown once, lists it and revokes it', async () => {
    const tenant = await b.connectedTenant();
    const page = renderSettings(tenant.portal);
    await page.waitFor(() => page.findByTestId(Button, 'create-api-key'), WAIT);
    await type(page, 'name', 'ERP sync');
    click(page, 'create-api-key');
    await page.waitFor(() => page.findByTestId(Input, 'new-api-key'), WAIT);
    const key = page.findByTestId(Input, 'new-api-key').props.value as string;
    expect(key).toMatch(/^mbk_/);
    const withKey = () => b.t.http.get('/api/v1/templates').set('Authorization', `Bearer ${key}`);
    expect((await withKey()).status).toBe(200);

    const listed = () => page.findAll(TableRow).find((r) => r.findAll(TableCell)[0]?.text === 'ERP sync');
    await page.waitFor(() => expect(listed()).toBeTruthy(), WAIT);
    expect(listed()!.findAll(TableCell)[1]!.text).toBe(`${key.slice(0, 10)}…`);
    listed()!.find(Button).trigger('onClick');
    await page.waitFor(
      () => expect(page.findAll(Tag).some((t) => (t.text ?? '').startsWith('revoked '))).toBe(true),
      WAIT,
    );
    const refused = await withKey();
    expect(refused.status).toBe(401);
    expect(refused.body.detail).toContain('revoked');
  }, 60_000);

  it('creates a bookkeeper share link shown once that opens the portfolio, lists it and revokes it', async () => {
    const tenant = await b.connectedTenant();
    const linksOf = () =>
      b.t.database.db.select().from(shareLinks).where(eq(shareLinks.tenantId, tenant.tenant.id));
    const page = renderSettings(tenant.portal);
    await page.waitFor(() => page.findByTestId(Button, 'create-share-link'), WAIT);

    // No one named: refused by the field, and nothing is made.
    click(page, 'create-share-link');
    await page.waitFor(
      () =>
        expect(page.find(Input, { name: 'share-link-label' }).props.validationMessage).toContain(
          'name whom the link is for',
        ),
      WAIT,
    );
    expect(page.maybeFindByTestId(Input, 'new-share-link')).toBeNull();
    expect(await linksOf()).toEqual([]);

    await type(page, 'share-link-label', 'Dana (bookkeeper)');
    await type(page, 'share-link-days', '7');
    click(page, 'create-share-link');
    await page.waitFor(() => page.findByTestId(Input, 'new-share-link'), WAIT);
    const url = page.findByTestId(Input, 'new-share-link').props.value as string;
    expect(url.startsWith(`${appUrl}/app/shared?link=`)).toBe(true);
    const token = new URL(url).searchParams.get('link')!;
    expect(page.getRootNode().toString()).toContain(token);
    expect(page.find(Input, { name: 'share-link-label' }).props.validationMessage).toBeUndefined();

    const [link] = await linksOf();
    expect(link).toMatchObject({ label: 'Dana (bookkeeper)', revokedAt: null });
    expect(link!.expiresAt.getTime() - Date.now()).toBeGreaterThan(7 * 86_400_000 - 60_000);
    expect(link!.expiresAt.getTime() - Date.now()).toBeLessThanOrEqual(7 * 86_400_000);
    const row = () =>
      page.findAll(TableRow).find((r) => r.findAll(TableCell)[0]?.text === 'Dana (bookkeeper)');
    await page.waitFor(() => expect(row()).toBeTruthy(), WAIT);
    const state = () => page.findByTestId(Tag, `share-link-state-${link!.id}`).text;
    expect(state()).toBe('active');
    const cells = () =>
      row()!
        .findAll(TableCell)
        .map((c) => c.text);
    expect(cells().slice(2, 5)).toEqual([
      'ada@agency.example',
      link!.expiresAt.toISOString().slice(0, 10),
      'never',
    ]);
    expect(row()!.find(Button).text).toBe('Revoke');
    // Shown once: the page opened again lists the link but never shows it.
    const again = renderSettings(tenant.portal);
    await again.waitFor(
      () => expect(again.maybeFindByTestId(Tag, `share-link-state-${link!.id}`)).toBeTruthy(),
      WAIT,
    );
    expect(again.maybeFindByTestId(Input, 'new-share-link')).toBeNull();
    expect(again.getRootNode().toString()).not.toContain(token);

    // The link signs a browser in to the portfolio (read-only), without HubSpot, once confirmed.
    const { answer: opened, page: asked } = await confirmLink(url);
    expect(asked).toContain(`HubSpot portal ${tenant.portal}`);
    expect(opened.status).toBe(303);
    expect(opened.headers.get('location')).toBe('/app/portfolio');
    const session = opened.headers.getSetCookie().find((c) => c.startsWith('mb_session='));
    expect(session).toBeTruthy();
    const portfolio = () =>
      fetch(`${appUrl}/app/portfolio`, { redirect: 'manual', headers: { cookie: session!.split(';')[0]! } });
    expect((await portfolio()).status).toBe(200);

    click(page, `revoke-share-link-${link!.id}`);
    await page.waitFor(() => expect(state()).toBe('revoked'), WAIT);
    expect(page.find(Alert).text).toContain('"Dana (bookkeeper)" is revoked');
    expect(page.maybeFindByTestId(Input, 'new-share-link')).toBeNull();
    expect(page.maybeFindByTestId(Button, `revoke-share-link-${link!.id}`)).toBeNull();
    const [revoked] = await linksOf();
    expect(revoked!.revokedAt).toBeInstanceOf(Date);
    expect(cells()[4]).toBe(revoked!.lastUsedAt?.toISOString().slice(0, 10));
    // Revoked, the link opens nothing and the session it started ends.
    const reopened = await fetch(url, { redirect: 'manual' });
    expect(reopened.status).not.toBe(303);
    expect(reopened.headers.getSetCookie().some((c) => c.startsWith('mb_session='))).toBe(false);
    expect((await portfolio()).status).toBe(401);
  }, 60_000);

  it('is refused to users HubSpot does not let manage apps, and their signed requests change nothing', async () => {
    const tenant = await b.connectedTenant();
    const page = renderSettings(tenant.portal, { id: 5, email: 'sales@agency.example' });
    await page.waitFor(
      () => expect(page.find(ErrorState).find(Text).text).toContain('only super admins'),
      WAIT,
    );

    const before = (await b.t.database.db.select().from(tenants).where(eq(tenants.id, tenant.tenant.id)))[0]!;
    const asUser = { portalId: tenant.portal, userId: 5 };
    const rotate = await b.hs.hubspotFetch(`${appUrl}/card/v1/settings/acceptance-webhook/rotate`, {
      method: 'POST',
      body: {},
      as: asUser,
    });
    expect(rotate.status).toBe(403);
    const template = await b.hs.hubspotFetch(`${appUrl}/card/v1/templates`, {
      method: 'POST',
      body: { key: 'x', name: 'X', milestones: [] },
      as: asUser,
    });
    expect(template.status).toBe(403);
    const after = (await b.t.database.db.select().from(tenants).where(eq(tenants.id, tenant.tenant.id)))[0]!;
    expect(after.acceptanceSecret).toBe(before.acceptanceSecret);
  });

  it('lets a super admin name the HubSpot roles whose users may manage the app, as HubSpot has them', async () => {
    const tenant = await b.connectedTenant();
    const [sales, finance] = b.hs.rolesOf(tenant.portal);
    const fin = { id: 7301, email: 'fin@agency.example', roleIds: [finance!.id] };
    const refused = renderSettings(tenant.portal, fin);
    await refused.waitFor(
      () => expect(refused.find(ErrorState).find(Text).text).toContain('only super admins'),
      WAIT,
    );

    const page = renderSettings(tenant.portal);
    await page.waitFor(() => page.find(MultiSelect, { name: 'app-manager-roles' }), WAIT);
    expect(page.find(MultiSelect, { name: 'app-manager-roles' }).props.options).toEqual([
      { label: sales!.name, value: sales!.id },
      { label: finance!.name, value: finance!.id },
    ]);
    (page.find(MultiSelect, { name: 'app-manager-roles' }).trigger as (e: 'onChange', v: string[]) => void)(
      'onChange',
      [finance!.id],
    );
    await page.waitFor(() =>
      expect(page.find(MultiSelect, { name: 'app-manager-roles' }).props.value).toEqual([finance!.id]),
    );
    click(page, 'save-app-managers');
    await page.waitFor(
      () => expect(page.find(Alert).text).toContain(`with the roles ${finance!.name}`),
      WAIT,
    );
    expect((await settingsOf(tenant.tenant.id)).appManagerRoleIds).toEqual([finance!.id]);

    const admitted = renderSettings(tenant.portal, fin);
    await admitted.waitFor(() => admitted.findByTestId(Button, 'save-app-managers'), WAIT);
  });
});
