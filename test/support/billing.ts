import { eq } from 'drizzle-orm';
import { signAcceptance } from '../../src/acceptance/signature.ts';
import { saveInstall } from '../../src/hubspot/tokens.ts';
import { JOBS } from '../../src/jobs/index.ts';
import { saveConnection } from '../../src/quickbooks/tokens.ts';
import { invoicePushes, milestones, schedules } from '../../src/store/schema.ts';
import { acceptanceSecret } from '../../src/tenants/repository.ts';
import { startHubSpotSandbox } from '../sandboxes/hubspot/index.ts';
import { startQuickBooksSandbox } from '../sandboxes/quickbooks/index.ts';
import { startTestApp } from './app.ts';
import { eventually } from './net.ts';

/**
 * The whole product on real HTTP: the app (web routes and worker jobs in this process), a real
 * database and Redis, and both platform sandboxes. Timings are shortened so faults resolve in
 * seconds: job backoff, the 429 pause, request timeouts, the stalled-job lock.
 */
export async function startBilling(
  opts: { env?: Record<string, string>; server?: boolean; worker?: boolean } = {},
) {
  const hs = await startHubSpotSandbox();
  const qbo = await startQuickBooksSandbox();
  const t = await startTestApp(
    {
      HUBSPOT_CLIENT_ID: hs.clientId,
      HUBSPOT_CLIENT_SECRET: hs.clientSecret,
      HUBSPOT_API_BASE_URL: hs.url,
      QBO_CLIENT_ID: qbo.clientId,
      QBO_CLIENT_SECRET: qbo.clientSecret,
      QBO_API_BASE_URL: qbo.apiBaseUrl,
      QBO_AUTH_URL: qbo.authorizeUrl,
      QBO_TOKEN_URL: qbo.tokenUrl,
      QBO_REVOKE_URL: qbo.revokeUrl,
      QBO_REQUEST_TIMEOUT_MS: '1500',
      QBO_THROTTLE_PAUSE_MS: '300',
      JOB_BACKOFF_MS: '100',
      JOB_LOCK_MS: '3000',
      ...opts.env,
    },
    { server: opts.server },
  );
  if (opts.worker !== false) t.ctx.queues.process(JOBS, t.ctx);
  let realms = 0;

  /** A tenant installed in a seeded HubSpot portal and connected to a new QuickBooks company. */
  async function connectedTenant(
    company: { country?: string; homeCurrency?: string; multiCurrency?: boolean } = {},
  ) {
    const tenant = await t.tenant();
    const portal = Number(tenant.portalId);
    hs.seedRealistic(portal);
    const deps = { ...t.ctx, db: t.database.db };
    const h = hs.issueTokens(portal);
    await saveInstall(deps, tenant.tenant.id, tenant.portalId, {
      access_token: h.accessToken,
      refresh_token: h.refreshToken,
      expires_in: h.expiresIn,
    });
    const realmId = String(9_130_000_000 + ++realms + Math.floor(Math.random() * 1_000_000) * 100);
    qbo.addRealm(realmId, {
      companyName: `Books of ${tenant.portalId}`,
      country: company.country ?? 'US',
      homeCurrency: company.homeCurrency ?? 'USD',
      multiCurrency: company.multiCurrency ?? true,
    });
    await saveConnection(deps, tenant.tenant.id, realmId, qbo.issueTokens(realmId));
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
    const settled = (count: number, opts2: { writtenBack?: boolean; timeoutMs?: number } = {}) =>
      eventually(
        pushesOf,
        (rows) =>
          rows.length === count &&
          rows.every(
            (r) =>
              (r.push.status === 'created' || r.push.status === 'failed') &&
              (!opts2.writtenBack || r.push.status !== 'created' || r.push.writtenBackAt),
          ),
        opts2.timeoutMs ?? 30_000,
      );

    return { ...tenant, portal, realmId, accept, dealNamed, pushesOf, settled };
  }

  return {
    t,
    hs,
    qbo,
    connectedTenant,
    async close() {
      await t.close();
      await Promise.all([hs.close(), qbo.close()]);
    },
  };
}

export type Billing = Awaited<ReturnType<typeof startBilling>>;
