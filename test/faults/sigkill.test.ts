import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sweepPushes } from '../../src/jobs/sweep.ts';
import { inbox } from '../../src/store/schema.ts';
import { killStarted } from '../support/processes.ts';
import { matrix } from './support/matrix.ts';
import type { Passing } from './support/proxy.ts';
import { type FaultTenant, type Portion, type Stack, startStack } from './support/stack.ts';
import { payInvoices, paymentsReflected, settled, type Tally, tally } from './support/tally.ts';
import { startWorker, type WorkerProcess } from './support/worker.ts';

// (b) The worker's real process SIGKILLed at each step of the push and of payment processing.
// The web side (webhooks, API) runs in this process; the worker is `src/worker.ts` on its own.
// A holding proxy in front of each platform stops the worker exactly at a step, from outside.
const m = matrix('sigkill');
const N = 5;
let s: Stack;
let worker: WorkerProcess | undefined;
beforeAll(async () => {
  s = await startStack({ server: true, worker: false, listen: true });
  s.quickbooksWebhooks('cloudevents');
});
afterAll(async () => {
  await killStarted();
  await s?.close();
});

const path = (p: Passing) => p.url.split('?')[0]!;
const isCreate = (realmId: string) => (p: Passing) =>
  p.method === 'POST' && path(p) === `/v3/company/${realmId}/invoice` && !p.url.includes('operation=');
const isAttachment = (realmId: string) => (p: Passing) =>
  p.method === 'POST' && path(p) === `/v3/company/${realmId}/attachable`;
const isNoteFor = (portions: Portion[]) => (p: Passing) =>
  p.method === 'POST' &&
  path(p) === '/crm/objects/2026-03/notes' &&
  portions.some((x) => p.body.includes(`"${x.dealId}"`));
const isPaymentRead = (realmId: string) => (p: Passing) =>
  path(p) === `/v3/company/${realmId}/query` && /from (Payment|Invoice) where Id/i.test(decodeURIComponent(p.url));

/** The worker the kill left nothing of: its locks lapse (push: 10 s TTL) and bull re-runs its jobs. */
async function restart() {
  // A write-back's lock lives 120 s without renewal; its holder is dead, so its expiry is brought
  // forward instead of waited for (the only time compressed here, and only for dead holders).
  const prefix = s.t.ctx.config.redisPrefix;
  for (const key of await s.t.redis.keys(`${prefix}:lock:hubspot-write-back:*`)) {
    await s.t.redis.pexpire(key.slice(prefix.length + 1), 1);
  }
  worker = await startWorker(s);
}

async function finish(tenant: FaultTenant, portions: Portion[], pay = true): Promise<Tally> {
  await settled(tenant, portions.length, { timeoutMs: 90_000 });
  if (pay) payInvoices(s, tenant, portions);
  await paymentsReflected(s, tenant);
  return tally(s, tenant, portions, { notes: true });
}

describe('(b) the worker process SIGKILLed', () => {
  it('at every step of the push, and while it applies payments', async () => {
    const started = Date.now();
    worker = await startWorker(s);
    const [before, after, writing, paying] = [
      await s.tenant(),
      await s.tenant(),
      await s.tenant(),
      await s.tenant(),
    ];
    const p = {
      before: await before.portions(N),
      after: await after.portions(N),
      writing: await writing.portions(N),
      paying: await paying.portions(N),
    };
    // Invoices to be paid while the worker dies: made first, undisturbed.
    await paying.acceptAll(p.paying);
    await settled(paying, N);

    // During the write-back: HubSpot creates the note, its answer never reaches the worker.
    s.hsProxy.hold({ name: 'note', at: 'response', when: isNoteFor(p.writing) });
    await writing.acceptAll(p.writing);
    await s.hsProxy.waitHeld('note', N);
    // During payment processing: QuickBooks answers the worker's read of the paid invoices.
    s.qboProxy.hold({ name: 'payment-read', at: 'response', when: isPaymentRead(paying.realmId) });
    payInvoices(s, paying, p.paying);
    await s.qboProxy.waitHeld('payment-read', 1);
    // Before the QuickBooks call: the ledger says "sending", QuickBooks never hears of it.
    s.qboProxy.hold({ name: 'before-create', at: 'request', when: isCreate(before.realmId) });
    // After QuickBooks created the invoice, before the ledger knows.
    s.qboProxy.hold({ name: 'after-create', at: 'response', when: isCreate(after.realmId) });
    await Promise.all([before.acceptAll(p.before), after.acceptAll(p.after)]);
    await Promise.all([s.qboProxy.waitHeld('before-create', N), s.qboProxy.waitHeld('after-create', N)]);
    await worker.kill();
    s.qboProxy.dropAll();
    s.hsProxy.dropAll();

    // Where the kill left each one.
    const statuses = async (t: FaultTenant) => (await t.pushes()).map((r) => r.push.status).sort();
    expect(await statuses(before)).toEqual(Array(N).fill('sending'));
    expect(
      s.qbo.invoices(before.realmId).map((i) => [i.DocNumber, i.PrivateNote]),
      JSON.stringify(s.qboProxy.log.filter((l) => l.url.includes(before.realmId)).map((l) => [l.method, l.url, l.status])),
    ).toHaveLength(0);
    expect(await statuses(after)).toEqual(Array(N).fill('sending'));
    expect(s.qbo.invoices(after.realmId)).toHaveLength(N);
    expect((await writing.pushes()).filter((r) => r.push.writtenBackAt)).toHaveLength(0);
    const pendingPayments = await s.t.database.db
      .select()
      .from(inbox)
      .where(eq(inbox.tenantId, paying.tenant.id));
    expect(pendingPayments.some((r) => r.status === 'pending')).toBe(true);

    await restart();
    const rows: Array<[string, string, FaultTenant, Portion[], boolean]> = [
      ['b1', 'SIGKILL before the QuickBooks call (ledger "sending")', before, p.before, true],
      ['b2', 'SIGKILL after QuickBooks created the invoice, before the ledger update', after, p.after, true],
      ['b4', 'SIGKILL during the write-back (HubSpot made the note, answer lost)', writing, p.writing, true],
      ['b5', 'SIGKILL during payment processing (QuickBooks read answered, not applied)', paying, p.paying, false],
    ];
    const tallies = await Promise.all(rows.map(([, , t, list, pay]) => finish(t, list, pay)));
    rows.forEach(([order, fault, , list], i) => {
      m.row(order, fault, list.length, tallies[i]!, started);
    });
  }, 150_000);

  it('after the ledger update, before the write-back; and after a create in a company that numbers invoices itself', async () => {
    const started = Date.now();
    if (!worker || worker.child.exitCode !== null || worker.child.signalCode) worker = await startWorker(s);
    const ledger = await s.tenant();
    const numbered = await s.tenant({ customTxnNumbers: false });
    const p = { ledger: await ledger.portions(N), numbered: await numbered.portions(N) };
    // Evidence makes the worker attach it to the invoice right after the ledger records it.
    s.qboProxy.hold({ name: 'attach', at: 'request', when: isAttachment(ledger.realmId) });
    s.qboProxy.hold({ name: 'numbered-create', at: 'response', when: isCreate(numbered.realmId) });
    await Promise.all([
      ledger.acceptAll(p.ledger, { evidence: [{ name: 'Sign-off.pdf', url: 'https://client.example/signoff.pdf' }] }),
      numbered.acceptAll(p.numbered),
    ]);
    await Promise.all([s.qboProxy.waitHeld('attach', N), s.qboProxy.waitHeld('numbered-create', N)]);
    await worker.kill();
    s.qboProxy.dropAll();
    expect((await ledger.pushes()).map((r) => [r.push.status, r.push.writtenBackAt])).toEqual(
      Array(N).fill(['created', null]),
    );
    expect(s.qbo.invoices(numbered.realmId)).toHaveLength(N);

    await restart();
    // The push job re-run finds its invoice created and ends; the write-back it never queued is
    // the sweeper's (every 30 s, for pushes idle 60 s): here it sweeps until all are written back.
    const sweeping = setInterval(() => {
      sweepPushes(s.t.ctx, 0).catch(() => {});
    }, 2000);
    try {
      const [a, b] = await Promise.all([finish(ledger, p.ledger), finish(numbered, p.numbered)]);
      m.row('b3', 'SIGKILL after the ledger update, before the write-back was queued', N, a, started);
      m.row('b6', 'SIGKILL after create, company numbering invoices itself (found by PrivateNote)', N, b, started);
    } finally {
      clearInterval(sweeping);
    }
  }, 150_000);
});
