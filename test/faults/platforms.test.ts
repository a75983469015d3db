import { describe, expect, it } from 'vitest';
import type { FaultSettings } from '../sandboxes/quickbooks/fault-injection.ts';
import type { Billing } from '../support/billing.ts';
import { eventually } from '../support/net.ts';
import { nameSeedOnFailure, recordInvoiced } from './matrix.ts';
import { inOwnBilling, runSeed } from './own-billing.ts';
import { acceptEvery, allCreated, scheduledDeals } from './portions.ts';

// Each row has its own app and sandboxes (QBO_REQUEST_TIMEOUT_MS 1500, see startBilling): the
// late creates below land after that timeout.
nameSeedOnFailure(runSeed);

const LATE_MS = 2_500;

/**
 * Every invoice create meets the fault until one goes unanswered (the draws of a seed could spare
 * them all), then only its share does.
 */
async function untilOneUnanswered(b: Billing, realmId: string, always: FaultSettings, share: FaultSettings) {
  b.qbo.setFaults(always);
  await eventually(
    async () =>
      b.qbo.requests.some((r) => r.realmId === realmId && r.endpoint === 'POST /invoice' && r.status === 0),
    Boolean,
    30_000,
  );
  b.qbo.setFaults(share);
}
const row = (run: Parameters<typeof inOwnBilling>[1]) => () => inOwnBilling({ server: true }, run);

describe.concurrent('fault matrix: the platforms misbehave', () => {
  it(
    'QuickBooks answers 429, 500 and 503 to 30 % of calls',
    row(async (b) => {
      const tenant = await b.connectedTenant();
      const deals = await scheduledDeals(b, tenant, 3);
      b.qbo.setFaults({ errorRate: 0.3 });
      const count = await acceptEvery(tenant, deals, 'qbo-errors');
      await allCreated(tenant, count, { writtenBack: true }).finally(() => b.qbo.clearFaults());
      const stats = b.qbo.stats(tenant.realmId);
      expect(stats.byStatus['429'] ?? 0).toBeGreaterThan(0);
      expect((stats.byStatus['500'] ?? 0) + (stats.byStatus['503'] ?? 0)).toBeGreaterThan(0);
      await recordInvoiced(import.meta.filename, b, tenant, 'QuickBooks 429/500/503 on 30 % of calls', count);
    }),
    90_000,
  );

  it(
    'QuickBooks creates the invoice but the answer never arrives, for 40 % of creates',
    row(async (b) => {
      const tenant = await b.connectedTenant();
      const deals = await scheduledDeals(b, tenant, 2);
      const share = untilOneUnanswered(
        b,
        tenant.realmId,
        { timeoutAfterCreateRate: 1 },
        { timeoutAfterCreateRate: 0.4 },
      );
      const count = await acceptEvery(tenant, deals, 'qbo-timeouts');
      await share;
      await allCreated(tenant, count, { writtenBack: true }).finally(() => b.qbo.clearFaults());
      expect(b.qbo.stats(tenant.realmId).byStatus['0'] ?? 0).toBeGreaterThan(0);
      await recordInvoiced(import.meta.filename, b, tenant, 'QuickBooks timeouts after creating', count);
    }),
    90_000,
  );

  it(
    'QuickBooks finishes half of the creates after the request timeout (the company numbers invoices itself)',
    row(async (b) => {
      // Without our DocNumber QuickBooks has no duplicate-number check to refuse a second create.
      const tenant = await b.connectedTenant({ customTxnNumbers: false });
      const deals = await scheduledDeals(b, tenant, 2);
      const late = { lateCreateMs: LATE_MS };
      const share = untilOneUnanswered(
        b,
        tenant.realmId,
        { ...late, lateCreateRate: 1 },
        { ...late, lateCreateRate: 0.5 },
      );
      const count = await acceptEvery(tenant, deals, 'qbo-late');
      await share;
      await allCreated(tenant, count, { writtenBack: true }).finally(() => b.qbo.clearFaults());
      // Every late create has landed by now: nothing is still on its way to QuickBooks.
      await new Promise((r) => setTimeout(r, LATE_MS));
      await recordInvoiced(
        import.meta.filename,
        b,
        tenant,
        'QuickBooks late finishes (create lands after the timeout)',
        count,
      );
    }),
    90_000,
  );

  it(
    'QuickBooks answers 504 at once while the create lands later (the company numbers invoices itself)',
    row(async (b) => {
      const tenant = await b.connectedTenant({ customTxnNumbers: false });
      const deals = await scheduledDeals(b, tenant, 2);
      // The create lands within the app's request timeout (1.5 s here) of the 504.
      b.qbo.setFaults({ gatewayTimeoutRate: 0.5, lateCreateMs: 1_000 });
      const count = await acceptEvery(tenant, deals, 'qbo-504');
      await allCreated(tenant, count, { writtenBack: true }).finally(() => b.qbo.clearFaults());
      await new Promise((r) => setTimeout(r, LATE_MS));
      expect(b.qbo.stats(tenant.realmId).byStatus['504'] ?? 0).toBeGreaterThan(0);
      await recordInvoiced(
        import.meta.filename,
        b,
        tenant,
        'QuickBooks 504 while the create lands 1 s later (its own numbers)',
        count,
      );
    }),
    90_000,
  );

  it(
    'QuickBooks throttles with HTTP 403 and code 3001',
    row(async (b) => {
      const tenant = await b.connectedTenant();
      const deals = await scheduledDeals(b, tenant, 2);
      b.qbo.setFaults({ throttle403Rate: 0.3 });
      const count = await acceptEvery(tenant, deals, 'qbo-403-throttle');
      await allCreated(tenant, count, { writtenBack: true }).finally(() => b.qbo.clearFaults());
      expect(b.qbo.stats(tenant.realmId).byStatus['403'] ?? 0).toBeGreaterThan(0);
      await recordInvoiced(
        import.meta.filename,
        b,
        tenant,
        'QuickBooks throttles as 403 / 3001 on 30 % of calls',
        count,
      );
    }),
    90_000,
  );

  it(
    'QuickBooks latency spikes past the request timeout',
    row(async (b) => {
      const tenant = await b.connectedTenant();
      const deals = await scheduledDeals(b, tenant, 2);
      b.qbo.setFaults({ latencyMs: [0, 2_000] });
      const count = await acceptEvery(tenant, deals, 'qbo-latency');
      await allCreated(tenant, count, { writtenBack: true }).finally(() => b.qbo.clearFaults());
      expect(b.qbo.stats(tenant.realmId).byStatus['0'] ?? 0).toBeGreaterThan(0);
      await new Promise((r) => setTimeout(r, 2_000));
      await recordInvoiced(
        import.meta.filename,
        b,
        tenant,
        'QuickBooks latency spikes (0–2 s, timeout 1.5 s)',
        count,
      );
    }),
    90_000,
  );

  it(
    'HubSpot answers 429 and 503 to reads and write-backs',
    row(async (b) => {
      const tenant = await b.connectedTenant();
      const deals = await scheduledDeals(b, tenant, 2);
      const before = b.hs.requests.length;
      b.hs.failNext(6, 429);
      b.hs.failNext(6, 503);
      const count = await acceptEvery(tenant, deals, 'hs-errors');
      await allCreated(tenant, count, { writtenBack: true });
      // Refused before HubSpot looks at the token, so these name no portal.
      const statuses = b.hs.requests.slice(before).map((r) => r.status);
      expect(statuses).toContain(429);
      expect(statuses).toContain(503);
      await recordInvoiced(import.meta.filename, b, tenant, 'HubSpot 429s and 503s', count);
    }),
    90_000,
  );

  it(
    'everything at once: errors, lost answers, late creates, latency, HubSpot refusals, an expired token',
    row(async (b) => {
      const tenant = await b.connectedTenant();
      const deals = await scheduledDeals(b, tenant, 3);
      b.qbo.setFaults({
        errorRate: 0.15,
        timeoutAfterCreateRate: 0.15,
        lateCreateRate: 0.15,
        lateCreateMs: LATE_MS,
        latencyMs: [0, 1_800],
      });
      b.hs.failNext(4, 429);
      b.hs.failNext(4, 503);
      const count = await acceptEvery(tenant, deals, 'all-at-once');
      await eventually(tenant.pushesOf, (rows) => rows.some((r) => r.push.status === 'created'), 60_000);
      b.qbo.expireAccessTokens(tenant.realmId);
      await allCreated(tenant, count, { writtenBack: true, timeoutMs: 120_000 }).finally(() =>
        b.qbo.clearFaults(),
      );
      await new Promise((r) => setTimeout(r, LATE_MS));
      await recordInvoiced(import.meta.filename, b, tenant, 'everything at once', count);
    }),
    150_000,
  );
});
