/**
 * `npm run bench:pacing`: five companies, each with a backlog of accepted milestones, drained by
 * two worker processes that share Intuit's per-company limits through Redis: how close each
 * company comes to 500 requests a minute, its busiest second, and that no 429 comes back. Also
 * what each invoice costs in QuickBooks and HubSpot calls under that backlog. Prints figures;
 * asserts nothing.
 *
 * The app's roles as the Procfile runs them (built): the web role and BENCH_PACING_WORKERS workers,
 * each its own node process, on one Postgres database and one Redis prefix; this process holds
 * both sandboxes (the QuickBooks one answering each call after 50 ms) and sends the acceptances
 * (signed, over a real socket, round-robin over the companies) to the web process. Each company's
 * first invoice (its customer and item found or made) is a warm-up. The backlog is recorded while
 * invoice pushes are held in Redis (bull's global pause), then released at once; the rates are
 * counted over a steady-state window that starts BENCH_PACING_RAMP_S after the release.
 *
 * Five companies at the app's pace (490 per 61 s each) need about 40 invoices a second from the
 * workers: where the figures fall short, the printed CPU shares say which process was the limit
 * (the machine's cores are shared with Postgres, Redis, the sandboxes and this driver).
 *
 * Env: DATABASE_URL (a PostgreSQL server; else a throwaway embedded one), REDIS_URL,
 * BENCH_PACING_COMPANIES (5), BENCH_PACING_WORKERS (2), BENCH_PACING_RAMP_S (5),
 * BENCH_PACING_WINDOW_S (30), BENCH_PACING_BACKLOG (per company; default enough for ramp + window + 5 s
 * at the app's pace), BENCH_PACING_TAIL_S (10: how long to wait for the rest of the drain and its write-backs),
 * BENCH_QBO_LATENCY_MS (50).
 */

import { performance } from 'node:perf_hooks';
import {
  type AppProcess,
  accept,
  benchTenants,
  count,
  cpuMeter,
  hubspotCost,
  INTUIT_PER_MINUTE,
  pausePushes,
  quickbooksCost,
  record,
  resumePushes,
  roles,
  roundRobin,
  rssSampler,
  settled,
  sleep,
  spawnWeb,
  spawnWorker,
  startBench,
} from './fleet.ts';
import { printTable, type Row } from './table.ts';

const COMPANIES = Math.max(1, count('BENCH_PACING_COMPANIES', 5));
const WORKERS = Math.max(1, count('BENCH_PACING_WORKERS', 2));
const RAMP_S = count('BENCH_PACING_RAMP_S', 5);
const WINDOW_S = Math.max(5, count('BENCH_PACING_WINDOW_S', 30));
/** The app's own pace: 490 per 61 s per company (src/quickbooks/limits.ts). */
const APP_PACE_PER_S = 490 / 61;
const BACKLOG = Math.max(
  1,
  count('BENCH_PACING_BACKLOG', Math.ceil((RAMP_S + WINDOW_S + 5) * APP_PACE_PER_S)),
);
const TAIL_S = count('BENCH_PACING_TAIL_S', 10);
const QBO_LATENCY_MS = count('BENCH_QBO_LATENCY_MS', 50);

const log = (line = '') => console.log(line);
const rows: Row[] = [];
const notes: string[] = [];
const { b, close } = await startBench({ worker: false, qboLatencyMs: QBO_LATENCY_MS });
const processes: AppProcess[] = [];
const t0 = performance.now();

try {
  log(
    `pacing benchmark: ${b.t.database.kind}${b.t.database.url ? ` (${new URL(b.t.database.url).host})` : ''}, Redis ${b.t.ctx.config.redisUrl}, QuickBooks sandbox latency ${QBO_LATENCY_MS} ms, ${COMPANIES} companies × ${BACKLOG} acceptances, ${WORKERS} worker processes`,
  );
  const [tenants, web, ...workers] = await Promise.all([
    benchTenants(b, COMPANIES, BACKLOG + 1),
    spawnWeb(b),
    ...Array.from({ length: WORKERS }, () => spawnWorker(b)),
  ]);
  processes.push(web, ...workers);
  const named = roles(web, workers);
  log(
    `setup: ${COMPANIES} companies, web and ${WORKERS} workers up in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
  );

  // The warm-up: each company's customer and item come into being with its first invoice.
  const warm = await Promise.all(tenants.map((t) => accept(web.url, t, t.milestones[0]!)));
  await settled(
    b,
    warm.map((w) => w.pushId),
    { writtenBack: true, timeoutMs: 60_000 },
  );

  await pausePushes(b);
  log(
    `backlog: recording ${COMPANIES * BACKLOG} acceptances round-robin through the web process (pushes held)`,
  );
  const recordStart = performance.now();
  const sent = await record(web.url, roundRobin(tenants, 1, BACKLOG));
  const recordS = (performance.now() - recordStart) / 1000;
  log(
    `backlog: recorded in ${recordS.toFixed(1)} s (${(sent.length / recordS).toFixed(0)}/s); released to the workers`,
  );

  const qbo0 = b.qbo.requests.length;
  const hs0 = b.hs.requests.length;
  const rss = rssSampler(named);
  const cpu = cpuMeter(named);
  await resumePushes(b);
  const released = Date.now();
  const from = released + RAMP_S * 1000;
  const to = from + WINDOW_S * 1000;
  await sleep(from - Date.now());
  cpu.start();
  const windowStart = performance.now();
  for (let s = 0; Date.now() < to; s += 15) {
    await sleep(Math.min(15_000, to - Date.now()));
    const made = b.qbo.requests.slice(qbo0).filter((r) => r.endpoint === 'POST /invoice').length;
    log(`  ${RAMP_S + Math.min(WINDOW_S, s + 15)} s after release: ${made}/${sent.length} invoices`);
  }
  const usage = cpu.stop();
  const memory = rss.maxText(windowStart, performance.now());

  // The window's calls, by company: Intuit counts arrivals; the sandbox logs each as it answers.
  const inWindow = b.qbo.requests.slice(qbo0).filter((r) => {
    const at = Date.parse(r.at);
    return at >= from && at < to;
  });
  const hsInWindow = b.hs.requests.slice(hs0).filter((r) => r.at >= from && r.at < to);
  const perCompany = tenants.map((t) => {
    const calls = inWindow.filter((r) => r.realmId === t.realmId).length;
    return (calls / WINDOW_S) * 60;
  });
  const stats = tenants.map((t) => b.qbo.stats(t.realmId));
  const invoicesInWindow = inWindow.filter((r) => r.endpoint === 'POST /invoice' && r.status === 200).length;

  log(`drain: waiting up to ${TAIL_S} s for the rest of the backlog and its write-backs to HubSpot`);
  const drained = await settled(
    b,
    sent.map((s) => s.pushId),
    { writtenBack: true, timeoutMs: TAIL_S * 1000 },
  );
  const created = drained.rows.filter((r) => r.status === 'created').length;
  const failed = drained.rows.filter((r) => r.status === 'failed').length;
  const unwritten = drained.rows.filter((r) => r.status === 'created' && !r.writtenBackAt).length;
  const took = (Date.now() - released) / 1000;

  const slowest = Math.min(...perCompany);
  rows.push(
    {
      what: `slowest company's rate / ${INTUIT_PER_MINUTE} per min`,
      value: slowest / INTUIT_PER_MINUTE,
      unit: '',
      target: 0.95,
      kind: 'min',
    },
    {
      what: `average company's rate / ${INTUIT_PER_MINUTE} per min`,
      value: perCompany.reduce((s, x) => s + x, 0) / perCompany.length / INTUIT_PER_MINUTE,
      unit: '',
      target: 0.95,
      kind: 'min',
    },
    {
      what: 'busiest second of any company',
      value: Math.max(...stats.map((s) => s.maxPerSecond)),
      unit: '',
      target: 10,
      kind: 'max',
    },
    {
      what: 'busiest minute of any company',
      value: Math.max(...stats.map((s) => s.maxPerMinute)),
      unit: '',
      target: INTUIT_PER_MINUTE,
      kind: 'max',
    },
    {
      what: '429s from QuickBooks',
      value: stats.reduce((s, x) => s + x.throttled429, 0),
      unit: '',
      target: 0,
      kind: 'max',
    },
    { what: 'pushes failed', value: failed, unit: '', target: 0, kind: 'max' },
  );
  const qbo = quickbooksCost(inWindow, invoicesInWindow);
  const hs = hubspotCost(hsInWindow, invoicesInWindow);
  rows.push(
    {
      what: 'QBO creates per invoice (POST), in the window',
      value: qbo.writesPerInvoice,
      unit: '',
      target: 1,
      kind: 'max',
    },
    {
      what: 'QBO reads per invoice (GET, metered), in the window',
      value: qbo.readsPerInvoice,
      unit: '',
      target: 1,
      kind: 'max',
    },
  );
  // Write-backs trail the invoices (HubSpot's budget is per portal): counted over the whole
  // backlog once every invoice is written back, else over the window.
  const hsAll = hubspotCost(b.hs.requests.slice(hs0), created);
  rows.push({
    what: `HubSpot calls per invoice, ${drained.complete ? 'whole backlog' : 'in the window'}`,
    value: drained.complete ? hsAll.perUnit : hs.perUnit,
    unit: '',
    target: 1.2,
    kind: 'max',
  });
  if (drained.complete)
    rows.push({
      what: 'invoices / acceptances',
      value: created / sent.length,
      unit: '',
      target: 1,
      kind: 'max',
    });

  notes.push(
    `window: ${WINDOW_S} s from ${RAMP_S} s after the release; QuickBooks requests a minute per company: ${perCompany.map((x) => x.toFixed(0)).join(', ')} (the app paces at 490 per 61 s = ${(APP_PACE_PER_S * 60).toFixed(0)}/min)`,
    `window: ${invoicesInWindow} invoices (${(invoicesInWindow / WINDOW_S).toFixed(1)}/s over ${COMPANIES} companies; ${(COMPANIES * APP_PACE_PER_S).toFixed(1)}/s would be every company at the app's pace)`,
    `window: QuickBooks ${qbo.total} calls, ${qbo.writes} creates, ${qbo.reads} reads (${qbo.breakdown})`,
    `window: HubSpot ${hs.total} calls, ${hs.throttled} answered 429 (${hs.breakdown})`,
    `whole backlog: HubSpot ${hsAll.total} calls for ${created} invoices, ${hsAll.throttled} answered 429 (${hsAll.breakdown})${drained.complete ? '' : '; not every invoice was written back yet'}`,
    `whole run per company: busiest second ${stats.map((s) => s.maxPerSecond).join(', ')}; busiest minute ${stats.map((s) => s.maxPerMinute).join(', ')}; max in flight ${stats.map((s) => s.maxConcurrent).join(', ')}`,
    `CPU over the window (share of one core): ${usage.text}`,
    `RSS max over the window: ${memory}`,
    `backlog: ${sent.length} recorded in ${recordS.toFixed(1)} s; ${created} created, ${failed} failed, ${drained.complete ? `all created and written back ${took.toFixed(1)} s after the release` : `${took.toFixed(1)} s after the release ${sent.length - created - failed} not yet created, ${unwritten} created but not yet written back to HubSpot`}`,
  );
  printTable(rows, notes, log);
  log(`  took ${((performance.now() - t0) / 1000).toFixed(0)} s`);
} finally {
  await Promise.all(processes.map((p) => p.stop()));
  await close();
}
process.exit(0);
