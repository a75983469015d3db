/**
 * `npm run bench:load`: acceptance → invoice latency at 1, 10 and 50 acceptances a second spread
 * over 20 companies, what each invoice and each payment costs in platform calls, and how many
 * signed HubSpot webhook batches the app ingests a second next to a bare express handler. Prints
 * figures; asserts nothing.
 *
 * The real app in this process (web routes on a real socket, worker jobs, Postgres, Redis) and
 * both sandboxes over real HTTP, as test/support/billing.ts wires them, with production timings;
 * the QuickBooks sandbox answers every API call after 50 ms. Each company's first invoice (its
 * customer and item found or made) is a warm-up outside the figures.
 *
 * Rates: acceptances sent open-loop (at their due time, whether or not earlier ones are answered),
 * round-robin over the companies, for BENCH_LOAD_S seconds each; latency is from the POST's start
 * to the `invoice_created` transition, written in the transaction that marks the push created.
 * At 50/s × 10 s each company gets 25 invoices, far within Intuit's 500/min, so the figures are
 * the app's. Targets are against the 1/s run of the same process.
 *
 * Payments: every invoice of the rates paid in QuickBooks at once, delivered by its webhooks;
 * HubSpot calls counted until the roll-ups and notes are written.
 *
 * Ingest: BENCH_INGEST_CONNECTIONS keep-alive connections, each POSTing the next v3-signed batch of
 * BENCH_INGEST_BATCH unique deal events as soon as the previous is answered, for BENCH_INGEST_S
 * seconds, to the app's /webhooks/hubspot (verify, inbox, enqueue; this process's worker leaves
 * those jobs queued meanwhile) and to a bare express app that only parses the JSON and answers
 * 200, both served by this process on the same machine in the same run.
 *
 * Env: DATABASE_URL (else a throwaway embedded PostgreSQL server), REDIS_URL,
 * BENCH_TENANTS (20), BENCH_RATES (1,10,50 per second), BENCH_LOAD_S (10), BENCH_LOAD_PAYMENTS (1; 0 skips),
 * BENCH_INGEST_S (5), BENCH_INGEST_CONNECTIONS (10), BENCH_INGEST_BATCH (10), BENCH_QBO_LATENCY_MS (50).
 */

import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { and, eq, inArray } from 'drizzle-orm';
import express from 'express';
import { hubspotEvents } from '../../src/jobs/hubspot-events.ts';
import { inbox, milestones as milestoneTable } from '../../src/store/schema.ts';
import { dealPropertyChangeEvent, signedHeaders } from '../sandboxes/hubspot/webhooks.ts';
import { QBO_VERIFIER } from '../support/sandbox-env.ts';
import {
  accept,
  type BenchTenant,
  benchTenants,
  count,
  cpuMeter,
  hubspotCost,
  invoicedAt,
  percentile,
  quickbooksCost,
  roundRobin,
  settled,
  sleep,
  startBench,
} from './fleet.ts';
import { printTable, type Row } from './table.ts';

const env = process.env;
const TENANTS = Math.max(1, count('BENCH_TENANTS', 20));
const RATES = (env.BENCH_RATES ?? '1,10,50')
  .split(',')
  .map(Number)
  .filter((r) => r > 0);
const LOAD_S = Math.max(1, count('BENCH_LOAD_S', 10));
const PAYMENTS = count('BENCH_LOAD_PAYMENTS', 1) > 0;
const INGEST_S = count('BENCH_INGEST_S', 5);
const INGEST_CONNECTIONS = Math.max(1, count('BENCH_INGEST_CONNECTIONS', 10));
const INGEST_BATCH = Math.min(100, Math.max(1, count('BENCH_INGEST_BATCH', 10)));
const QBO_LATENCY_MS = count('BENCH_QBO_LATENCY_MS', 50);

const log = (line = '') => console.log(line);
const rows: Row[] = [];
const notes: string[] = [];

const { b, appUrl, close } = await startBench({ worker: true, qboLatencyMs: QBO_LATENCY_MS });

// ── acceptances at a rate ─────────────────────────────────────────────────────────────────────
/** Sends `list` open-loop at `rate` a second; answers each send once all have been answered. */
async function openLoop(list: Array<{ t: BenchTenant; m: { dealId: string; id: string } }>, rate: number) {
  const start = performance.now();
  const pending: Array<ReturnType<typeof accept>> = [];
  for (let i = 0; i < list.length; i++) {
    const due = start + (i * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 1) await sleep(wait);
    pending.push(accept(appUrl, list[i]!.t, list[i]!.m));
  }
  const lastSent = performance.now();
  const sent = await Promise.all(pending);
  return { sent, sendSeconds: (lastSent - start) / 1000 };
}

interface Phase {
  rate: number;
  p50: number;
  p99: number;
  max: number;
  n: number;
}

let used = 1; // milestone index per tenant: 0 is the warm-up
const qboFrom = () => b.qbo.requests.length;
const hsFrom = () => b.hs.requests.length;

async function phase(tenants: BenchTenant[], rate: number): Promise<Phase> {
  const perTenant = Math.ceil((rate * LOAD_S) / tenants.length);
  const list = roundRobin(tenants, used, perTenant).slice(0, rate * LOAD_S);
  used += perTenant;
  log(
    `rate ${rate}/s: ${list.length} acceptances over ${LOAD_S} s, round-robin over ${tenants.length} companies`,
  );
  const qbo0 = qboFrom();
  const hs0 = hsFrom();
  const cpu = cpuMeter(() => [], 'this process (app, worker jobs, sandboxes, driver)');
  cpu.start();
  const { sent, sendSeconds } = await openLoop(list, rate);
  const done = await settled(
    b,
    sent.map((s) => s.pushId),
    { writtenBack: true, timeoutMs: 120_000 },
  );
  const usage = cpu.stop();
  if (!done.complete) notes.push(`rate ${rate}/s: not every push settled and written back within 120 s`);
  const at = await invoicedAt(
    b,
    sent.map((s) => s.milestoneId),
  );
  const ms = sent
    .map((s) => (at.get(s.milestoneId) ?? Number.NaN) - s.sentAt)
    .filter((x) => Number.isFinite(x))
    .sort((x, y) => x - y);
  const created = done.rows.filter((r) => r.status === 'created').length;
  const failed = done.rows.filter((r) => r.status === 'failed').length;
  const achieved = list.length > 1 ? (list.length - 1) / sendSeconds : rate;
  const qbo = quickbooksCost(b.qbo.requests.slice(qbo0), created);
  const hs = hubspotCost(b.hs.requests.slice(hs0), created);
  rows.push(
    {
      what: `${rate}/s: send rate kept / ${rate}`,
      value: achieved / rate,
      unit: '',
      target: 0.95,
      kind: 'min',
    },
    {
      what: `${rate}/s: invoices / acceptances`,
      value: created / list.length,
      unit: '',
      target: 1,
      kind: 'max',
    },
    { what: `${rate}/s: pushes failed`, value: failed, unit: '', target: 0, kind: 'max' },
  );
  const mean = ms.reduce((s, x) => s + x, 0) / Math.max(1, ms.length);
  const answered = sent.map((s) => s.answeredMs).sort((x, y) => x - y);
  notes.push(
    `rate ${rate}/s: n=${ms.length}, p50 ${percentile(ms, 50).toFixed(0)} ms, p90 ${percentile(ms, 90).toFixed(0)} ms, p99 ${percentile(ms, 99).toFixed(0)} ms, max ${(ms.at(-1) ?? Number.NaN).toFixed(0)} ms, mean ${mean.toFixed(0)} ms; sent at ${achieved.toFixed(1)}/s; the webhook answered after p50 ${percentile(answered, 50)} ms, p99 ${percentile(answered, 99)} ms`,
    `rate ${rate}/s: CPU from the first send until every invoice was written back (${usage.seconds.toFixed(1)} s, share of one core): ${usage.text}`,
    `rate ${rate}/s: QuickBooks ${qbo.perInvoice.toFixed(2)} calls per invoice (${qbo.breakdown}); HubSpot ${hs.perUnit.toFixed(2)} (${hs.breakdown})`,
  );
  return {
    rate,
    p50: percentile(ms, 50),
    p99: percentile(ms, 99),
    max: ms.at(-1) ?? Number.NaN,
    n: ms.length,
  };
}

async function rates(tenants: BenchTenant[]) {
  log(`warm-up: one acceptance per company (its customer and item found or made in QuickBooks)`);
  const warm = await Promise.all(tenants.map((t) => accept(appUrl, t, t.milestones[0]!)));
  await settled(
    b,
    warm.map((w) => w.pushId),
    { writtenBack: true, timeoutMs: 120_000 },
  );
  // HubSpot's window is 10 s: the app paces a portal at 105 per 10.5 s; the warm-up is far under.
  const qbo0 = qboFrom();
  const hs0 = hsFrom();
  const phases: Phase[] = [];
  for (const rate of RATES) phases.push(await phase(tenants, rate));
  const invoices = phases.reduce((s, p) => s + p.n, 0);
  const [base, ...rest] = phases;
  if (base) {
    const ms = (x: number) => `${x.toFixed(0)} ms`;
    for (const p of rest) {
      rows.push(
        {
          what: `latency p50 at ${p.rate}/s (${ms(p.p50)}) / at ${base.rate}/s (${ms(base.p50)})`,
          value: p.p50 / base.p50,
          unit: '',
          target: 1.25,
          kind: 'max',
        },
        {
          what: `latency p99 at ${p.rate}/s (${ms(p.p99)}) / at ${base.rate}/s (${ms(base.p99)})`,
          value: p.p99 / base.p99,
          unit: '',
          target: 1.5,
          kind: 'max',
        },
      );
    }
  }
  const qbo = quickbooksCost(b.qbo.requests.slice(qbo0), invoices);
  const hs = hubspotCost(b.hs.requests.slice(hs0), invoices);
  rows.push(
    {
      what: 'QBO creates per invoice (POST)',
      value: qbo.writesPerInvoice,
      unit: '',
      target: 1,
      kind: 'max',
    },
    {
      what: 'QBO reads per invoice (GET, metered)',
      value: qbo.readsPerInvoice,
      unit: '',
      target: 1,
      kind: 'max',
    },
    { what: 'HubSpot calls per invoice', value: hs.perUnit, unit: '', target: 1.2, kind: 'max' },
    { what: '429s from QuickBooks', value: qbo.throttled, unit: '', target: 0, kind: 'max' },
  );
  notes.push(
    `rates: ${invoices} invoices after the warm-up; QuickBooks ${qbo.total} calls, ${qbo.writes} creates, ${qbo.reads} reads (${qbo.breakdown})`,
    `rates: HubSpot ${hs.total} calls, ${hs.throttled} answered 429 (${hs.breakdown})`,
  );
}

// ── payments ──────────────────────────────────────────────────────────────────────────────────
async function payments(tenants: BenchTenant[]) {
  const { db } = b.t.database;
  b.qbo.configureWebhooks({
    url: `${appUrl}/webhooks/quickbooks`,
    verifierToken: QBO_VERIFIER,
    format: 'cloudevents',
    batchMs: 50,
  });
  const invoices = tenants.flatMap((t) => b.qbo.invoices(t.realmId).map((i) => ({ t, i })));
  const qbo0 = qboFrom();
  const hs0 = hsFrom();
  log(`payments: ${invoices.length} invoices paid in QuickBooks at once, across ${tenants.length} companies`);
  const start = performance.now();
  for (const { t, i } of invoices) b.qbo.recordPayment(t.realmId, i.Id, Number(i.TotalAmt));
  const ids = tenants.map((t) => t.tenant.id);
  let paid = 0;
  const deadline = start + 120_000;
  while (performance.now() < deadline) {
    paid = (
      await db
        .select({ id: milestoneTable.id })
        .from(milestoneTable)
        .where(and(inArray(milestoneTable.tenantId, ids), eq(milestoneTable.status, 'paid')))
    ).length;
    if (paid >= invoices.length) break;
    await sleep(250);
  }
  const paidAfter = performance.now() - start;
  // The roll-ups and notes trail the milestones: wait until HubSpot has heard nothing new for 3 s.
  let last = b.hs.requests.length;
  let quietSince = performance.now();
  while (performance.now() - quietSince < 3000 && performance.now() < deadline) {
    await sleep(250);
    const n = b.hs.requests.length;
    if (n !== last) {
      last = n;
      quietSince = performance.now();
    }
  }
  const hs = hubspotCost(b.hs.requests.slice(hs0), invoices.length);
  const qbo = quickbooksCost(b.qbo.requests.slice(qbo0), invoices.length);
  rows.push(
    {
      what: 'payments: milestones paid / payments',
      value: paid / invoices.length,
      unit: '',
      target: 1,
      kind: 'min',
    },
    { what: 'HubSpot calls per payment', value: hs.perUnit, unit: '', target: 1.2, kind: 'max' },
    {
      what: 'QBO reads per payment (GET, metered)',
      value: qbo.readsPerInvoice,
      unit: '',
      target: 1,
      kind: 'max',
    },
  );
  notes.push(
    `payments: ${invoices.length} recorded, ${paid} milestones paid after ${(paidAfter / 1000).toFixed(1)} s; HubSpot ${hs.total} calls (${hs.breakdown}); QuickBooks ${qbo.total} (${qbo.breakdown})`,
  );
}

// ── ingest ────────────────────────────────────────────────────────────────────────────────────
/** One POST on a keep-alive agent; answers the status once the body is read. */
function post(agent: http.Agent, url: URL, body: string, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      url,
      {
        method: 'POST',
        agent,
        headers: {
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(body),
          ...headers,
        },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

let eventSeq = 0;
/** The next signed batch of unique events, as HubSpot delivers them (v3 over the app's public URL). */
function nextBatch(tenants: BenchTenant[], i: number) {
  const t = tenants[i % tenants.length]!;
  const occurredAt = Date.now();
  const events = Array.from({ length: INGEST_BATCH }, (_, k) =>
    dealPropertyChangeEvent(t.portal, t.deals[k % t.deals.length]!, 'dealstage', 'contractsent', {
      eventId: 1_000_000 + ++eventSeq,
      occurredAt,
    }),
  );
  const body = JSON.stringify(events);
  const timestamp = Date.now();
  const headers = signedHeaders(b.t.ctx.config.hubspot.clientSecret!, {
    method: 'POST',
    url: `${b.t.ctx.config.publicUrl}/webhooks/hubspot`,
    body,
    timestamp,
  });
  return { body, headers };
}

/** Closed loop per connection, like autocannon: each sends its next batch when the last is answered. */
async function hammer(url: URL, tenants: BenchTenant[], seconds: number) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: INGEST_CONNECTIONS });
  let ok = 0;
  let other = 0;
  let i = 0;
  const start = performance.now();
  const end = start + seconds * 1000;
  await Promise.all(
    Array.from({ length: INGEST_CONNECTIONS }, async () => {
      while (performance.now() < end) {
        const { body, headers } = nextBatch(tenants, i++);
        const status = await post(agent, url, body, headers).catch(() => 0);
        if (status === 200) ok++;
        else other++;
      }
    }),
  );
  const took = (performance.now() - start) / 1000;
  agent.destroy();
  return { ok, other, seconds: took, perSecond: ok / took };
}

async function ingest(tenants: BenchTenant[]) {
  // Verify, inbox, enqueue: this process's worker leaves the events' jobs queued meanwhile.
  await b.t.ctx.queues.queue(hubspotEvents).pause(true);
  const bare = express();
  bare.disable('x-powered-by');
  bare.post('/webhooks/hubspot', express.json({ limit: '2mb' }), (req, res) => {
    res.status(200).json({ received: Array.isArray(req.body) ? req.body.length : 0 });
  });
  const server: http.Server = await new Promise((resolve) => {
    const s = bare.listen(0, '127.0.0.1', () => resolve(s));
  });
  const bareUrl = new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}/webhooks/hubspot`);
  const appHook = new URL(`${appUrl}/webhooks/hubspot`);
  const { db } = b.t.database;
  const stored = async () =>
    (await db.select({ id: inbox.id }).from(inbox).where(eq(inbox.source, 'hubspot'))).length;
  try {
    log(
      `ingest: ${INGEST_CONNECTIONS} connections × ${INGEST_S} s of signed batches of ${INGEST_BATCH} events, bare express then the app`,
    );
    await hammer(bareUrl, tenants, 1); // warm-up, both
    await hammer(appHook, tenants, 1);
    const before = await stored();
    const cpu = cpuMeter(() => [], 'this process (app, worker jobs, sandboxes, driver)');
    cpu.start();
    const baseline = await hammer(bareUrl, tenants, INGEST_S);
    const bareCpu = cpu.stop();
    cpu.start();
    const app = await hammer(appHook, tenants, INGEST_S);
    const appCpu = cpu.stop();
    const kept = (await stored()) - before;
    rows.push(
      {
        what: `ingest: app req/s (${app.perSecond.toFixed(0)}) / bare express (${baseline.perSecond.toFixed(0)})`,
        value: app.perSecond / baseline.perSecond,
        unit: '',
        target: 0.5,
        kind: 'min',
      },
      { what: 'ingest: app answers other than 200', value: app.other, unit: '', target: 0, kind: 'max' },
      {
        what: 'ingest: events in the inbox / events answered',
        value: kept / Math.max(1, app.ok * INGEST_BATCH),
        unit: '',
        target: 1,
        kind: 'min',
      },
    );
    notes.push(
      `ingest: the app ${app.ok} batches in ${app.seconds.toFixed(1)} s, ${app.perSecond.toFixed(0)} req/s, ${(app.perSecond * INGEST_BATCH).toFixed(0)} events/s; bare express ${baseline.ok} in ${baseline.seconds.toFixed(1)} s, ${baseline.perSecond.toFixed(0)} req/s, ${(baseline.perSecond * INGEST_BATCH).toFixed(0)} events/s (${baseline.other} not 200); the driver and both servers share this process, and the machine's ${appCpu.cores} cores with Postgres and Redis`,
      `ingest CPU (share of one core), bare express: ${bareCpu.text}`,
      `ingest CPU (share of one core), the app: ${appCpu.text}`,
    );
  } finally {
    server.close();
    server.closeAllConnections();
  }
}

const t0 = performance.now();
try {
  log(
    `load benchmark: ${b.t.database.kind}${b.t.database.url ? ` (${new URL(b.t.database.url).host})` : ''}, Redis ${b.t.ctx.config.redisUrl}, QuickBooks sandbox latency ${QBO_LATENCY_MS} ms, ${TENANTS} companies`,
  );
  const perTenant = 1 + RATES.reduce((s, r) => s + Math.ceil((r * LOAD_S) / TENANTS), 0);
  const tenants = await benchTenants(b, TENANTS, perTenant);
  log(
    `setup: ${TENANTS} companies with ${perTenant} milestones each in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
  );
  if (RATES.length) await rates(tenants);
  if (PAYMENTS && RATES.length) await payments(tenants);
  if (INGEST_S > 0) await ingest(tenants);
  printTable(rows, notes, log);
  log(`  took ${((performance.now() - t0) / 1000).toFixed(0)} s`);
} finally {
  await close();
}
process.exit(0);
