/**
 * `npm run demo`: the whole product on one machine with no configuration.
 *
 * Starts the HubSpot sandbox (portal 24681357, seeded) and the QuickBooks sandbox (a US company,
 * home USD, multicurrency on), makes sure Redis answers (starting `redis-server` when nothing
 * listens), runs the app — web and worker in this one process — on embedded PGlite in DATA_DIR,
 * installs it into HubSpot and connects QuickBooks through the real OAuth redirect flows, applies
 * the software template to the EUR deal "O'Brien & Sons – Office Fit-out", seeds a portfolio
 * (portfolio.ts: schedules on five more deals in USD and EUR with two owners, invoices in QuickBooks
 * paid, partly paid, overdue and one refused, a forecast with a cluster and gaps), and prints a
 * curl line that accepts the first milestone through the signed acceptance webhook and a sign-in
 * link to the portfolio pages (single use, one hour).
 *
 * Env (all optional): PORT (3000), HUBSPOT_SANDBOX_PORT (4010), QBO_SANDBOX_PORT (4020),
 * REDIS_URL (redis://127.0.0.1:6379), DATA_DIR (./.data/demo), QBO_SANDBOX_REALM_ID,
 * REDIS_PREFIX (demo), LOG_LEVEL (warn), PUBLIC_URL, ENCRYPTION_KEY.
 * DATABASE_URL is ignored: the demo's data always lives in DATA_DIR.
 */
import type { ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import { join } from 'node:path';
import { and, eq, inArray } from 'drizzle-orm';
import { formatAmount } from '../../src/domain/money.ts';
import { createApp } from '../../src/http/app.ts';
import { startWorker } from '../../src/jobs/worker.ts';
import { loadConfig, type Runtime, startRuntime } from '../../src/runtime.ts';
import { invoicePushes, milestones } from '../../src/store/schema.ts';
import { acceptanceSecret, createApiKey, findTenantByPortal } from '../../src/tenants/repository.ts';
import { mintSignInLink } from '../../src/tenants/sign-in-links.ts';
import { type HubSpotSandbox, startHubSpotSandbox } from '../sandboxes/hubspot/index.ts';
import { type QuickBooksSandbox, startQuickBooksSandbox } from '../sandboxes/quickbooks/index.ts';
import { QBO_VERIFIER, sandboxEnv } from '../support/sandbox-env.ts';
import { connectQuickBooks, installHubSpot } from './oauth.ts';
import { type Seeded, seedHubSpotPortfolio, seedPortfolio } from './portfolio.ts';
import { ensureRedis } from './redis.ts';

const PORTAL_ID = 24681357;
const DEAL_PREFIX = "O'Brien & Sons";
/** The HubSpot user who installs the app (and owns the seeded deals but three). */
const ADMIN = { userId: 45_678_357, email: 'admin@obrien-demo.hubspot-sandbox.test' };
const LINK_TTL_MS = 60 * 60_000;

const env = process.env;
const settings = {
  port: Number(env.PORT || 3000),
  hubspotPort: Number(env.HUBSPOT_SANDBOX_PORT || 4010),
  qboPort: Number(env.QBO_SANDBOX_PORT || 4020),
  redisUrl: env.REDIS_URL || 'redis://127.0.0.1:6379',
  dataDir: env.DATA_DIR || './.data/demo',
  realmId: env.QBO_SANDBOX_REALM_ID || '9341453050071616',
  redisPrefix: env.REDIS_PREFIX || 'demo',
  logLevel: env.LOG_LEVEL || 'warn',
};

const say = (line = '') => console.log(line);
const bold = (s: string) => (process.stdout.isTTY ? `\x1b[1m${s}\x1b[0m` : s);
const green = (s: string) => (process.stdout.isTTY ? `\x1b[32m${s}\x1b[0m` : s);
const red = (s: string) => (process.stdout.isTTY ? `\x1b[31m${s}\x1b[0m` : s);

let hs: HubSpotSandbox | undefined;
let qbo: QuickBooksSandbox | undefined;
let redisChild: ChildProcess | undefined;
let runtime: Runtime | undefined;
let server: Server | undefined;
const timers: NodeJS.Timeout[] = [];
let stopSweeping = () => {};
let stopping = false;

async function stop(code: number): Promise<never> {
  if (!stopping) {
    stopping = true;
    setTimeout(() => process.exit(code || 1), 15_000).unref();
    for (const t of timers) clearInterval(t);
    stopSweeping();
    if (server) {
      const closed = new Promise((r) => server!.close(r));
      server.closeAllConnections();
      await closed;
    }
    // Bull's close waits for the jobs in flight, so an invoice being pushed finishes first.
    await runtime?.close().catch(() => {});
    await Promise.allSettled([hs?.close(), qbo?.close()]);
    if (redisChild && redisChild.exitCode === null) {
      const exited = new Promise((r) => redisChild!.once('exit', r));
      redisChild.kill('SIGTERM');
      await exited;
    }
  }
  process.exit(code);
}

/**
 * The sandboxes keep nothing between runs, so the app's database must not either: invoices of an
 * earlier run would meet a QuickBooks company that never made them (and reuses their ids). The
 * encryption key stays. A demo still running on this DATA_DIR is left alone.
 */
function startAfresh(dataDir: string) {
  const pid = Number(
    existsSync(join(dataDir, 'pglite.pid')) ? readFileSync(join(dataDir, 'pglite.pid'), 'utf8') : 0,
  );
  const alive =
    pid > 0 &&
    pid !== process.pid &&
    (() => {
      try {
        return process.kill(pid, 0);
      } catch {
        return false;
      }
    })();
  if (alive) throw new Error(`a demo (process ${pid}) is using ${dataDir}; stop it first or set DATA_DIR`);
  rmSync(join(dataDir, 'pglite'), { recursive: true, force: true });
}

/** Sandboxes and the app listen on fixed ports; a taken one gets a message naming its variable. */
async function listening<T>(what: string, variable: string, port: number, start: () => Promise<T>) {
  try {
    return await start();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE')
      throw new Error(`${what}: port ${port} is in use; set ${variable} to another port`);
    throw error;
  }
}

function listen(app: ReturnType<typeof createApp>, port: number): Promise<Server> {
  return new Promise((resolve, reject) => {
    const s = app.listen(port);
    s.once('listening', () => resolve(s));
    s.once('error', reject);
  });
}

async function main() {
  // The signal often comes twice (to the process group, and forwarded by npm): the second must not
  // kill the demo mid-stop, as the default action of an unhandled signal would.
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      if (stopping) return;
      say(`\n${signal}: stopping the app, the sandboxes${redisChild ? ' and redis-server' : ''}…`);
      void stop(0);
    });
  }
  process.once('exit', () => {
    if (redisChild && redisChild.exitCode === null) redisChild.kill('SIGKILL');
  });

  say(bold('Milestone billing demo: starting…'));
  hs = await listening('HubSpot sandbox', 'HUBSPOT_SANDBOX_PORT', settings.hubspotPort, () =>
    startHubSpotSandbox({ port: settings.hubspotPort }),
  );
  // The first portal added is the one the sandbox's authorize page installs into.
  hs.addPortal(PORTAL_ID, {
    hubDomain: 'obrien-demo.hubspot-sandbox.test',
    userId: ADMIN.userId,
    userEmail: ADMIN.email,
  });
  hs.seedRealistic(PORTAL_ID);
  await seedHubSpotPortfolio(hs, PORTAL_ID);
  const deal = hs.listDeals(PORTAL_ID).find((d) => d.properties.dealname?.startsWith(DEAL_PREFIX));
  if (!deal) throw new Error(`the HubSpot sandbox has no deal named ${DEAL_PREFIX}…`);

  qbo = await listening('QuickBooks sandbox', 'QBO_SANDBOX_PORT', settings.qboPort, () =>
    startQuickBooksSandbox({ port: settings.qboPort }),
  );
  qbo.addRealm(settings.realmId, {
    companyName: 'Sandbox Company US',
    country: 'US',
    homeCurrency: 'USD',
    multiCurrency: true,
  });

  redisChild = (await ensureRedis(settings.redisUrl, say)).child;

  const appEnv: NodeJS.ProcessEnv = {
    ...env,
    NODE_ENV: 'development',
    PORT: String(settings.port),
    DATA_DIR: settings.dataDir,
    REDIS_URL: settings.redisUrl,
    REDIS_PREFIX: settings.redisPrefix,
    LOG_LEVEL: settings.logLevel,
    ...sandboxEnv(hs, qbo),
  };
  delete appEnv.DATABASE_URL;
  startAfresh(settings.dataDir);
  const rt = await startRuntime(loadConfig(appEnv));
  runtime = rt;
  const { db } = rt.database;
  const appUrl = rt.config.publicUrl;
  server = await listening('The app', 'PORT', settings.port, () => listen(createApp(rt), settings.port));
  stopSweeping = startWorker(rt).stopSweeping;
  // Payments a bookkeeper enters in QuickBooks reach the app as Intuit's webhooks.
  qbo.configureWebhooks({
    url: `${appUrl}/webhooks/quickbooks`,
    verifierToken: QBO_VERIFIER,
    format: 'cloudevents',
  });

  // The admin's clicks: install into HubSpot, then connect QuickBooks with the session it started.
  const cookie = await installHubSpot(appUrl);
  const realmId = await connectQuickBooks(appUrl, cookie);
  const tenant = await findTenantByPortal(db, String(PORTAL_ID));
  if (!tenant) throw new Error('the HubSpot install created no tenant');

  await rt.redis.del(`qbo:refs:${realmId}`, `qbo:pause:${realmId}`);

  const { key } = await createApiKey(db, tenant.id, 'demo');
  const api = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${appUrl}/api/v1${path}`, {
      method,
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };
  const applied = await api('POST', `/deals/${deal.id}/schedule/template`, { template: 'software' });
  const schedule = applied.status === 201 ? applied : await api('GET', `/deals/${deal.id}/schedule`);
  if (schedule.status !== 200 && schedule.status !== 201)
    throw new Error(`applying the software template failed: ${JSON.stringify(applied.body)}`);
  const view = schedule.body as unknown as ScheduleView;
  const next =
    view.milestones.find((m) => m.key === 'discovery' && m.status === 'planned') ??
    view.milestones.find((m) => m.status === 'planned');

  const secret = acceptanceSecret(rt.encryptionKey, tenant);
  say('Seeding the portfolio: schedules, acceptances, invoices in QuickBooks and payments…');
  const seeded = await seedPortfolio({
    appUrl,
    hs,
    qbo,
    rt,
    tenant,
    portalId: PORTAL_ID,
    realmId,
    admin: ADMIN,
    secret,
    api,
  });
  const link = await mintSignInLink(
    db,
    { tenantId: tenant.id, purpose: 'portfolio', actor: 'demo', userEmail: ADMIN.email },
    { ttlMs: LINK_TTL_MS },
  );

  const money = (m: { amount: string; currency: string }) => `${m.currency} ${grouped(m.amount)}`;
  const pad = (s: string) => s.padEnd(22);
  say();
  say(`${bold('Milestone billing demo is running')}   (Ctrl-C stops everything)`);
  say();
  say(`  ${pad('App')}${appUrl}   (web + worker, PGlite in ${rt.config.dataDir})`);
  say(`  ${pad('QuickBooks invoices')}${qbo.url}/   (sandbox company ${realmId}; the page refreshes itself)`);
  say(`  ${pad('HubSpot sandbox')}${hs.url}   (portal ${PORTAL_ID}, API only)`);
  say(`  ${pad('API key')}${key}`);
  say(
    `  ${pad('Deal')}${view.dealName ?? deal.properties.dealname} (${deal.id}): software template, contract ${money(view.contractValue)} from HubSpot`,
  );
  for (const m of view.milestones)
    say(`  ${pad('')}${m.position + 1}. ${m.name.padEnd(10)} ${money(m.amount).padStart(14)}   ${m.status}`);
  say();

  if (next) {
    const body = JSON.stringify({
      id: `acc_demo_${Date.now().toString(36)}`,
      portalId: String(PORTAL_ID),
      dealId: deal.id,
      milestone: { key: next.key },
      acceptedAt: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
      acceptedBy: { name: 'Dana Client', email: 'dana@client.example' },
      evidence: [{ name: 'Sign-off.pdf', url: 'https://files.client.example/sign-off.pdf' }],
      note: 'Approved in the review call',
    });
    say(
      bold(
        `Accept the ${next.name} milestone (${money(next.amount)}) through the signed acceptance webhook:`,
      ),
    );
    say();
    say(acceptCurl(`${appUrl}/webhooks/acceptance`, body, secret));
    say();
    say(`The invoice appears on ${qbo.url}/ within a second or two; this window reports it too.`);
  } else {
    say(`Every milestone of this deal is already accepted; delete ${rt.config.dataDir} to start afresh.`);
  }
  say();
  say(`Look around:  curl -s -H 'Authorization: Bearer ${key}' ${appUrl}/api/v1/deals/${deal.id}/schedule`);
  say(
    `              curl -s -H 'Authorization: Bearer ${key}' ${appUrl}/api/v1/deals/${deal.id}/card   # what the HubSpot card shows`,
  );
  const token = hs.issueTokens(PORTAL_ID).accessToken;
  say(
    `              curl -s -H 'Authorization: Bearer ${token}' '${hs.url}/crm/objects/2026-03/0-3/${deal.id}?properties=dealname,mb_invoiced_to_date,mb_outstanding'`,
  );
  say();
  printPortfolio(seeded, `${appUrl}/app/sign-in?link=${link.token}`, {
    forecast: `curl -s -H 'Authorization: Bearer ${key}' ${appUrl}/api/v1/portfolio/forecast`,
    dataDir: rt.config.dataDir,
  });

  timers.push(watchPushes(rt, tenant.id, await pushStates(rt, tenant.id)));
}

function printPortfolio(seeded: Seeded, link: string, more: { forecast: string; dataDir: string }) {
  const { refused } = seeded;
  say(
    bold('The portfolio, as a bookkeeper sees it (this link signs one browser in; valid once, for an hour):'),
  );
  say();
  say(`  ${link}`);
  say();
  // The O'Brien Office Fit-out above has a schedule too.
  say(
    `  ${seeded.deals + 1} deals with schedules, ${seeded.customers} customers in USD and EUR, two owners; ${seeded.invoices} invoices in QuickBooks:`,
  );
  say(`  ${seeded.paid} paid, ${seeded.partiallyPaid} partly paid, ${seeded.overdue} overdue.`);
  for (const c of seeded.clusters)
    say(
      `  Forecast: ${c.currency} ${grouped(c.amount)} expected in the week of ${c.week} (median week ${c.currency} ${grouped(c.median)}); empty weeks around it.`,
    );
  if (refused)
    say(
      `  QuickBooks refused ${refused.docNumber} (${refused.milestone}): ${refused.reason}\n  The income item setting is right again: press Retry on the portfolio page to send it.`,
    );
  say(`  Forecast as JSON:  ${more.forecast}`);
  say();
}

interface ScheduleView {
  dealName: string | null;
  contractValue: { amount: string; currency: string };
  milestones: Array<{
    key: string;
    name: string;
    position: number;
    status: string;
    amount: { amount: string; currency: string };
  }>;
}

/**
 * A shell line that signs the body with the tenant's secret at the moment it runs, so it stays
 * valid however long after the demo printed it (signatures are accepted for 5 minutes).
 */
function acceptCurl(url: string, body: string, secret: string): string {
  const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
  return [
    `B=${quote(body)}`,
    'T=$(($(date +%s)*1000))',
    `S=$(printf '%s' "$T.$B" | openssl dgst -sha256 -hmac ${quote(secret)} | awk '{print $NF}')`,
    `curl -sS -X POST ${quote(url)} -H 'Content-Type: application/json' -H "X-Acceptance-Signature: t=$T,v1=$S" --data-raw "$B"; echo`,
  ].join('; ');
}

/** "48000.00" → "48,000.00", for reading only. */
const grouped = (amount: string) => amount.replace(/^(-?\d+)/, (int) => int.replace(/\B(?=(\d{3})+$)/g, ','));

type PushState = Map<string, string>;

async function pushStates(rt: Runtime, tenantId: string): Promise<PushState> {
  const rows = await rt.database.db
    .select({ id: invoicePushes.id, status: invoicePushes.status })
    .from(invoicePushes)
    .where(eq(invoicePushes.tenantId, tenantId));
  return new Map(rows.map((r) => [r.id, r.status]));
}

/** Reports each push that reaches QuickBooks (or is refused) while the demo runs. */
function watchPushes(rt: Runtime, tenantId: string, seen: PushState): NodeJS.Timeout {
  let busy = false;
  return setInterval(() => {
    if (busy || stopping) return;
    busy = true;
    void (async () => {
      const now = await pushStates(rt, tenantId);
      const settled = [...now].filter(
        ([id, status]) => (status === 'created' || status === 'failed') && seen.get(id) !== status,
      );
      for (const [id, status] of now) seen.set(id, status);
      if (!settled.length) return;
      const rows = await rt.database.db
        .select({ push: invoicePushes, name: milestones.name })
        .from(invoicePushes)
        .innerJoin(milestones, eq(milestones.id, invoicePushes.milestoneId))
        .where(
          and(
            eq(invoicePushes.tenantId, tenantId),
            inArray(
              invoicePushes.id,
              settled.map(([id]) => id),
            ),
          ),
        );
      for (const { push, name } of rows) {
        const amount = `${push.currency} ${grouped(formatAmount(push.amount, push.currency))}`;
        say(
          push.status === 'created'
            ? green(
                `✓ ${name}: invoice ${push.docNumber} for ${amount} created in QuickBooks (invoice id ${push.qboInvoiceId})`,
              )
            : red(`✗ ${name}: QuickBooks refused invoice ${push.docNumber}: ${push.errorMessage}`),
        );
      }
    })()
      .catch((error: Error) => rt.logger.warn({ err: error.message }, 'demo watcher failed'))
      .finally(() => {
        busy = false;
      });
  }, 300);
}

main().catch((error: Error) => {
  console.error(red(`\nThe demo could not start: ${error.message}`));
  void stop(1);
});
