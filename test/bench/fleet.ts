/**
 * What the load, pacing and scale benchmarks share: the app started as push.bench.ts starts it
 * (startBilling, production timings, both sandboxes over real HTTP), tenants with portal ids of
 * their own, signed acceptances over a real socket, the app's web and worker roles as real
 * processes (the built .build/web.js and .build/worker.js, as the Procfile runs them), their memory and CPU from /proc, and the calls each
 * sandbox logged, by endpoint.
 */

import { type ChildProcess, execFileSync } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { inArray } from 'drizzle-orm';
import { signAcceptance } from '../../src/acceptance/signature.ts';
import { invoicePush } from '../../src/jobs/invoice-push.ts';
import { invoicePushes, transitions } from '../../src/store/schema.ts';
import { acceptanceSecret, createApiKey, ensureTenant } from '../../src/tenants/repository.ts';
import type { RequestLogEntry } from '../sandboxes/hubspot/index.ts';
import type { RequestRecord } from '../sandboxes/quickbooks/index.ts';
import { type Billing, startBilling } from '../support/billing.ts';
import { startEmbeddedPostgres } from '../support/embedded-postgres.ts';
import { freePort } from '../support/net.ts';
import { exited, spawnTracked } from '../support/processes.ts';
import { sandboxEnv } from '../support/sandbox-env.ts';

const env = process.env;
export const count = (name: string, fallback: number) => Math.max(0, Number(env[name] ?? fallback) | 0);
export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
export const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? Number.NaN;
export const INTUIT_PER_MINUTE = 500;
const root = join(import.meta.dirname, '../..');

/** The production timings startBilling shortens for the test suite. */
export const PRODUCTION = {
  QBO_REQUEST_TIMEOUT_MS: '30000',
  QBO_THROTTLE_PAUSE_MS: '60000',
  JOB_BACKOFF_MS: '1000',
  JOB_LOCK_MS: '30000',
};

/**
 * The app as push.bench.ts runs it: web routes on a real socket (PUBLIC_URL, so QuickBooks'
 * webhooks reach it), Postgres (DATABASE_URL, else a throwaway embedded server), Redis, both
 * sandboxes, the QuickBooks one answering each call after `qboLatencyMs`. `worker: false` leaves
 * the jobs to worker processes.
 */
export async function startBench(opts: { worker: boolean; qboLatencyMs: number }) {
  // spawnTracked marks its children with the run's id (test/support/processes.ts).
  env.MB_TEST_RUN ??= `bench-${randomBytes(4).toString('hex')}`;
  const postgres = env.DATABASE_URL ? undefined : await startEmbeddedPostgres();
  if (postgres) env.MB_TEST_POSTGRES_URL = postgres.url;
  const b = await startBilling({ server: true, listen: true, worker: opts.worker, env: PRODUCTION });
  b.qbo.setFaults({ latencyMs: opts.qboLatencyMs });
  return {
    b,
    appUrl: b.t.ctx.config.publicUrl,
    async close() {
      // Figures are printed; a straggling connection dropped by the teardown is not worth a stack trace.
      process.on('uncaughtException', (error) => console.warn(`teardown: ${error.message}`));
      await b.close();
      await postgres?.stop();
    },
  };
}

export interface Milestone {
  dealId: string;
  id: string;
}

/**
 * A tenant installed in a seeded HubSpot portal and connected to a new QuickBooks company, with
 * a portal id of its own (the app's HubSpot budget is a Redis key per portal id, and test runs on
 * the same Redis reuse theirs), and `milestones` fixed-amount milestones on deals of at most
 * `perDeal`, all billed to one seeded HubSpot company (a known customer once the first invoice
 * exists).
 */
export async function benchTenant(b: Billing, milestones: number, perDeal = 100) {
  const portal = 70_000_000 + randomInt(20_000_000);
  const portalId = String(portal);
  const { db } = b.t.database;
  const { tenant } = await ensureTenant(db, b.t.encryptionKey, portalId, `Bench Agency ${portalId}`);
  const { key } = await createApiKey(db, tenant.id, 'bench');
  b.hs.seedRealistic(portal);
  const h = b.hs.issueTokens(portal);
  await b.t.ctx.hubspot.saveInstall(tenant.id, {
    portalId,
    hubDomain: null,
    installedBy: null,
    tokens: { access_token: h.accessToken, refresh_token: h.refreshToken, expires_in: h.expiresIn },
  });
  const realmId = String(9_140_000_000 + randomInt(1_000_000_000));
  b.qbo.addRealm(realmId, {
    companyName: `Books of ${portalId}`,
    country: 'US',
    homeCurrency: 'USD',
    multiCurrency: true,
  });
  await b.t.ctx.quickbooks.connect(tenant.id, realmId, b.qbo.issueTokens(realmId));
  const acme = b.hs.listDeals(portal).find((d) => d.properties.dealname?.startsWith('Acme Widgets'))!;
  const out: Milestone[] = [];
  const deals: string[] = [];
  for (let d = 0; out.length < milestones; d++) {
    const size = Math.min(perDeal, milestones - out.length);
    const { dealId } = await b.hs.createDeal(
      portal,
      {
        dealname: `Bench deal ${d + 1}`,
        amount: String(size * 1000),
        deal_currency_code: 'USD',
        dealstage: 'closedwon',
        pipeline: 'default',
      },
      { companyId: acme.primaryCompanyId ?? acme.companyIds[0]!, contactIds: acme.contactIds },
    );
    deals.push(dealId);
    const res = await b.t.http
      .put(`/api/v1/deals/${dealId}/schedule`)
      .set('Authorization', `Bearer ${key}`)
      .send({
        contractValue: { amount: `${size * 1000}.00`, currency: 'USD' },
        paymentTerms: 'net_30',
        milestones: Array.from({ length: size }, (_, i) => ({
          name: `Milestone ${i + 1}`,
          deliverable: `Deliverable ${i + 1}`,
          acceptanceCriteria: 'Signed off by the client',
          amount: '1000.00',
          plannedDate: '2027-01-15',
        })),
      });
    if (res.status !== 200 && res.status !== 201)
      throw new Error(`schedule for ${dealId}: ${res.status} ${JSON.stringify(res.body)}`);
    for (const m of res.body.milestones as Array<{ id: string }>) out.push({ dealId, id: m.id });
  }
  return {
    tenant,
    portal,
    portalId,
    realmId,
    deals,
    secret: acceptanceSecret(b.t.encryptionKey, tenant),
    milestones: out,
  };
}
export type BenchTenant = Awaited<ReturnType<typeof benchTenant>>;

/** `n` tenants, set up a few at a time. */
export async function benchTenants(b: Billing, n: number, milestones: number, perDeal = 100) {
  const out: BenchTenant[] = [];
  for (let i = 0; i < n; i += 5)
    out.push(
      ...(await Promise.all(
        Array.from({ length: Math.min(5, n - i) }, () => benchTenant(b, milestones, perDeal)),
      )),
    );
  return out;
}

let acceptances = 0;
/**
 * The signed acceptance webhook over a real socket, as a client's e-signature tool sends it.
 * Answers the push's id and when (wall clock, as Postgres' clock on the same machine) it was sent.
 */
export async function accept(appUrl: string, t: BenchTenant, m: Milestone) {
  const raw = JSON.stringify({
    id: `acc_bench_${++acceptances}_${m.id}`,
    portalId: t.portalId,
    dealId: m.dealId,
    milestone: { id: m.id },
    acceptedAt: new Date().toISOString(),
    acceptedBy: { name: 'Dana Client', email: 'dana@client.example' },
  });
  const sentAt = Date.now();
  const res = await fetch(`${appUrl}/webhooks/acceptance`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-acceptance-signature': signAcceptance(t.secret, raw) },
    body: raw,
  });
  const body = (await res.json()) as { outcome?: string; pushId?: string };
  if (res.status !== 200 || body.outcome !== 'accepted' || !body.pushId)
    throw new Error(`acceptance refused: ${res.status} ${JSON.stringify(body)}`);
  return { pushId: body.pushId, milestoneId: m.id, sentAt, answeredMs: Date.now() - sentAt };
}

/** Every (tenant, milestone) pair taken round-robin over the tenants: tenant 1's first, tenant 2's first, … */
export function roundRobin(tenants: BenchTenant[], from: number, perTenant: number) {
  const out: Array<{ t: BenchTenant; m: Milestone }> = [];
  for (let i = from; i < from + perTenant; i++)
    for (const t of tenants) {
      const m = t.milestones[i];
      if (m) out.push({ t, m });
    }
  return out;
}

/** Sends every acceptance as fast as `concurrency` connections allow; answers the sends. */
export async function record(
  appUrl: string,
  list: Array<{ t: BenchTenant; m: Milestone }>,
  concurrency = 16,
) {
  const sent: Array<Awaited<ReturnType<typeof accept>>> = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < list.length) {
        const { t, m } = list[next++]!;
        sent.push(await accept(appUrl, t, m));
      }
    }),
  );
  return sent;
}

/** The pushes' rows, polled until every one is created or failed (and, when asked, written back). */
export async function settled(
  b: Billing,
  pushIds: string[],
  opts: { writtenBack?: boolean; timeoutMs?: number; onPoll?: (done: number) => void } = {},
) {
  const deadline = Date.now() + (opts.timeoutMs ?? 120_000);
  const { db } = b.t.database;
  for (;;) {
    const rows: Array<typeof invoicePushes.$inferSelect> = [];
    for (let i = 0; i < pushIds.length; i += 1000)
      rows.push(
        ...(await db
          .select()
          .from(invoicePushes)
          .where(inArray(invoicePushes.id, pushIds.slice(i, i + 1000)))),
      );
    const done = rows.filter((r) => r.status === 'created' || r.status === 'failed');
    const complete =
      done.length === pushIds.length &&
      (!opts.writtenBack || done.every((r) => r.status !== 'created' || r.writtenBackAt));
    opts.onPoll?.(done.length);
    if (complete) return { rows, complete: true };
    if (Date.now() > deadline) return { rows, complete: false };
    await sleep(250);
  }
}

/**
 * When each milestone's invoice was created: the `invoice_created` transition is written in the
 * transaction that marks the push created (`at` is Postgres' now(), its start), and unlike the
 * push's updatedAt no later write-back moves it.
 */
export async function invoicedAt(b: Billing, milestoneIds: string[]): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (let i = 0; i < milestoneIds.length; i += 1000) {
    const rows = await b.t.database.db
      .select({ milestoneId: transitions.milestoneId, at: transitions.at, event: transitions.event })
      .from(transitions)
      .where(inArray(transitions.milestoneId, milestoneIds.slice(i, i + 1000)));
    for (const r of rows) if (r.event === 'invoice_created') out.set(r.milestoneId, r.at.getTime());
  }
  return out;
}

/**
 * Holds every invoice push in Redis (bull's global pause: new jobs wait in the paused list, no
 * worker process takes one) while a backlog is recorded, so the drain starts with all of it queued.
 */
export const pausePushes = (b: Billing) => b.t.ctx.queues.queue(invoicePush).pause();
export const resumePushes = (b: Billing) => b.t.ctx.queues.queue(invoicePush).resume();

// ── the app's processes ───────────────────────────────────────────────────────────────────────

/** The environment the app's processes run with, pointed at this bench's database, Redis and sandboxes. */
function appEnv(b: Billing, extra: Record<string, string> = {}): Record<string, string> {
  const c = b.t.ctx.config;
  return {
    PATH: env.PATH!,
    LOG_LEVEL: 'info',
    DATABASE_URL: b.t.database.url!,
    REDIS_URL: c.redisUrl,
    REDIS_PREFIX: c.redisPrefix,
    ENCRYPTION_KEY: b.t.encryptionKey.toString('base64'),
    PUBLIC_URL: c.publicUrl,
    ...sandboxEnv(b.hs, b.qbo),
    ...PRODUCTION,
    ...extra,
  };
}

export interface AppProcess {
  role: 'web' | 'worker';
  child: ChildProcess;
  pid: number;
  /** The last few KB of its output, for when it dies. */
  tail(): string;
  stop(): Promise<void>;
}

let built = false;
/** `npm run build` once per bench process: the roles run what a deploy runs, not the sources through tsx. */
function buildOnce() {
  if (built) return;
  execFileSync('npm', ['run', 'build'], { cwd: root, stdio: 'inherit' });
  built = true;
}

/** A role of the app as the Procfile runs it, its output read (a full pipe would stall it) and dropped. */
async function spawnRole(
  role: 'web' | 'worker',
  b: Billing,
  extra: Record<string, string>,
  ready: RegExp,
): Promise<AppProcess> {
  if (!b.t.database.url) throw new Error('the app processes need a PostgreSQL server (not PGlite)');
  buildOnce();
  // BENCH_CPU_PROF=<dir>: each role writes a V8 CPU profile there when it stops (open it in Chrome's DevTools).
  const prof = env.BENCH_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${env.BENCH_CPU_PROF}`] : [];
  const child = spawnTracked(process.execPath, [...prof, join(root, `.build/${role}.js`)], {
    env: appEnv(b, extra),
  });
  let tail = '';
  let up = false;
  const pid = await new Promise<number>((resolve, reject) => {
    const keep = (d: Buffer) => {
      tail = (tail + d).slice(-8000);
      if (!up && ready.test(tail)) {
        up = true;
        resolve(child.pid!);
      }
    };
    child.stdout!.on('data', keep);
    child.stderr!.on('data', keep);
    child.once('exit', (code) => reject(new Error(`${role} exited with ${code}:\n${tail}`)));
  });
  return {
    role,
    child,
    pid,
    tail: () => tail,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const done = exited(child);
      if ((await Promise.race([done.then(() => 'exited'), sleep(30_000)])) !== 'exited') {
        child.kill('SIGKILL');
        await done;
      }
    },
  };
}

/** The web role on a free port (no worker in it: DATABASE_URL is set). */
export async function spawnWeb(b: Billing) {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const web = await spawnRole('web', b, { PORT: String(port), PUBLIC_URL: url }, /"msg":"web listening/);
  return { ...web, url };
}

/** The worker role, with production timings. */
export const spawnWorker = (b: Billing) => spawnRole('worker', b, {}, /"msg":"worker started"/);

// ── memory and CPU from /proc ─────────────────────────────────────────────────────────────────

const TICKS_PER_SECOND = 100; // USER_HZ on Linux

/** A process's resident memory (VmRSS) in MB, undefined once it is gone. */
export function rssMb(pid: number): number | undefined {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : undefined;
  } catch {
    return undefined;
  }
}

/**
 * A process's CPU time so far (user + system), in seconds; with `children`, also that of its
 * children that have exited and been reaped (Postgres' backends, each connection's own process).
 */
function cpuSeconds(pid: number, children = false): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat
      .slice(stat.lastIndexOf(')') + 2)
      .split(' ')
      .map(Number);
    return (f[11]! + f[12]! + (children ? f[13]! + f[14]! : 0)) / TICKS_PER_SECOND;
  } catch {
    return 0;
  }
}

function commOf(pid: string): string {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return '';
  }
}

/**
 * CPU seconds of every process of the machine named `name` (postgres, redis-server: servers that
 * other runs on the machine use too), with their reaped children's; a backend that exits within
 * the measurement moves its time to the postmaster's children's, so the sum still only grows.
 */
function cpuOfNamed(name: string): number {
  let total = 0;
  for (const pid of readdirSync('/proc'))
    if (/^\d+$/.test(pid) && commOf(pid) === name) total += cpuSeconds(Number(pid), true);
  return total;
}

/** The machine's busy and total CPU seconds (all cores), from /proc/stat. */
function machineCpu(): { busy: number; total: number } {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0]!;
  const n = line.trim().split(/\s+/).slice(1).map(Number);
  const total = n.reduce((s, x) => s + x, 0);
  const idle = (n[3] ?? 0) + (n[4] ?? 0);
  return { busy: (total - idle) / TICKS_PER_SECOND, total: total / TICKS_PER_SECOND };
}

/**
 * CPU used between `start()` and `stop()`, as a share of one core, by each named process, the
 * shared Postgres and Redis servers (every process of theirs on the machine, other runs' work
 * included), this process (the sandboxes and the driver, and the app when it runs in here), and
 * the machine as a whole (out of cores × 100 %).
 */
export function cpuMeter(
  processes: () => Array<{ name: string; pid: number }>,
  self = 'bench process (sandboxes, driver)',
) {
  type Reading = {
    at: number;
    own: Map<string, number>;
    self: number;
    pg: number;
    redis: number;
    machine: { busy: number; total: number };
  };
  const read = (): Reading => ({
    at: performance.now(),
    own: new Map(processes().map((p) => [p.name, cpuSeconds(p.pid)])),
    self: process.cpuUsage().user / 1e6 + process.cpuUsage().system / 1e6,
    pg: cpuOfNamed('postgres'),
    redis: cpuOfNamed('redis-server'),
    machine: machineCpu(),
  });
  let first: Reading | undefined;
  return {
    start() {
      first = read();
    },
    /** "web 12 %, worker-1 85 %, …" and the busiest of the app's own processes. */
    stop() {
      const a = first ?? read();
      const z = read();
      const s = (z.at - a.at) / 1000;
      const pct = (x: number) => Math.round((x / s) * 100);
      const parts: Array<[string, number]> = [
        ...[...z.own].map(([k, v]): [string, number] => [k, pct(v - (a.own.get(k) ?? v))]),
        [self, pct(z.self - a.self)],
        ['postgres (all)', pct(z.pg - a.pg)],
        ['redis (all)', pct(z.redis - a.redis)],
      ];
      const cores = (z.machine.total - a.machine.total) / s;
      const machine = Math.round(
        ((z.machine.busy - a.machine.busy) / (z.machine.total - a.machine.total)) * cores * 100,
      );
      return {
        seconds: s,
        parts,
        machine,
        cores: Math.round(cores),
        text: `${parts.map(([k, v]) => `${k} ${v} %`).join(', ')}, the rest (kernel, other processes) ${machine - parts.reduce((sum, [, v]) => sum + v, 0)} %; machine ${machine} % of ${Math.round(cores) * 100} %`,
      };
    },
  };
}

/** The web role and the workers by name (web, worker-1, …), as cpuMeter and rssSampler take them; workers may be added later. */
export const roles = (web: AppProcess, workers: AppProcess[]) => () => [
  { name: 'web', pid: web.pid },
  ...workers.map((w, i) => ({ name: `worker-${i + 1}`, pid: w.pid })),
];

/** VmRSS of each process, every `everyMs`, kept with the time it was read. */
export function rssSampler(processes: () => Array<{ name: string; pid: number }>, everyMs = 500) {
  const samples: Array<{ at: number; name: string; mb: number }> = [];
  const timer = setInterval(() => {
    const at = performance.now();
    for (const p of processes()) {
      const mb = rssMb(p.pid);
      if (mb !== undefined) samples.push({ at, name: p.name, mb });
    }
  }, everyMs);
  timer.unref();
  return {
    stop: () => clearInterval(timer),
    /** The largest sample of each process between `from` and `to` (performance.now() times). */
    max(from = 0, to = Number.POSITIVE_INFINITY) {
      const out = new Map<string, number>();
      for (const s of samples)
        if (s.at >= from && s.at <= to) out.set(s.name, Math.max(out.get(s.name) ?? 0, s.mb));
      return out;
    },
    /** "web 143 MB, worker-1 172 MB": the largest sample of each between `from` and `to`. */
    maxText(from = 0, to = Number.POSITIVE_INFINITY) {
      return [...this.max(from, to)].map(([name, mb]) => `${name} ${mb.toFixed(0)} MB`).join(', ');
    },
  };
}

// ── what the platforms were asked ─────────────────────────────────────────────────────────────

/** QuickBooks calls: creates (POST) and reads (GET: queries, lookups) apart, as Intuit meters reads. */
export function quickbooksCost(calls: RequestRecord[], invoices: number) {
  const by = new Map<string, number>();
  for (const r of calls) by.set(r.endpoint, (by.get(r.endpoint) ?? 0) + 1);
  const writes = calls.filter((r) => r.method !== 'GET').length;
  const reads = calls.length - writes;
  const per = (n: number) => n / Math.max(1, invoices);
  return {
    total: calls.length,
    writes,
    reads,
    perInvoice: per(calls.length),
    writesPerInvoice: per(writes),
    readsPerInvoice: per(reads),
    throttled: calls.filter((r) => r.status === 429).length,
    breakdown: [...by]
      .sort((x, y) => y[1] - x[1])
      .map(([k, n]) => `${per(n).toFixed(2)} × ${k}`)
      .join(', '),
  };
}

/** HubSpot calls by method and path (ids as :id), per unit of work. */
export function hubspotCost(calls: RequestLogEntry[], units: number) {
  const by = new Map<string, number>();
  for (const r of calls) {
    const key = `${r.method} ${r.path.replace(/\/\d+(?=\/|$)/g, '/:id')}`;
    by.set(key, (by.get(key) ?? 0) + 1);
  }
  return {
    total: calls.length,
    perUnit: calls.length / Math.max(1, units),
    throttled: calls.filter((r) => r.status === 429).length,
    breakdown: [...by]
      .sort((x, y) => y[1] - x[1])
      .map(([k, n]) => `${(n / Math.max(1, units)).toFixed(2)} × ${k}`)
      .join(', '),
  };
}
