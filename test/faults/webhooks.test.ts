import { describe, expect, it } from 'vitest';
import { seededRandom } from '../sandboxes/quickbooks/fault-injection.ts';
import type { Billing } from '../support/billing.ts';
import { eventually } from '../support/net.ts';
import { QBO_VERIFIER } from '../support/sandbox-env.ts';
import { nameSeedOnFailure, record, recordInvoiced, tally } from './matrix.ts';
import { inOwnBilling, runSeed } from './own-billing.ts';
import { allCreated, CONSULTING, scheduledDeals } from './portions.ts';

type Tenant = Awaited<ReturnType<Billing['connectedTenant']>>;

nameSeedOnFailure(runSeed);

const row = (run: Parameters<typeof inOwnBilling>[1]) => () =>
  inOwnBilling({ server: true, listen: true }, run);

/** The same deliveries, each `times` over, in an order drawn from the run's seed. */
function duplicatedAndShuffled<T>(items: T[], times: number): T[] {
  const random = seededRandom(runSeed());
  const all = items.flatMap((item) => Array.from({ length: times }, () => item));
  for (let i = all.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [all[i], all[j]] = [all[j]!, all[i]!];
  }
  return all;
}

/** Each deal's milestones accepted in two halves, the later half first for every other one. */
function halves(deals: string[], prefix: string) {
  return deals.flatMap((dealId) =>
    CONSULTING.flatMap((key, i) => {
      const half = (n: number) => ({
        id: `${prefix}-${dealId}-${key}-${n}`,
        dealId,
        milestone: { key },
        portion: { percent: 50 },
      });
      return i % 2 ? [half(2), half(1)] : [half(1), half(2)];
    }),
  );
}

async function invoiced(b: Billing, tenant: Tenant, prefix: string) {
  const deals = await scheduledDeals(b, tenant, 2);
  const answers = await Promise.all(
    deals.flatMap((dealId) =>
      CONSULTING.map((key) =>
        tenant.accept({ id: `${prefix}-${dealId}-${key}`, dealId, milestone: { key } }),
      ),
    ),
  );
  expect(answers.map((a) => a.status)).toEqual(answers.map(() => 200));
  return allCreated(tenant, answers.length, { writtenBack: true });
}

describe.concurrent('fault matrix: webhooks duplicated and out of order', () => {
  it(
    'acceptance webhooks, each three times, reordered and at once',
    row(async (b) => {
      const tenant = await b.connectedTenant();
      const deals = await scheduledDeals(b, tenant, 2);
      const portions = halves(deals, 'dup-accept');
      const answers = await Promise.all(
        duplicatedAndShuffled(portions, 3).map((body) => tenant.accept(body)),
      );
      expect(answers.map((a) => a.status)).toEqual(answers.map(() => 200));
      await allCreated(tenant, portions.length, { writtenBack: true });
      await recordInvoiced(
        import.meta.filename,
        b,
        tenant,
        'duplicate and reordered acceptance webhooks',
        portions.length,
      );
    }),
    90_000,
  );

  it(
    'HubSpot stage webhooks, each three times, later stages first',
    row(async (b) => {
      const tenant = await b.connectedTenant();
      b.hs.configureWebhooks({ targetUrl: `${b.t.ctx.config.publicUrl}/webhooks/hubspot` });
      const deals = b.hs.listDeals(tenant.portal).slice(0, 3);
      for (const deal of deals) {
        const made = await tenant.put(`/deals/${deal.id}/schedule`, {
          contractValue: { amount: deal.properties.amount, currency: deal.properties.deal_currency_code },
          milestones: [
            {
              name: 'Kickoff',
              deliverable: 'Plan',
              acceptanceCriteria: 'Plan signed',
              percent: '40',
              plannedDate: '2026-12-01',
              triggerStage: 'contractsent',
            },
            {
              name: 'Launch',
              deliverable: 'Go-live',
              acceptanceCriteria: 'Live',
              percent: '60',
              plannedDate: '2027-02-01',
              triggerStage: 'closedwon',
            },
          ],
        });
        expect(made.status).toBe(200);
      }
      const now = Date.now();
      const events = deals.flatMap((deal, i) => [
        b.hs.dealPropertyChangeEvent(tenant.portal, deal.id, 'dealstage', 'closedwon', {
          occurredAt: now - i,
        }),
        b.hs.dealPropertyChangeEvent(tenant.portal, deal.id, 'dealstage', 'contractsent', {
          occurredAt: now - 60_000 - i,
        }),
      ]);
      // Batches as HubSpot retries them (attemptNumber), in the drawn order, all at once.
      const batches = duplicatedAndShuffled(events, 3).map((e, i) => [{ ...e, attemptNumber: i % 3 }]);
      const deliveries = await Promise.all(batches.map((batch) => b.hs.sendWebhookBatch(batch)));
      expect(deliveries.map((d) => d.attempts.at(-1)?.status)).toEqual(deliveries.map(() => 200));
      await allCreated(tenant, events.length, { writtenBack: true });
      await recordInvoiced(
        import.meta.filename,
        b,
        tenant,
        'duplicate and reordered HubSpot webhooks (stage → acceptance)',
        events.length,
      );
    }),
    90_000,
  );

  it(
    'QuickBooks payment webhooks, each twice in both formats, newest first',
    row(async (b) => {
      const tenant = await b.connectedTenant();
      const rows = await invoiced(b, tenant, 'dup-payments');
      const invoiceOf = (i: number) => rows[i]!.push.qboInvoiceId!;
      const payments = [
        b.qbo.recordPayment(tenant.realmId, invoiceOf(0), rows[0]!.push.amount / 100),
        b.qbo.recordPayment(tenant.realmId, invoiceOf(1), 100),
        b.qbo.recordPayment(tenant.realmId, invoiceOf(2), 250.5),
        b.qbo.recordPayment(tenant.realmId, invoiceOf(2), 49.5),
      ];
      const url = `${b.t.ctx.config.publicUrl}/webhooks/quickbooks`;
      const at = Date.now();
      const notifications = payments.flatMap((p, i) => {
        const time = new Date(at + i * 1000).toISOString();
        const cloud = [
          {
            specversion: '1.0',
            id: `evt-${tenant.realmId}-${p.Id}`,
            source: 'intuit.test',
            type: 'qbo.payment.created.v1',
            time,
            intuitentityid: p.Id,
            intuitaccountid: tenant.realmId,
          },
        ];
        const legacy = {
          eventNotifications: [
            {
              realmId: tenant.realmId,
              dataChangeEvent: {
                entities: [{ name: 'Payment', id: p.Id, operation: 'Create', lastUpdated: time }],
              },
            },
          ],
        };
        return [cloud, cloud, legacy, legacy];
      });
      for (const payload of notifications.reverse()) {
        const contentType = Array.isArray(payload) ? 'application/cloudevents+json' : 'application/json';
        const sent = await b.qbo.deliverWebhook(payload, { url, verifierToken: QBO_VERIFIER, contentType });
        expect(sent.status).toBe(200);
      }
      const reflected = await eventually(
        () =>
          tally(b, tenant, 'duplicate and reordered QuickBooks payment webhooks', {
            expected: rows.length,
            payments: true,
          }),
        (r) => r.payments!.of === 3 && r.payments!.reflected === 3,
        30_000,
      );
      record(import.meta.filename, reflected);
    }),
    90_000,
  );
});
