/**
 * `npm run bench:scale`: the same backlog drained by one worker process, then (fresh companies) by
 * two: invoices a second of each and their ratio, and the resident memory of the web and worker
 * processes meanwhile. Prints figures; asserts nothing.
 *
 * The app's roles as the Procfile runs them (built: .build/web.js, .build/worker.js), each its own node
 * process, on one Postgres database and one Redis prefix; this process holds both sandboxes (the
 * QuickBooks one answering each call after 50 ms) and sends the acceptances (signed, over a real
 * socket) to the web process. The backlog is spread over BENCH_SCALE_COMPANIES companies, so
 * Intuit's 500 a minute per company is far off and the workers are what is measured; each company's
 * first invoice is a warm-up. The backlog is recorded while invoice pushes are held in Redis (bull's
 * global pause), then released at once; throughput is counted between the 10th and the 90th
 * percentile of the invoices' creation (the `invoice_created` transitions), leaving out the
 * ramp and the tail. The second run keeps the first worker and adds one.
 *
 * The machine's cores are shared by both workers, the web process, Postgres, Redis and this
 * process (sandboxes, driver): the CPU shares printed with each run say how much of it each took.
 *
 * Env: DATABASE_URL (a PostgreSQL server; else a throwaway embedded one), REDIS_URL,
 * BENCH_SCALE_COMPANIES (20), BENCH_SCALE_BACKLOG (600 acceptances per run), BENCH_QBO_LATENCY_MS (50).
 */

import os from 'node:os';
import { performance } from 'node:perf_hooks';
import {
  type AppProcess,
  accept,
  benchTenants,
  count,
  cpuMeter,
  INTUIT_PER_MINUTE,
  invoicedAt,
  pausePushes,
  percentile,
  record,
  resumePushes,
  roles,
  roundRobin,
  rssMb,
  rssSampler,
  settled,
  spawnWeb,
  spawnWorker,
  startBench,
} from './fleet.ts';
import { printTable, type Row } from './table.ts';

const COMPANIES = Math.max(1, count('BENCH_SCALE_COMPANIES', 20));
const BACKLOG = Math.max(COMPANIES, count('BENCH_SCALE_BACKLOG', 600));
const PER_COMPANY = Math.ceil(BACKLOG / COMPANIES);
const QBO_LATENCY_MS = count('BENCH_QBO_LATENCY_MS', 50);
const RSS_TARGET_MB = 200;

const log = (line = '') => console.log(line);
const rows: Row[] = [];
const notes: string[] = [];
const { b, close } = await startBench({ worker: false, qboLatencyMs: QBO_LATENCY_MS });
const processes: AppProcess[] = [];
const t0 = performance.now();

interface Run {
  workers: number;
  perSecond: number;
  created: number;
  failed: number;
  sent: number;
}

try {
  log(
    `scale benchmark: ${b.t.database.kind}${b.t.database.url ? ` (${new URL(b.t.database.url).host})` : ''}, Redis ${b.t.ctx.config.redisUrl}, QuickBooks sandbox latency ${QBO_LATENCY_MS} ms, ${COMPANIES} companies × ${PER_COMPANY} acceptances per run`,
  );
  const [web, first] = await Promise.all([spawnWeb(b), spawnWorker(b)]);
  processes.push(web, first);
  const workers: AppProcess[] = [first];
  const named = roles(web, workers);
  // Before any work: node and the app's bundled modules, as the Procfile runs them.
  const idle = `web ${rssMb(web.pid)?.toFixed(0)} MB, worker ${rssMb(first.pid)?.toFixed(0)} MB`;
  const rss = rssSampler(named);
  let measuredFrom = Number.POSITIVE_INFINITY;

  async function run(n: number): Promise<Run> {
    while (workers.length < n) {
      const w = await spawnWorker(b);
      processes.push(w);
      workers.push(w);
    }
    const tenants = await benchTenants(b, COMPANIES, PER_COMPANY + 1);
    const warm = await Promise.all(tenants.map((t) => accept(web.url, t, t.milestones[0]!)));
    await settled(
      b,
      warm.map((w) => w.pushId),
      { writtenBack: true, timeoutMs: 60_000 },
    );
    measuredFrom = Math.min(measuredFrom, performance.now());
    await pausePushes(b);
    const recordStart = performance.now();
    const sent = await record(web.url, roundRobin(tenants, 1, PER_COMPANY).slice(0, BACKLOG));
    const recordS = (performance.now() - recordStart) / 1000;
    const qbo0 = b.qbo.requests.length;
    const cpu = cpuMeter(named);
    cpu.start();
    await resumePushes(b);
    const released = performance.now();
    const releasedWall = Date.now();
    const done = await settled(
      b,
      sent.map((s) => s.pushId),
      { timeoutMs: 300_000 },
    );
    const usage = cpu.stop();
    const drainS = (performance.now() - released) / 1000;
    const memory = rss.maxText(released, performance.now());
    const at = [
      ...(
        await invoicedAt(
          b,
          sent.map((s) => s.milestoneId),
        )
      ).values(),
    ].sort((x, y) => x - y);
    // Steady state: from the 10th to the 90th percentile of the creations.
    const lo = Math.floor(at.length * 0.1);
    const hi = Math.max(lo + 1, Math.ceil(at.length * 0.9) - 1);
    const perSecond = at.length > 1 ? ((hi - lo) / (at[hi]! - at[lo]!)) * 1000 : Number.NaN;
    const created = done.rows.filter((r) => r.status === 'created').length;
    const failed = done.rows.filter((r) => r.status === 'failed').length;
    // The busiest company: how far from Intuit's limits the spread kept QuickBooks.
    const stats = tenants.map((t) => b.qbo.stats(t.realmId));
    const calls = b.qbo.requests.slice(qbo0);
    const busiestMinute = Math.max(...stats.map((s) => s.maxPerMinute));
    const gaps = at.slice(1).map((x, i) => x - at[i]!);
    notes.push(
      `${n} worker${n > 1 ? 's' : ''}: ${sent.length} acceptances recorded in ${recordS.toFixed(1)} s; ${created} created, ${failed} failed in ${drainS.toFixed(1)} s after the release (first invoice ${(at[0]! - releasedWall).toFixed(0)} ms after it); ${perSecond.toFixed(1)} invoices/s between the 10th and 90th percentile, ${(created / drainS).toFixed(1)}/s over the whole drain; median gap ${percentile(
        gaps.sort((x, y) => x - y),
        50,
      )} ms`,
      `${n} worker${n > 1 ? 's' : ''}: QuickBooks ${calls.length} calls, ${calls.filter((r) => r.status === 429).length} answered 429; busiest company second ${Math.max(...stats.map((s) => s.maxPerSecond))}, minute ${busiestMinute} (${((busiestMinute / INTUIT_PER_MINUTE) * 100).toFixed(0)} % of 500), max in flight ${Math.max(...stats.map((s) => s.maxConcurrent))}`,
      `${n} worker${n > 1 ? 's' : ''}: CPU over the drain (share of one core): ${usage.text}`,
      `${n} worker${n > 1 ? 's' : ''}: RSS max over the drain: ${memory}`,
    );
    // The write-backs trail the invoices: the next run starts once they are done.
    const written = await settled(
      b,
      sent.map((s) => s.pushId),
      { writtenBack: true, timeoutMs: 120_000 },
    );
    if (!written.complete) notes.push(`${n} workers: not every invoice was written back within 120 s`);
    return { workers: n, perSecond, created, failed, sent: sent.length };
  }

  log(`run 1: one worker process drains ${BACKLOG} acceptances over ${COMPANIES} companies`);
  const one = await run(1);
  log(`run 2: two worker processes drain ${BACKLOG} more, fresh companies`);
  const two = await run(2);
  rss.stop();
  const memory = rss.max(measuredFrom);

  rows.push(
    {
      what: `2 workers (${two.perSecond.toFixed(1)} invoices/s) / 1 worker (${one.perSecond.toFixed(1)}/s)`,
      value: two.perSecond / one.perSecond,
      unit: '',
      target: 1.8,
      kind: 'min',
    },
    ...[...memory].map(
      ([name, mb]): Row => ({
        what: `RSS of ${name}, max from the first backlog on (MB)`,
        value: Math.round(mb),
        unit: '',
        target: RSS_TARGET_MB,
        kind: 'max',
      }),
    ),
    {
      what: 'pushes failed',
      value: one.failed + two.failed,
      unit: '',
      target: 0,
      kind: 'max',
    },
    {
      what: 'invoices / acceptances',
      value: (one.created + two.created) / (one.sent + two.sent),
      unit: '',
      target: 1,
      kind: 'max',
    },
  );
  notes.push(
    `RSS right after start, before any work: ${idle}`,
    `the machine has ${os.cpus().length} cores, shared by the workers, the web process, Postgres, Redis and this process (both sandboxes, the driver); another worker process only adds throughput while a core has room`,
  );
  printTable(rows, notes, log);
  log(`  took ${((performance.now() - t0) / 1000).toFixed(0)} s`);
} finally {
  await Promise.all(processes.map((p) => p.stop()));
  await close();
}
process.exit(0);
