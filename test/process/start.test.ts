import { type ChildProcess, execFile } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import { lstatSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signAcceptance } from '../../src/acceptance/signature.ts';
import { connectQuickBooks, installHubSpot } from '../demo/oauth.ts';
import { type HubSpotSandbox, startHubSpotSandbox } from '../sandboxes/hubspot/index.ts';
import { type QuickBooksSandbox, startQuickBooksSandbox } from '../sandboxes/quickbooks/index.ts';
import { eventually, freePort } from '../support/net.ts';
import { alive, descendantsOf } from '../support/process-tree.ts';
import { SPAWN_MARKER, spawnTracked } from '../support/processes.ts';
import { sandboxEnv } from '../support/sandbox-env.ts';

const root = join(import.meta.dirname, '../..');
const run = promisify(execFile);
const PORTAL = 20_000_000 + randomInt(1_000_000);
const REALM = String(9_300_000_000_000 + randomInt(1_000_000_000));

let hs: HubSpotSandbox;
let qbo: QuickBooksSandbox;
let dataDir: string;
let env: NodeJS.ProcessEnv;
const children: ChildProcess[] = [];

beforeAll(async () => {
  hs = await startHubSpotSandbox();
  hs.addPortal(PORTAL, { hubDomain: 'start-test.hubspot-sandbox.test' });
  hs.seedRealistic(PORTAL);
  qbo = await startQuickBooksSandbox();
  qbo.addRealm(REALM, {
    companyName: 'Start Books',
    country: 'US',
    homeCurrency: 'USD',
    multiCurrency: true,
  });
  dataDir = mkdtempSync(join(tmpdir(), 'mb-start-'));
  // Only where the platforms are: no DATABASE_URL, no worker, nothing else.
  env = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    // The CLI runs through execFile: marked too, so the run's leak check would see it.
    [SPAWN_MARKER]: process.env.MB_TEST_RUN,
    // A folder the app makes itself (the parent is the test's).
    DATA_DIR: join(dataDir, 'data'),
    REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
    REDIS_PREFIX: `start-${randomBytes(4).toString('hex')}`,
    LOG_LEVEL: 'warn',
    ...sandboxEnv(hs, qbo),
  };
});
afterAll(async () => {
  for (const child of children)
    for (const pid of [child.pid!, ...descendantsOf(child.pid!)])
      if (alive(pid)) process.kill(pid, 'SIGKILL');
  await Promise.all([hs?.close(), qbo?.close()]);
  rmSync(dataDir, { recursive: true, force: true });
});

const cli = async (...args: string[]) =>
  (await run('npm', ['run', '--silent', 'cli', '--', ...args], { cwd: root, env })).stdout.trim();

function npmStart(port: number, extra: NodeJS.ProcessEnv = {}) {
  const child = spawnTracked('npm', ['start'], { cwd: root, env: { ...env, PORT: String(port), ...extra } });
  children.push(child);
  let output = '';
  child.stdout!.on('data', (d) => (output += d));
  child.stderr!.on('data', (d) => (output += d));
  const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
  return { child, exited, output: () => output };
}

describe('npm start on the embedded default', () => {
  it('alone turns a signed acceptance into a QuickBooks invoice; a second one on the port exits naming it', async () => {
    // The README's walk-through: the operator CLI first (PGlite belongs to one process at a time).
    await cli('tenant', 'create', '--portal', String(PORTAL), '--name', 'Start Agency');
    const key = (await cli('api-key', 'create', '--portal', String(PORTAL))).split('\n').at(-1)!;
    const secret = await cli('secret', 'show', '--portal', String(PORTAL));

    const port = await freePort();
    const appUrl = `http://127.0.0.1:${port}`;
    env.PUBLIC_URL = appUrl;
    const web = npmStart(port);
    await eventually(
      () =>
        fetch(`${appUrl}/readyz`).then(
          (r) => r.status,
          () => 0,
        ),
      (status) => status === 200,
      30_000,
    ).catch((error: Error) => {
      throw new Error(`${error.message}\n${web.output()}`);
    });

    const second = npmStart(port, { DATA_DIR: mkdtempSync(join(tmpdir(), 'mb-start-2-')) });
    expect(await second.exited).not.toBe(0);
    expect(second.output()).toContain(`port ${port} is in use`);

    const cookie = await installHubSpot(appUrl);
    expect(await connectQuickBooks(appUrl, cookie)).toBe(REALM);
    const deal = hs.listDeals(PORTAL).find((d) => d.properties.deal_currency_code === 'USD')!;
    const applied = await fetch(`${appUrl}/api/v1/deals/${deal.id}/schedule/template`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ template: 'software', startDate: '2026-12-01' }),
    });
    expect(applied.status, await applied.clone().text()).toBe(201);

    const body = JSON.stringify({
      id: 'acc-start-1',
      portalId: String(PORTAL),
      dealId: deal.id,
      milestone: { key: 'discovery' },
      acceptedAt: new Date().toISOString(),
      acceptedBy: { name: 'Dana Client', email: 'dana@client.example' },
    });
    const accepted = await fetch(`${appUrl}/webhooks/acceptance`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-acceptance-signature': signAcceptance(secret, body) },
      body,
    });
    expect(accepted.status, await accepted.clone().text()).toBe(200);
    const invoices = await eventually(
      async () => qbo.invoices(REALM) as { DocNumber: string }[],
      (list) => list.length > 0,
      20_000,
    );
    expect(invoices.map((i) => i.DocNumber)).toEqual(['MB-1001']);

    web.child.kill('SIGTERM');
    expect(await web.exited).toBe(0);

    // The data folder the app made holds tenants' data and keys: its user's alone.
    const loose: string[] = [];
    const walk = (path: string) => {
      const stat = lstatSync(path);
      if (stat.mode & 0o077) loose.push(`${path.slice(dataDir.length)} ${(stat.mode & 0o777).toString(8)}`);
      if (stat.isDirectory()) for (const entry of readdirSync(path)) walk(join(path, entry));
    };
    walk(env.DATA_DIR!);
    expect(readdirSync(join(env.DATA_DIR!, 'pglite')).length).toBeGreaterThan(10);
    expect(loose).toEqual([]);
  }, 90_000);
});
