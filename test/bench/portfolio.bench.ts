/**
 * `npm run bench:portfolio`: how fast the portfolio, forecast and aging APIs answer for a big
 * tenant (10,000 deals, 50,000 milestones), against a plain indexed SELECT of the same rows in the
 * same run. Prints figures; asserts nothing. Target (issue 11): p95 ≤ 150 ms on this machine.
 *
 * The real app in this process (web routes on a real socket, Postgres, Redis), asked over real
 * HTTP with a tenant API key, one request at a time. The tenant's book is seeded with SQL
 * (generate_series, deterministic hashes): schedules spread over owners, pipelines, USD and EUR
 * customers and payment terms; five milestones a deal, the earlier ones earned (accepted,
 * invoiced, partly or fully paid, refused by QuickBooks), the later ones planned over the next
 * 30 weeks (some overdue), a few disputed or cancelled; the ledger rows, acceptances and
 * QuickBooks payments the app would have written for them. Then VACUUM ANALYZE, as a live
 * database would be.
 *
 * Env: DATABASE_URL (else a throwaway embedded PostgreSQL server), REDIS_URL,
 * BENCH_DEALS (10000; 5 milestones each), BENCH_REQUESTS (200 per API), BENCH_WARMUP (20),
 * BENCH_EXPLAIN (off; `slow`: EXPLAIN ANALYZE the queries of each API whose p95 misses the target; `all`).
 */

import { execFileSync } from 'node:child_process';
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { and, count, eq } from 'drizzle-orm';
import type pg from 'pg';
import { today } from '../../src/domain/dates.ts';
import { weekOf } from '../../src/domain/forecast.ts';
import { invoicePushes, milestones } from '../../src/store/schema.ts';
import { createApiKey } from '../../src/tenants/repository.ts';
import { startBilling } from '../support/billing.ts';
import { startEmbeddedPostgres } from '../support/embedded-postgres.ts';

const env = process.env;
const int = (name: string, fallback: number) => Math.max(1, Number(env[name] ?? fallback) | 0);
const DEALS = int('BENCH_DEALS', 10_000);
const PER_DEAL = 5;
const REQUESTS = int('BENCH_REQUESTS', 200);
const WARMUP = int('BENCH_WARMUP', 20);
const EXPLAIN = env.BENCH_EXPLAIN ?? 'off';
const TARGET_P95_MS = 150;

const log = (line = '') => console.log(line);

const postgres = env.DATABASE_URL ? undefined : await startEmbeddedPostgres();
if (postgres) env.MB_TEST_POSTGRES_URL = postgres.url;
// No worker: only the web routes answer, as on a web dyno.
// The bench reads as fast as it can: the per-tenant request limit is not what it measures.
const b = await startBilling({
  listen: true,
  server: true,
  worker: false,
  env: { API_REQUESTS_PER_MINUTE: '1000000' },
});

try {
  const { db } = b.t.database;
  const pool = (db as unknown as { $client: pg.Pool }).$client;
  const tenant = await b.connectedTenant();
  const tenantId = tenant.tenant.id;
  const { key } = await createApiKey(db, tenantId, 'bench');
  const asOf = today();

  const seedStart = performance.now();
  await seed(pool, tenantId, asOf);
  const seedMs = performance.now() - seedStart;

  const statusCounts = await db
    .select({ status: milestones.status, n: count() })
    .from(milestones)
    .where(eq(milestones.tenantId, tenantId))
    .groupBy(milestones.status);
  const byStatusInDb = Object.fromEntries(statusCounts.map((r) => [r.status, r.n]));
  const totalMilestones = statusCounts.reduce((n, r) => n + r.n, 0);
  const cancelled = byStatusInDb.cancelled ?? 0;
  const [pushCount] = await db
    .select({ n: count() })
    .from(invoicePushes)
    .where(eq(invoicePushes.tenantId, tenantId));
  const [{ n: linkCount } = { n: 0 }] = (
    await pool.query<{ n: number }>('select count(*)::int as n from qbo_payment_links where tenant_id = $1', [
      tenantId,
    ])
  ).rows;
  const owner = '81000001';

  const appUrl = b.t.ctx.config.publicUrl;
  const headers = { Authorization: `Bearer ${key}` };
  const get = async (path: string) => {
    const res = await fetch(`${appUrl}/api/v1${path}`, { headers });
    const text = await res.text();
    if (res.status !== 200) throw new Error(`GET ${path}: ${res.status} ${text.slice(0, 500)}`);
    return text;
  };

  // The plain indexed SELECTs of the same rows, through the app's own pool and drizzle.
  const milestoneRows = () =>
    db
      .select({
        id: milestones.id,
        status: milestones.status,
        amount: milestones.amount,
        plannedDate: milestones.plannedDate,
      })
      .from(milestones)
      .where(eq(milestones.tenantId, tenantId));
  const openInvoiceRows = () =>
    db
      .select({
        id: invoicePushes.id,
        currency: invoicePushes.currency,
        customerId: invoicePushes.qboCustomerId,
        amount: invoicePushes.amount,
        paidAmount: invoicePushes.paidAmount,
        balance: invoicePushes.qboBalance,
        dueDate: invoicePushes.dueDate,
      })
      .from(invoicePushes)
      .where(and(eq(invoicePushes.tenantId, tenantId), eq(invoicePushes.status, 'created')));

  const baselines = {
    milestones: {
      label: 'select id, status, amount, planned_date from milestones where tenant_id = $1',
      run: milestoneRows,
    },
    invoices: {
      label:
        "select id, currency, customer, amounts, due_date from invoice_pushes where tenant_id = $1 and status = 'created'",
      run: openInvoiceRows,
    },
  } as const;

  const apis = [
    { name: 'portfolio', path: '/portfolio', baseline: 'milestones' },
    { name: 'forecast', path: '/portfolio/forecast', baseline: 'milestones' },
    { name: 'aging', path: '/portfolio/aging', baseline: 'invoices' },
    // The bar a person picks: this week holds every past-due invoice, the busiest week there is.
    {
      name: 'forecast week (this week, USD)',
      path: `/portfolio/forecast/weeks/${weekOf(today())}?currency=USD`,
      baseline: 'milestones',
    },
    {
      name: `portfolio ?ownerId=${owner}&currency=USD`,
      path: `/portfolio?ownerId=${owner}&currency=USD`,
      baseline: 'milestones',
    },
    {
      name: `forecast ?ownerId=${owner}&currency=USD`,
      path: `/portfolio/forecast?ownerId=${owner}&currency=USD`,
      baseline: 'milestones',
    },
    {
      name: `aging ?ownerId=${owner}&currency=USD`,
      path: `/portfolio/aging?ownerId=${owner}&currency=USD`,
      baseline: 'invoices',
    },
  ] as const;

  const loadBefore = os.loadavg();
  // Warm up everything first (JIT, pool connections, Postgres' caches), then measure each in turn.
  for (let i = 0; i < WARMUP; i++) {
    for (const api of apis) await get(api.path);
    for (const base of Object.values(baselines)) await base.run();
  }
  const timings = new Map<string, Stats>();
  const answers = new Map<string, string>();
  for (const api of apis) {
    const ms: number[] = [];
    let last = '';
    for (let i = 0; i < REQUESTS; i++) {
      const start = performance.now();
      last = await get(api.path);
      ms.push(performance.now() - start);
    }
    timings.set(api.name, stats(ms));
    answers.set(api.name, last);
  }
  const baselineRows = new Map<string, number>();
  for (const [name, base] of Object.entries(baselines)) {
    const ms: number[] = [];
    for (let i = 0; i < REQUESTS; i++) {
      const start = performance.now();
      const rows = await base.run();
      ms.push(performance.now() - start);
      baselineRows.set(name, rows.length);
    }
    timings.set(`baseline:${name}`, stats(ms));
  }
  const loadAfter = os.loadavg();

  // The figures.
  const commit = (() => {
    try {
      return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
    } catch {
      return 'unknown';
    }
  })();
  const dirty = (() => {
    try {
      return execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], {
        encoding: 'utf8',
      }).trim()
        ? ' (with uncommitted changes)'
        : '';
    } catch {
      return '';
    }
  })();
  const cpus = os.cpus();
  const [{ version: pgVersion } = { version: '?' }] = (
    await pool.query<{ version: string }>('select version()')
  ).rows;
  log(`portfolio benchmark, ${new Date().toISOString()}`);
  log(
    `  machine   ${cpus[0]?.model ?? 'unknown CPU'}, ${cpus.length} cores, ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB, ${os.platform()} ${os.release()}`,
  );
  log(`  node      ${process.version}`);
  log(
    `  database  ${b.t.database.kind}${postgres ? ' (embedded server)' : ' (DATABASE_URL)'}: ${pgVersion.split(' on ')[0]}`,
  );
  log(`  commit    ${commit}${dirty}`);
  const load = (l: number[]) => l.map((x) => x.toFixed(2)).join(' ');
  log(
    `  load avg  ${load(loadBefore)} before, ${load(loadAfter)} after (1, 5, 15 min; other processes share the cores)`,
  );
  log(
    `  tenant    ${DEALS.toLocaleString('en')} deals, ${totalMilestones.toLocaleString('en')} milestones, ` +
      `${(pushCount?.n ?? 0).toLocaleString('en')} invoice pushes, ${linkCount.toLocaleString('en')} payment links (seeded in ${(seedMs / 1000).toFixed(1)} s)`,
  );
  log(
    `  requests  ${REQUESTS} sequential per API over HTTP (${appUrl}), after ${WARMUP} warm-up rounds; as of ${asOf}`,
  );
  log();

  const header = ['API', 'p50', 'p95', 'p99', 'max', 'baseline p95', 'ratio', `p95 ≤ ${TARGET_P95_MS} ms`];
  const table = apis.map((api) => {
    const s = timings.get(api.name)!;
    const base = timings.get(`baseline:${api.baseline}`)!;
    return [
      `GET ${api.path}`,
      ms(s.p50),
      ms(s.p95),
      ms(s.p99),
      ms(s.max),
      `${ms(base.p95)} (${api.baseline})`,
      `${(s.p95 / base.p95).toFixed(2)}×`,
      s.p95 <= TARGET_P95_MS ? 'yes' : 'NO',
    ];
  });
  printTable(header, table);
  log();
  log('  baselines (same pool, drizzle, timed the same way, no HTTP):');
  for (const [name, base] of Object.entries(baselines)) {
    const s = timings.get(`baseline:${name}`)!;
    log(
      `    ${name.padEnd(10)} ${base.label}: ${baselineRows.get(name)!.toLocaleString('en')} rows; ` +
        `p50 ${ms(s.p50)}, p95 ${ms(s.p95)}, p99 ${ms(s.p99)}, max ${ms(s.max)}`,
    );
  }

  // The answers, so the figures are for real ones.
  log();
  log('  answers:');
  const portfolioAnswer = JSON.parse(answers.get('portfolio')!) as PortfolioAnswer;
  const counted = portfolioAnswer.byStatus.reduce((n, r) => n + r.count, 0);
  const expected = totalMilestones - cancelled;
  log(
    `    portfolio  byStatus counts add to ${counted.toLocaleString('en')}; ` +
      `${totalMilestones.toLocaleString('en')} milestones − ${cancelled} cancelled = ${expected.toLocaleString('en')}: ${counted === expected ? 'ok' : 'MISMATCH'}`,
  );
  for (const r of portfolioAnswer.byStatus)
    log(`      ${r.currency} ${r.status.padEnd(15)} ${String(r.count).padStart(6)}  ${r.amount.amount}`);
  const statusMismatch = Object.entries(byStatusInDb)
    .filter(([status]) => status !== 'cancelled')
    .filter(
      ([status, n]) =>
        portfolioAnswer.byStatus.filter((r) => r.status === status).reduce((s, r) => s + r.count, 0) !== n,
    );
  log(
    `      per status against the table: ${statusMismatch.length === 0 ? 'ok' : `MISMATCH ${JSON.stringify(statusMismatch)}`}`,
  );
  for (const r of portfolioAnswer.received)
    log(
      `      received ${r.currency}: invoiced ${r.invoiced.amount}, paid ${r.paid.amount}, ` +
        `outstanding ${r.outstanding.amount}, overdue ${r.overdue.amount}`,
    );
  const kinds = new Map<string, number>();
  for (const a of portfolioAnswer.needsAttention) kinds.set(a.kind, (kinds.get(a.kind) ?? 0) + 1);
  log(
    `      needsAttention: ${portfolioAnswer.needsAttention.length} shown (${[...kinds].map(([k, n]) => `${k} ${n}`).join(', ')})`,
  );

  const forecastAnswer = JSON.parse(answers.get('forecast')!) as ForecastAnswer;
  for (const c of forecastAnswer.currencies) {
    const expectedWeeks = c.weeks.filter((w) => w.kind === 'expected');
    const receivedWeeks = c.weeks.filter((w) => w.kind === 'received');
    const sum = (ws: typeof c.weeks) => ws.reduce((s, w) => s + Number(w.amount.amount.replace(/,/g, '')), 0);
    log(
      `    forecast   ${c.currency}: ${expectedWeeks.length} weeks expected ${fmt(sum(expectedWeeks))} ` +
        `(median ${c.median.amount}; ${expectedWeeks.filter((w) => w.mark === 'cluster').length} clusters, ` +
        `${expectedWeeks.filter((w) => w.mark === 'gap').length} gaps; this week ${expectedWeeks[0]?.amount.amount} ` +
        `overdue included: ${expectedWeeks[0]?.includesOverdue}), ` +
        `${receivedWeeks.length} weeks received ${fmt(sum(receivedWeeks))}`,
    );
  }

  const agingAnswer = JSON.parse(answers.get('aging')!) as AgingAnswer;
  const agedInvoices = agingAnswer.customers.reduce((n, c) => n + c.invoices, 0);
  const [open] = (
    await pool.query<{ n: number }>(
      `select count(*)::int as n from invoice_pushes where tenant_id = $1 and status = 'created'
         and coalesce(qbo_balance, amount - least(paid_amount, amount)) > 0`,
      [tenantId],
    )
  ).rows;
  log(
    `    aging      ${agingAnswer.customers.length} customer rows, ${agedInvoices.toLocaleString('en')} open invoices ` +
      `(table: ${open?.n.toLocaleString('en')}: ${agedInvoices === open?.n ? 'ok' : 'MISMATCH'})`,
  );
  for (const t of agingAnswer.totals)
    log(
      `      ${t.currency}: total ${t.total.amount}; ${agingAnswer.buckets.map((k) => `${k} ${t[k].amount}`).join(', ')}`,
    );
  for (const api of apis)
    log(`    ${api.name.padEnd(44)} answer ${(answers.get(api.name)!.length / 1024).toFixed(1)} KiB`);

  // Why, when an API misses the target: the plans of the queries it ran.
  const slow = apis.filter((api) => timings.get(api.name)!.p95 > TARGET_P95_MS);
  const explainThese = EXPLAIN === 'all' ? apis : EXPLAIN === 'slow' ? slow : [];
  if (slow.length > 0 && explainThese.length === 0)
    log(
      `\n  p95 over ${TARGET_P95_MS} ms: ${slow.map((a) => a.name).join('; ')} (BENCH_EXPLAIN=slow prints their plans)`,
    );
  for (const api of explainThese) {
    log();
    log(`  EXPLAIN ANALYZE of the queries GET ${api.path} runs:`);
    for (const q of await queriesOf(pool, () => get(api.path))) {
      const plan = await pool.query<{ 'QUERY PLAN': string }>(
        `EXPLAIN (ANALYZE, BUFFERS) ${q.text}`,
        q.values as unknown[],
      );
      log(`    -- ${q.text.replace(/\s+/g, ' ').slice(0, 160)}…`);
      for (const row of plan.rows) log(`    ${row['QUERY PLAN']}`);
      log();
    }
  }
} finally {
  await b.close();
  await postgres?.stop();
}

// ---------------------------------------------------------------------------------------------

interface Stats {
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

/** Nearest-rank percentiles. */
function stats(samples: number[]): Stats {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (p: number) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
  return { p50: at(50), p95: at(95), p99: at(99), max: sorted[sorted.length - 1]! };
}

function ms(value: number) {
  return `${value.toFixed(1)} ms`;
}

function fmt(value: number) {
  return value.toLocaleString('en', { minimumFractionDigits: 2, maximumFractionDigits: 2 });
}

function printTable(header: string[], rows: string[][]) {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) =>
    `  | ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(' | ')} |`;
  log(line(header));
  log(`  |${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
  for (const r of rows) log(line(r));
}

type Money = { amount: string; currency: string };
interface PortfolioAnswer {
  byStatus: { currency: string; status: string; count: number; amount: Money }[];
  received: { currency: string; invoiced: Money; paid: Money; outstanding: Money; overdue: Money }[];
  needsAttention: { kind: string }[];
}
interface ForecastAnswer {
  currencies: {
    currency: string;
    median: Money;
    weeks: {
      kind: 'expected' | 'received';
      mark: string | null;
      amount: Money;
      includesOverdue: boolean;
    }[];
  }[];
}
interface AgingAnswer {
  buckets: ('current' | 'days_1_30' | 'days_31_60' | 'days_61_90' | 'days_over_90')[];
  customers: { invoices: number }[];
  totals: ({ currency: string; total: Money } & Record<AgingAnswer['buckets'][number], Money>)[];
}

/** The SQL statements (with their parameters) the pool runs while `during` does, API key lookups aside. */
async function queriesOf(pool: pg.Pool, during: () => Promise<unknown>) {
  const seen: { text: string; values: unknown }[] = [];
  const original = pool.query;
  const spy = (...args: unknown[]) => {
    const [config, values] = args as [string | { text: string; values?: unknown[] }, unknown[] | undefined];
    const text = typeof config === 'string' ? config : config.text;
    if (!/api_keys/.test(text))
      seen.push({ text, values: values ?? (typeof config === 'string' ? [] : config.values) });
    return (original as (...a: unknown[]) => unknown).apply(pool, args);
  };
  pool.query = spy as typeof pool.query;
  try {
    await during();
  } finally {
    pool.query = original;
  }
  return seen;
}

/**
 * The tenant's book, written as the app would have left it: every figure is a deterministic hash of
 * the deal and milestone number, so each run seeds the same portfolio (relative to `asOf`).
 */
async function seed(pool: pg.Pool, tenantId: string, asOf: string) {
  /** A non-negative pseudo-random bigint from a text expression. */
  const h = (expr: string) => `(hashtext(${expr})::bigint + 2147483648)`;
  const client = await pool.connect();
  try {
    await client.query('begin');
    await client.query("select set_config('bench.tenant', $1, true), set_config('bench.as_of', $2, true)", [
      tenantId,
      asOf,
    ]);
    const tenant = "current_setting('bench.tenant')";
    const day = "current_setting('bench.as_of')::date";
    const customerName = `(array['Acme','Globex','Initech','Umbrella','Stark','Wayne','Wonka','Hooli','Vandelay','Soylent'])[1 + cust % 10]
      || ' ' || (array['Industries','Labs','Group','Holdings','Partners','Systems','Logistics','Foods','Energy','Media',
                       'Health','Retail','Studios','Capital','Robotics','Analytics','Builders','Travel','Telecom','Farms'])[1 + (cust / 10) % 20]`;

    // Deals: ~200 QuickBooks customers (a fifth of them billed in EUR), 8 owners, 3 pipelines, 6 terms;
    // k of the 5 milestones earned (0: 30 %, 1: 20 %, 2: 20 %, 3: 15 %, 4: 10 %, 5: 5 %).
    await client.query(`
      create temp table bench_deal on commit drop as
      select g, cust, case when cust % 5 = 0 then 'EUR' else 'USD' end as currency, ${customerName} as customer_name,
             ${h("'t' || g")} % 6 as terms_idx,
             (50 + ${h("'v' || g")} % 950) * 10000 as contract_value,
             ${h("'o' || g")} % 8 as owner_idx,
             ${h("'p' || g")} % 10 as pipeline_idx,
             (case when kr < 30 then 0 when kr < 50 then 1 when kr < 70 then 2 when kr < 85 then 3 when kr < 95 then 4 else 5 end)::int as k
        from (select g, 1 + ${h("'c' || g")} % 200 as cust, ${h("'k' || g")} % 100 as kr
                from generate_series(1, ${DEALS}) g) d`);
    await client.query(`
      insert into schedules (id, tenant_id, deal_id, deal_name, currency, contract_value, payment_terms, owner_id, pipeline_id)
      select 'sch_bench_' || g, ${tenant}, (9000000000 + g)::text, customer_name || ' – project ' || g, currency, contract_value,
             (array['"net_30"','"net_30"','"net_15"','"net_60"','"due_on_receipt"','{"customDays": 45}'])[1 + terms_idx]::jsonb,
             (81000001 + owner_idx)::text,
             (array['default','default','default','default','default','7654321','7654321','7654321','7654322','7654322'])[1 + pipeline_idx]
        from bench_deal`);

    // Milestones: the first k earned (the older ones mostly paid, the latest mostly invoiced or just
    // accepted; some refused by QuickBooks), the rest planned over the next 30 weeks (the next one
    // often overdue), a few disputed or cancelled. 10 % with their own terms (net 15).
    await client.query(`
      create temp table bench_ms on commit drop as
      select x.*,
             case
               when recency = 0 then case when r < 12 then 'accepted' when r < 14 then 'invoicing' when r < 19 then 'invoice_failed'
                                          when r < 65 then 'invoiced' when r < 80 then 'partially_paid' else 'paid' end
               when recency > 0 then case when r < 3 then 'invoice_failed' when r < 15 then 'invoiced'
                                          when r < 25 then 'partially_paid' else 'paid' end
               when r < 4 then 'cancelled'
               when p = k and r < 12 then 'disputed'
               else 'planned'
             end as status,
             case
               when recency is not null then accepted_on - (hd % 10)::int
               when p = k then ${day} - 45 + (hd % 120)::int
               else ${day} + (p - k) * 35 + (hd % 60)::int
             end as planned_date,
             accepted_on + term_days as due_date
        from (
          select d.g, p, d.k, d.cust, d.currency, d.customer_name,
                 d.contract_value * (array[10, 20, 30, 20, 20])[1 + p] / 100 as amount,
                 ${h("'r' || d.g || ':' || p")} % 100 as r,
                 ${h("'d' || d.g || ':' || p")} as hd,
                 case when p < d.k then d.k - 1 - p end as recency,
                 case when p < d.k then ${day} - least(150, (d.k - 1 - p) * 30 + (${h("'a' || d.g || ':' || p")} % 60)::int) end as accepted_on,
                 case when ${h("'m' || d.g || ':' || p")} % 10 = 0 then 15
                      else (array[30, 30, 15, 60, 0, 45])[1 + d.terms_idx] end as term_days,
                 case when ${h("'m' || d.g || ':' || p")} % 10 = 0 then '"net_15"'::jsonb end as own_terms
            from bench_deal d cross join generate_series(0, ${PER_DEAL - 1}) p
        ) x`);
    await client.query(`
      insert into milestones (id, tenant_id, schedule_id, position, key, name, deliverable, acceptance_criteria,
                              amount, planned_date, payment_terms, status, needs_attention, attention_reason)
      select 'ms_bench_' || g || '_' || p, ${tenant}, 'sch_bench_' || g, p, 'm' || (p + 1),
             (array['Kick-off','Design sign-off','Build complete','User acceptance','Go-live'])[1 + p],
             (array['Kick-off','Design sign-off','Build complete','User acceptance','Go-live'])[1 + p] || ': deliverables as listed in the SOW',
             'Signed off by the client''s project lead', amount, planned_date, own_terms, status,
             hd % 250 = 1, case when hd % 250 = 1 then 'QuickBooks reports the customer as inactive' end
        from bench_ms`);
    await client.query(`
      insert into acceptances (id, tenant_id, milestone_id, source, source_event_id, amount, accepted_at, accepted_by)
      select 'acc_bench_' || g || '_' || p, ${tenant}, 'ms_bench_' || g || '_' || p, 'webhook', 'evt_bench_' || g || '_' || p,
             amount, (accepted_on + time '10:30')::timestamptz, '{"name": "Dana Client", "email": "dana@example.com"}'::jsonb
        from bench_ms where recency is not null and status <> 'cancelled'`);

    // The push ledger: created invoices (what was paid, QuickBooks' balance, a few not yet reconciled),
    // refusals, and the latest acceptances still pending or being sent.
    await client.query(`
      insert into invoice_pushes (id, tenant_id, milestone_id, acceptance_id, doc_number, status, attempts, tries,
                                  amount, currency, invoice_date, due_date, qbo_invoice_id, qbo_customer_id, customer_name,
                                  error_code, error_message, written_back_at, qbo_total, qbo_balance, paid_amount, reconciled_at)
      select 'push_bench_' || g || '_' || p, ${tenant}, 'ms_bench_' || g || '_' || p, 'acc_bench_' || g || '_' || p,
             'B-' || (100000 + n), push_status, case when push_status = 'pending' then 0 else 1 end,
             case when push_status = 'pending' then 0 else 1 end,
             amount, currency, accepted_on, due_date,
             case when push_status = 'created' then (5000 + n)::text end,
             case when push_status in ('created', 'failed') then (100 + cust)::text end,
             case when push_status in ('created', 'failed') then customer_name end,
             case when push_status = 'failed' then '6000' end,
             case when push_status = 'failed' then 'A business validation error has occurred while processing your request' end,
             case when push_status = 'created' then now() end,
             case when push_status = 'created' then amount end,
             case when push_status = 'created' and hd % 20 <> 3 then amount - paid end,
             paid,
             case when push_status = 'created' and hd % 20 <> 3 then now() end
        from (select *, row_number() over (order by g, p) as n,
                     case status when 'accepted' then 'pending' when 'invoicing' then 'sending'
                                 when 'invoice_failed' then 'failed' else 'created' end as push_status,
                     case status when 'paid' then amount
                                 when 'partially_paid' then amount * (20 + hd % 60) / 100 else 0 end as paid
                from bench_ms where recency is not null) x`);
    // What QuickBooks' payments applied to them, and when (around the due date, never in the future).
    await client.query(`
      insert into qbo_payment_links (tenant_id, payment_id, qbo_invoice_id, amount, received_on)
      select tenant_id, (700000 + row_number() over (order by id))::text, qbo_invoice_id, paid_amount,
             least(${day} - 1, greatest(invoice_date, due_date - 10 + (${h("'pay' || id")} % 25)::int))
        from invoice_pushes where tenant_id = ${tenant} and status = 'created' and paid_amount > 0`);
    await client.query('commit');
  } catch (error) {
    await client.query('rollback').catch(() => {});
    throw error;
  } finally {
    client.release();
  }
  await pool.query('vacuum (analyze) schedules, milestones, acceptances, invoice_pushes, qbo_payment_links');
}
