import { eq } from 'drizzle-orm';
import { expect } from 'vitest';
import { signAcceptance } from '../../src/acceptance/signature.ts';
import { JOBS } from '../../src/jobs/index.ts';
import { invoicePushes, milestones, schedules, tenants } from '../../src/store/schema.ts';
import { acceptanceSecret, createApiKey } from '../../src/tenants/repository.ts';
import { connectQuickBooks, installHubSpot } from '../demo/oauth.ts';
import { startHubSpotSandbox } from '../sandboxes/hubspot/index.ts';
import { startQuickBooksSandbox } from '../sandboxes/quickbooks/index.ts';
import { startTestApp, type TestApp } from './app.ts';
import { eventually, freePort } from './net.ts';
import { QBO_VERIFIER, sandboxEnv } from './sandbox-env.ts';

type Company = {
  country?: string;
  homeCurrency?: string;
  multiCurrency?: boolean;
  customTxnNumbers?: boolean;
};
type Tenant = Awaited<ReturnType<TestApp['tenant']>>;

/**
 * The whole product on real HTTP: the app (web routes and worker jobs in this process), a real
 * database and Redis, and both platform sandboxes. Timings are shortened so faults resolve in
 * seconds: job backoff, the 429 pause, request timeouts, the stalled-job lock. With `listen` the
 * app also serves a real port, so OAuth redirects can come back to it.
 */
export async function startBilling(
  opts: { env?: Record<string, string>; server?: boolean; worker?: boolean; listen?: boolean } = {},
) {
  const hs = await startHubSpotSandbox();
  const qbo = await startQuickBooksSandbox();
  const port = opts.listen ? await freePort() : undefined;
  const appUrl = `http://127.0.0.1:${port}`;
  const t = await startTestApp(
    {
      ...sandboxEnv(hs, qbo),
      QBO_REQUEST_TIMEOUT_MS: '1500',
      QBO_THROTTLE_PAUSE_MS: '300',
      JOB_BACKOFF_MS: '100',
      JOB_LOCK_MS: '3000',
      ...(port ? { PUBLIC_URL: appUrl } : {}),
      ...opts.env,
    },
    { server: opts.server },
  );
  if (opts.worker !== false) t.ctx.queues.process(JOBS, t.ctx);
  const server = port ? t.app.listen(port, '127.0.0.1') : undefined;
  let realms = 0;

  function newRealm(label: string, company: Company): string {
    const realmId = String(9_130_000_000 + ++realms + Math.floor(Math.random() * 1_000_000) * 100);
    qbo.addRealm(realmId, {
      companyName: `Books of ${label}`,
      country: company.country ?? 'US',
      homeCurrency: company.homeCurrency ?? 'USD',
      multiCurrency: company.multiCurrency ?? true,
      ...(company.customTxnNumbers === undefined ? {} : { customTxnNumbers: company.customTxnNumbers }),
    });
    return realmId;
  }

  /** A tenant installed in a seeded HubSpot portal and connected to a new QuickBooks company. */
  async function connectedTenant(company: Company = {}) {
    const tenant = await t.tenant();
    hs.seedRealistic(Number(tenant.portalId));
    const h = hs.issueTokens(Number(tenant.portalId));
    await t.ctx.hubspot.saveInstall(tenant.tenant.id, {
      portalId: tenant.portalId,
      hubDomain: null,
      installedBy: null,
      tokens: { access_token: h.accessToken, refresh_token: h.refreshToken, expires_in: h.expiresIn },
    });
    const realmId = newRealm(tenant.portalId, company);
    await t.ctx.quickbooks.connect(tenant.tenant.id, realmId, qbo.issueTokens(realmId));
    return withHelpers(tenant, realmId);
  }

  /**
   * A tenant as an admin makes it: the HubSpot install and (unless `connect: false`) the QuickBooks
   * connection through their real redirect flows, the admin picking `portal` and a new company on
   * the platforms' pages. `connect()` and `reinstall()` walk the flows again later.
   */
  async function installedTenant(portal: number, company: Company = {}, opts: { connect?: boolean } = {}) {
    if (!port) throw new Error('installedTenant needs startBilling({ listen: true })');
    hs.seedRealistic(portal);
    hs.choosePortal(portal);
    const realmId = newRealm(String(portal), company);
    const cookie = await installHubSpot(appUrl);
    const connect = async () => {
      qbo.chooseRealm(realmId);
      expect(await connectQuickBooks(appUrl, cookie)).toBe(realmId);
    };
    const reinstall = async () => {
      hs.choosePortal(portal);
      return installHubSpot(appUrl);
    };
    if (opts.connect !== false) await connect();
    const [row] = await t.database.db
      .select()
      .from(tenants)
      .where(eq(tenants.portalId, String(portal)));
    const { key } = await createApiKey(t.database.db, row!.id, 'test');
    const auth = { Authorization: `Bearer ${key}` };
    const tenant: Tenant = {
      tenant: row!,
      portalId: String(portal),
      get: (path) => t.http.get(`/api/v1${path}`).set(auth),
      put: (path, body) =>
        t.http
          .put(`/api/v1${path}`)
          .set(auth)
          .send(body as object),
      post: (path, body = {}) =>
        t.http
          .post(`/api/v1${path}`)
          .set(auth)
          .send(body as object),
      raw: (method, path) => t.http[method](`/api/v1${path}`).set(auth),
    };
    return { ...withHelpers(tenant, realmId), connect, reinstall };
  }

  function withHelpers(tenant: Tenant, realmId: string) {
    const portal = Number(tenant.portalId);
    const secret = acceptanceSecret(t.encryptionKey, tenant.tenant);

    /** POSTs a signed acceptance webhook, as a client's e-signature tool would. */
    const accept = (body: Record<string, unknown>) => {
      const raw = JSON.stringify({
        acceptedAt: new Date().toISOString(),
        acceptedBy: { name: 'Dana Client' },
        portalId: tenant.portalId,
        ...body,
      });
      return t.http
        .post('/webhooks/acceptance')
        .set('Content-Type', 'application/json')
        .set('X-Acceptance-Signature', signAcceptance(secret, raw))
        .send(raw);
    };

    const dealNamed = (prefix: string) =>
      hs.listDeals(portal).find((d) => d.properties.dealname?.startsWith(prefix))!;

    const pushesOf = () =>
      t.database.db
        .select({ push: invoicePushes, milestone: milestones, dealId: schedules.dealId })
        .from(invoicePushes)
        .innerJoin(milestones, eq(milestones.id, invoicePushes.milestoneId))
        .innerJoin(schedules, eq(schedules.id, milestones.scheduleId))
        .where(eq(invoicePushes.tenantId, tenant.tenant.id));

    /** Waits until every push is settled (created or failed) and, when asked, written back. */
    const settled = (count: number, wait: { writtenBack?: boolean; timeoutMs?: number } = {}) =>
      eventually(
        pushesOf,
        (rows) =>
          rows.length === count &&
          rows.every(
            (r) =>
              (r.push.status === 'created' || r.push.status === 'failed') &&
              (!wait.writtenBack || r.push.status !== 'created' || r.push.writtenBackAt),
          ),
        wait.timeoutMs ?? 30_000,
      );

    return { ...tenant, portal, realmId, accept, dealNamed, pushesOf, settled };
  }

  /** Points the QuickBooks sandbox's webhooks at the app (off with `null`). */
  function quickbooksWebhooks(format: 'cloudevents' | 'legacy' | null) {
    if (!port) throw new Error('quickbooksWebhooks needs startBilling({ listen: true })');
    qbo.configureWebhooks(
      format && { url: `${appUrl}/webhooks/quickbooks`, verifierToken: QBO_VERIFIER, format, batchMs: 20 },
    );
  }

  return {
    t,
    hs,
    qbo,
    quickbooksWebhooks,
    connectedTenant,
    installedTenant,
    async close() {
      server?.close();
      await t.close();
      await Promise.all([hs.close(), qbo.close()]);
    },
  };
}

export type Billing = Awaited<ReturnType<typeof startBilling>>;
