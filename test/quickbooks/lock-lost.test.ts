import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pushInvoice } from '../../src/billing/push.ts';
import { LockLost } from '../../src/redis/lock.ts';
import { type Billing, startBilling } from '../support/billing.ts';
import { eventually } from '../support/net.ts';

let b: Billing;
beforeAll(async () => {
  // No worker: this test runs the push itself.
  b = await startBilling({ worker: false });
});
afterAll(() => b?.close());

describe('a push that lost its lock', () => {
  it('stops before any QuickBooks call, and the next holder invoices once', async () => {
    const tenant = await b.connectedTenant();
    const deal = tenant.dealNamed('Acme Widgets – Factory Expansion');
    const created = await tenant.post(`/deals/${deal.id}/schedule/template`, {
      template: 'software',
      startDate: '2026-12-01',
    });
    expect(created.status).toBe(201);
    const accepted = await tenant.accept({
      id: 'acc-lock-1',
      dealId: deal.id,
      milestone: { key: 'discovery' },
    });
    expect(accepted.status).toBe(200);
    const { pushId } = accepted.body as { pushId: string };

    // HubSpot answers after 5 s: the push is reading the deal's billing party, before any
    // QuickBooks call, when its lock is taken from it; the lock's renewal (every 3.3 s) notices.
    b.hs.setLatency(5000);
    const lockKey = `lock:push:${pushId}`;
    const running = pushInvoice(b.t.ctx, pushId).then(
      () => 'finished',
      (error: unknown) => error,
    );
    await eventually(tenant.pushesOf, (rows) => rows[0]?.milestone.status === 'invoicing');
    const callsBefore = b.qbo.requests.filter((r) => r.realmId === tenant.realmId).length;
    // As if its holder had stalled past the TTL and another worker had taken the push over.
    await b.t.redis.set(lockKey, 'another worker', 'PX', 60_000);
    const outcome = await running;
    b.hs.setLatency(0);

    expect(outcome).toBeInstanceOf(LockLost);
    const calls = b.qbo.requests.filter((r) => r.realmId === tenant.realmId);
    expect(calls.slice(callsBefore).map((r) => r.endpoint)).toEqual([]);
    expect((await tenant.pushesOf())[0]!.push.status).toBe('pending');
    expect(await b.t.redis.get(lockKey)).toBe('another worker');

    await b.t.redis.del(lockKey);
    expect(await pushInvoice(b.t.ctx, pushId)).toBe('created');
    expect(b.qbo.invoices(tenant.realmId)).toHaveLength(1);
  }, 60_000);
});
