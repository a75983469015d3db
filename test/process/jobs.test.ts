import type { ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JOBS } from '../../src/jobs/index.ts';
import { killWorker, startWorkerProcess } from '../faults/worker-process.ts';
import { type Billing, startBilling } from '../support/billing.ts';
import { eventually } from '../support/net.ts';
import { killStarted } from '../support/processes.ts';

/**
 * Every kind of job the app queues is run by the worker process as the Procfile starts it: the web
 * side queues (through the app's own job API), only the real worker processes.
 */

let b: Billing;
let worker: ChildProcess | undefined;
beforeAll(async () => {
  b = await startBilling({ server: true, worker: false, listen: true });
  b.quickbooksWebhooks('cloudevents');
});
afterAll(async () => {
  if (worker) await killWorker(worker);
  await killStarted();
  await b?.close();
});

const POLICY = { enabled: true, firstAfterDays: 3, everyDays: 7, maxReminders: 3, excludedCustomerIds: [] };

describe('the worker process', () => {
  it('runs every kind the app queues: push, write-back, roll-up, QuickBooks and HubSpot events, reconciliation, reminders', async () => {
    worker = await startWorkerProcess(b);
    const tenant = await b.connectedTenant();
    const deal = tenant.dealNamed('Acme Widgets – Factory Expansion');
    expect(
      (
        await tenant.post(`/deals/${deal.id}/schedule/template`, {
          template: 'software',
          startDate: '2026-09-01',
        })
      ).status,
    ).toBe(201);
    await b.t.database.db.execute(
      `update tenants set settings = '${JSON.stringify({ reminders: POLICY })}' where id = '${tenant.tenant.id}'`,
    );
    // Accepted 40 days ago on net 30: ten days overdue, so today's reminder is due.
    await tenant.accept({
      id: `jobs-${tenant.portal}`,
      dealId: deal.id,
      milestone: { key: 'discovery' },
      acceptedAt: new Date(Date.now() - 40 * 86_400_000).toISOString(),
    });
    const [row] = await tenant.settled(1, { writtenBack: true });
    const push = row!.push;
    expect(push.status).toBe('created');

    // A part payment in QuickBooks (its webhook), a deal change in HubSpot (its webhook).
    b.qbo.recordPayment(tenant.realmId, push.qboInvoiceId!, 1_000);
    b.hs.configureWebhooks({ targetUrl: `${b.t.ctx.config.publicUrl}/webhooks/hubspot` });
    await b.hs.setDealAmount(tenant.portal, deal.id, 100_001);
    // The sweeps' kinds, queued as the sweeper does.
    const today = new Date().toISOString().slice(0, 10);
    await b.t.ctx.jobs.strict.remind(tenant.tenant.id, today);
    await b.t.ctx.jobs.strict.reconcile(tenant.tenant.id, 'jobs-test');

    // Each kind has run to completion in the worker process, and none failed.
    const counts = async () =>
      Object.fromEntries(
        await Promise.all(
          JOBS.map(async (def) => [def.id, await b.t.ctx.queues.queue(def).getJobCounts()] as const),
        ),
      );
    const done = await eventually(
      counts,
      (c) =>
        Object.values(c).every(
          (n) => n.completed > 0 && n.waiting === 0 && n.active === 0 && n.delayed === 0,
        ),
      60_000,
    ).catch(async (error: Error) => {
      throw new Error(`${error.message}\n${JSON.stringify(await counts())}`);
    });
    for (const [id, n] of Object.entries(done)) expect(n.failed, id).toBe(0);

    // The reminder went out: QuickBooks emailed the invoice, the owner has a HubSpot task.
    expect(b.qbo.sentEmails.filter((e) => e.realmId === tenant.realmId)).toHaveLength(1);
    expect(b.hs.tasksFor(tenant.portal, deal.id)).toHaveLength(1);
  }, 120_000);
});
