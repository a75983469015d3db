import { describe, expect, it } from 'vitest';
import { eventually } from '../support/net.ts';
import { nameSeedOnFailure, record, tally } from './matrix.ts';
import { inOwnBilling, runSeed } from './own-billing.ts';
import { acceptEvery, allCreated, scheduledDeals } from './portions.ts';

nameSeedOnFailure(runSeed);

describe('fault matrix: a QuickBooks webhook outage', () => {
  it(
    'payments made while the webhooks were off reach the milestones through the reconciliation job',
    () =>
      inOwnBilling({ server: true, listen: true }, async (b) => {
        b.quickbooksWebhooks('cloudevents');
        const tenant = await b.connectedTenant();
        const deals = await scheduledDeals(b, tenant, 2);
        const count = await acceptEvery(tenant, deals, 'outage');
        const rows = await allCreated(tenant, count, { writtenBack: true });
        const delivered = b.qbo.webhookDeliveries.length;
        b.quickbooksWebhooks(null);
        for (const [i, r] of rows.slice(0, 4).entries())
          b.qbo.recordPayment(tenant.realmId, r.push.qboInvoiceId!, i % 2 ? 100 : r.push.amount / 100);
        await b.qbo.webhooksIdle();
        b.quickbooksWebhooks('cloudevents');
        // Not one of those payments was announced, then or since.
        expect(b.qbo.webhookDeliveries).toHaveLength(delivered);
        const unseen = await tally(b, tenant, 'QuickBooks webhook outage', {
          expected: count,
          payments: true,
        });
        expect(unseen.payments).toEqual({ reflected: 0, of: 4 });
        // The periodic job the worker's sweeper queues for each company, run now.
        await b.t.ctx.jobs.strict.reconcile(tenant.tenant.id, 'after-outage');
        const repaired = await eventually(
          () =>
            tally(b, tenant, 'QuickBooks webhook outage repaired by reconciliation', {
              expected: count,
              payments: true,
            }),
          (r) => r.payments!.reflected === 4,
          30_000,
        );
        record(import.meta.filename, repaired);
      }),
    90_000,
  );
});
