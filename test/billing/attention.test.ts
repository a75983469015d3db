import { randomInt } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { invoicePush } from '../../src/jobs/invoice-push.ts';
import { sweepPushes } from '../../src/jobs/sweep.ts';
import { type Billing, startBilling } from '../support/billing.ts';
import { eventually } from '../support/net.ts';
import { exited, killStarted, spawnNode } from '../support/processes.ts';

let b: Billing;
beforeAll(async () => {
  // A server database: the operator CLI reads it from a process of its own.
  b = await startBilling({ listen: true, server: true, env: { INVOICE_MAX_TRIES: '3' } });
});
afterAll(async () => {
  await killStarted();
  await b?.close();
});

type Installed = Awaited<ReturnType<Billing['installedTenant']>>;
const root = join(import.meta.dirname, '../..');

async function installed(opts: { connect?: boolean } = {}): Promise<Installed> {
  return b.installedTenant(40_000_000 + randomInt(10_000_000), {}, opts);
}

async function scheduled(tenant: Installed, dealPrefix = 'Acme Widgets – Factory Expansion') {
  const deal = tenant.dealNamed(dealPrefix);
  const created = await tenant.post(`/deals/${deal.id}/schedule/template`, {
    template: 'software',
    startDate: '2026-12-01',
  });
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  return deal;
}

async function accept(tenant: Installed, dealId: string, key = 'discovery') {
  const accepted = await tenant.accept({ id: `acc-${key}-${tenant.portalId}`, dealId, milestone: { key } });
  expect(accepted.status, JSON.stringify(accepted.body)).toBe(200);
  return accepted.body.milestone.id as string;
}

/** The operator's list of refused invoices, from the CLI in a process of its own. */
async function listFailed(tenant: Installed): Promise<string> {
  const cli = spawnNode(join(root, 'src/cli.ts'), ['push', 'list-failed', '--portal', tenant.portalId], {
    env: { PATH: process.env.PATH!, DATABASE_URL: b.t.database.url!, REDIS_URL: b.t.ctx.config.redisUrl },
  });
  let out = '';
  cli.stdout!.on('data', (d) => (out += d));
  cli.stderr!.on('data', (d) => (out += d));
  expect(await exited(cli)).toBe(0);
  return out;
}

/** Nothing of this push is waiting, delayed or running in the queue: nobody retries it by itself. */
async function noJobRetrying() {
  const queue = b.t.ctx.queues.queue(invoicePush);
  await eventually(
    () => queue.getJobCounts(),
    (c) => c.active === 0 && c.waiting === 0 && c.delayed === 0,
  );
}

/** After one attempt: invoice_failed, needs attention, the reason in the API, the CLI and the push. */
async function expectWaitingForAPerson(tenant: Installed, milestoneId: string, reason: RegExp) {
  const [row] = await tenant.settled(1);
  expect(row!.push).toMatchObject({ status: 'failed', tries: 1 });
  expect(row!.push.errorMessage).toMatch(reason);
  const milestone = await tenant.get(`/milestones/${milestoneId}`);
  expect(milestone.body).toMatchObject({ status: 'invoice_failed', needsAttention: true });
  expect(milestone.body.attentionReason).toMatch(reason);
  expect(await listFailed(tenant)).toContain(milestoneId);
  await noJobRetrying();
  expect(b.qbo.invoices(tenant.realmId)).toHaveLength(0);
}

async function expectOneInvoice(tenant: Installed, milestoneId: string) {
  const rows = await eventually(
    tenant.pushesOf,
    (r) => r.length === 1 && r[0]!.push.status === 'created',
    30_000,
  );
  expect(b.qbo.invoices(tenant.realmId).map((i) => (i as { DocNumber: string }).DocNumber)).toEqual([
    rows[0]!.push.docNumber,
  ]);
  const milestone = await tenant.get(`/milestones/${milestoneId}`);
  expect(milestone.body).toMatchObject({ status: 'invoiced', needsAttention: false, attentionReason: null });
}

describe('a push that cannot succeed until a person acts', () => {
  it('with no QuickBooks company connected, shows it at once and resumes when QuickBooks is connected', async () => {
    const tenant = await installed({ connect: false });
    const milestoneId = await accept(tenant, (await scheduled(tenant)).id);
    await expectWaitingForAPerson(tenant, milestoneId, /no QuickBooks company is connected/);
    await tenant.connect();
    await expectOneInvoice(tenant, milestoneId);
  }, 60_000);

  it('with the HubSpot install revoked, shows it at once and resumes when the app is installed again', async () => {
    const tenant = await installed();
    const deal = await scheduled(tenant);
    b.hs.revokeRefreshTokens(tenant.portal);
    b.hs.expireAccessTokens(tenant.portal);
    await b.t.database.db.execute(
      // The stored access token is due: the push must refresh, and HubSpot refuses the refresh token.
      `update oauth_grants set expires_at = now() - interval '1 minute' where tenant_id = '${tenant.tenant.id}' and provider = 'hubspot'`,
    );
    const milestoneId = await accept(tenant, deal.id);
    await expectWaitingForAPerson(tenant, milestoneId, /install the app again/);
    await tenant.reinstall();
    await expectOneInvoice(tenant, milestoneId);
  }, 60_000);

  it('for a deal deleted in HubSpot, shows it at once; once the deal is restored, a retry invoices it once', async () => {
    const tenant = await installed();
    const deal = tenant.dealNamed('Acme Widgets – Factory Expansion');
    const created = await tenant.post(`/deals/${deal.id}/schedule/template`, {
      template: 'software',
      startDate: '2026-12-01',
    });
    expect(created.status).toBe(201);
    await b.hs.deleteDeal(tenant.portal, deal.id);
    const accepted = await tenant.accept({
      id: `acc-gone-${tenant.portalId}`,
      dealId: deal.id,
      milestone: { key: 'discovery' },
    });
    expect(accepted.status).toBe(200);
    const milestoneId = accepted.body.milestone.id as string;
    await expectWaitingForAPerson(tenant, milestoneId, /no longer exists in HubSpot/);
    b.hs.restoreDeal(tenant.portal, deal.id);
    expect((await tenant.post(`/milestones/${milestoneId}/retry-invoice`)).status).toBe(202);
    await expectOneInvoice(tenant, milestoneId);
  }, 60_000);

  it('refused by QuickBooks for an item id that stays invalid after a fresh resolve, invoices once after the setting is fixed', async () => {
    const tenant = await installed();
    await b.t.database.db.execute(
      `update tenants set settings = '{"incomeItemId":"999999"}' where id = '${tenant.tenant.id}'`,
    );
    const milestoneId = await accept(tenant, (await scheduled(tenant)).id);
    await expectWaitingForAPerson(tenant, milestoneId, /\(2500\) Invalid Reference Id/);
    await b.t.database.db.execute(`update tenants set settings = '{}' where id = '${tenant.tenant.id}'`);
    expect((await tenant.post(`/milestones/${milestoneId}/retry-invoice`)).status).toBe(202);
    await expectOneInvoice(tenant, milestoneId);
  }, 60_000);
});

describe('a push QuickBooks does not answer', () => {
  it('is retried with backoff up to INVOICE_MAX_TRIES, then shown; the sweeper resumes it and it invoices once', async () => {
    const tenant = await installed();
    const deal = await scheduled(tenant);
    b.qbo.setFaults({ errorRate: 1 });
    const milestoneId = await accept(tenant, deal.id);
    const [row] = await tenant.settled(1, { timeoutMs: 60_000 }).finally(() => b.qbo.clearFaults());
    expect(row!.push).toMatchObject({ status: 'failed', tries: 3, errorCode: 'quickbooks_unavailable' });
    const milestone = await tenant.get(`/milestones/${milestoneId}`);
    expect(milestone.body).toMatchObject({ status: 'invoice_failed', needsAttention: true });
    expect(milestone.body.attentionReason).toMatch(/^not invoiced after 3 tries: QuickBooks/);
    await noJobRetrying();
    expect(b.qbo.invoices(tenant.realmId)).toHaveLength(0);

    // Later, QuickBooks answers again: the sweeper's round resumes what waited only for it.
    await b.t.database.db.execute(
      `update invoice_pushes set updated_at = now() - interval '16 minutes' where id = '${row!.push.id}'`,
    );
    expect(await sweepPushes(b.t.ctx)).toBe(1);
    await expectOneInvoice(tenant, milestoneId);
  }, 90_000);
});

describe('stale QuickBooks ids', () => {
  it('a mapped customer deleted in QuickBooks is dropped and resolved again: the next invoice bills a live customer', async () => {
    const tenant = await installed();
    const deal = await scheduled(tenant);
    await accept(tenant, deal.id);
    const [first] = await tenant.settled(1);
    expect(first!.push.status).toBe('created');
    // Deleting a customer in QuickBooks makes it inactive; invoices for it are refused (2500).
    b.qbo.deactivate(tenant.realmId, 'Customer', first!.push.qboCustomerId!);
    await accept(tenant, deal.id, 'design');
    const rows = await tenant.settled(2);
    expect(rows.map((r) => r.push.status)).toEqual(['created', 'created']);
    const second = rows.find((r) => r.push.id !== first!.push.id)!;
    expect(second.push.qboCustomerId).not.toBe(first!.push.qboCustomerId);
    expect(b.qbo.entity(tenant.realmId, 'Customer', second.push.qboCustomerId!)).toMatchObject({
      Active: true,
    });
    expect(b.qbo.invoices(tenant.realmId)).toHaveLength(2);
  }, 60_000);

  it('a cached item deleted in QuickBooks is resolved again: the next invoice bills a live item', async () => {
    const tenant = await installed();
    const deal = await scheduled(tenant);
    await accept(tenant, deal.id);
    await tenant.settled(1);
    const itemOf = (invoice: unknown) =>
      (invoice as { Line: { SalesItemLineDetail?: { ItemRef: { value: string } } }[] }).Line[0]!
        .SalesItemLineDetail!.ItemRef.value;
    const first = itemOf(b.qbo.invoices(tenant.realmId)[0]);
    b.qbo.deactivate(tenant.realmId, 'Item', first);

    await accept(tenant, deal.id, 'design');
    const rows = await tenant.settled(2);
    expect(rows.map((r) => r.push.status)).toEqual(['created', 'created']);
    const second = itemOf(b.qbo.invoices(tenant.realmId)[1]);
    expect(second).not.toBe(first);
    expect(b.qbo.entity(tenant.realmId, 'Item', second)).toMatchObject({
      Active: true,
      Name: 'Milestone billing (app)',
    });
  }, 60_000);
});
