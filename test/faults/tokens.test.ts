import { and, eq } from 'drizzle-orm';
import { afterAll, describe, expect, it } from 'vitest';
import { oauthGrants } from '../../src/store/schema.ts';
import type { Billing } from '../support/billing.ts';
import { eventually } from '../support/net.ts';
import { killStarted } from '../support/processes.ts';
import { nameSeedOnFailure, recordInvoiced } from './matrix.ts';
import { inOwnBilling, runSeed } from './own-billing.ts';
import { acceptEvery, allCreated, scheduledDeals } from './portions.ts';
import { killWorker, startWorkerProcess } from './worker-process.ts';

type Tenant = Awaited<ReturnType<Billing['connectedTenant']>>;

afterAll(() => killStarted());
nameSeedOnFailure(runSeed);

// The jobs run in two real worker processes sharing the tenant's QuickBooks grant.
const row = (run: Parameters<typeof inOwnBilling>[1]) => () =>
  inOwnBilling({ server: true, worker: false }, run);

const refreshes = (b: Billing) => b.qbo.tokenLog.filter((r) => r.grantType === 'refresh_token');

async function grantOf(b: Billing, tenant: Tenant) {
  const [grant] = await b.t.database.db
    .select()
    .from(oauthGrants)
    .where(and(eq(oauthGrants.tenantId, tenant.tenant.id), eq(oauthGrants.provider, 'quickbooks')));
  return grant!;
}

describe.concurrent('fault matrix: QuickBooks tokens under two worker processes', () => {
  it(
    'the access token expires mid-run',
    row(async (b) => {
      const tenant = await b.connectedTenant();
      const workers = await Promise.all([startWorkerProcess(b), startWorkerProcess(b)]);
      const deals = await scheduledDeals(b, tenant, 2);
      const count = await acceptEvery(tenant, deals, 'token-expiry');
      await eventually(tenant.pushesOf, (rows) => rows.some((r) => r.push.status === 'created'), 30_000);
      const before = refreshes(b).length;
      // Intuit ends the token early; the app still believes it good until a 401 says otherwise.
      b.qbo.expireAccessTokens(tenant.realmId);
      await allCreated(tenant, count, { writtenBack: true });
      for (const worker of workers) await killWorker(worker);
      expect(refreshes(b).length).toBeGreaterThan(before);
      expect(refreshes(b).map((r) => r.status)).toEqual(refreshes(b).map(() => 200));
      expect((await grantOf(b, tenant)).status).toBe('active');
      await recordInvoiced(
        import.meta.filename,
        b,
        tenant,
        'access token expired mid-run, two worker processes',
        count,
      );
    }),
    90_000,
  );

  it(
    'both workers need a refresh at once and Intuit rotates the refresh token',
    row(async (b) => {
      const tenant = await b.connectedTenant();
      const workers = await Promise.all([startWorkerProcess(b), startWorkerProcess(b)]);
      const deals = await scheduledDeals(b, tenant, 2);
      // Expired on both sides while the workers are idle: the burst below sends both to refresh.
      await b.t.database.db
        .update(oauthGrants)
        .set({ expiresAt: new Date(Date.now() - 60_000) })
        .where(and(eq(oauthGrants.tenantId, tenant.tenant.id), eq(oauthGrants.provider, 'quickbooks')));
      b.qbo.expireAccessTokens(tenant.realmId);
      const rotatedFrom = (await grantOf(b, tenant)).refreshToken;
      const before = refreshes(b).length;
      const count = await acceptEvery(tenant, deals, 'token-race');
      await allCreated(tenant, count, { writtenBack: true });
      for (const worker of workers) await killWorker(worker);
      // One refresh for both (a second with the superseded refresh token would be invalid_grant).
      expect(
        refreshes(b)
          .slice(before)
          .map((r) => r.status),
      ).toEqual([200]);
      const grant = await grantOf(b, tenant);
      expect(grant.status).toBe('active');
      expect(grant.refreshToken).not.toBe(rotatedFrom);
      await recordInvoiced(
        import.meta.filename,
        b,
        tenant,
        'refresh-token rotation race between two worker processes',
        count,
      );
    }),
    90_000,
  );
});
