import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../support/net.ts';
import { commandOf } from '../support/process-tree.ts';
import { exited, isRunning, killStarted, spawnTracked } from '../support/processes.ts';

const root = join(import.meta.dirname, '../..');
const run = promisify(execFile);

/** The Procfile's entries, as a platform reads them: `role: command`. */
const procfile = Object.fromEntries(
  readFileSync(join(root, 'Procfile'), 'utf8')
    .split('\n')
    .filter((line) => line.trim())
    .map((line) => {
      const at = line.indexOf(':');
      return [line.slice(0, at).trim(), line.slice(at + 1).trim()];
    }),
) as Record<string, string>;

const serverUrl = process.env.DATABASE_URL ?? process.env.MB_TEST_POSTGRES_URL!;
const dbName = `mb_procfile_${randomBytes(6).toString('hex')}`;
const databaseUrl = Object.assign(new URL(serverUrl), { pathname: `/${dbName}` }).toString();
let dataDir: string;

async function admin(url: string, statement: string) {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await client.query(statement);
  } finally {
    await client.end();
  }
}

beforeAll(async () => {
  // What a platform's build step runs (Heroku's Node buildpack runs `npm run build` by itself).
  await run('npm', ['run', 'build'], { cwd: root });
  await admin(serverUrl, `CREATE DATABASE ${dbName}`);
  dataDir = mkdtempSync(join(tmpdir(), 'mb-procfile-'));
}, 120_000);
afterAll(async () => {
  await killStarted();
  await admin(serverUrl, `DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
  rmSync(dataDir, { recursive: true, force: true });
});

/** A Procfile entry as the platform starts it: its command, no shell, in the app's folder. */
function start(role: string, env: Record<string, string>) {
  const [command, ...args] = procfile[role]!.split(/\s+/);
  const child = spawnTracked(command!, args, {
    cwd: root,
    env: {
      PATH: process.env.PATH!,
      DATA_DIR: dataDir,
      DATABASE_URL: databaseUrl,
      REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
      REDIS_PREFIX: `procfile-${randomBytes(4).toString('hex')}`,
      ...env,
    },
  });
  let output = '';
  child.stdout!.on('data', (d) => (output += d));
  child.stderr!.on('data', (d) => (output += d));
  return { child, output: () => output };
}

/** Its readiness once it says ready, or what it last said after 30 s (a process still connecting answers 503). */
async function readiness(url: string) {
  let last: { status: number; body: unknown } | undefined;
  for (let i = 0; i < 150 && last?.status !== 200; i++) {
    if (i) await new Promise((r) => setTimeout(r, 200));
    const res = await fetch(url).catch(() => undefined);
    if (res) last = { status: res.status, body: await res.json() };
  }
  return last;
}

describe('the Procfile, on the built app', () => {
  it('runs release, web and worker as plain node processes that migrate, serve, work and stop on SIGTERM', async () => {
    expect(Object.keys(procfile).sort()).toEqual(['release', 'web', 'worker']);

    const release = start('release', {});
    expect(await exited(release.child), release.output()).toBe(0);
    const tables = await admin(
      databaseUrl,
      "SELECT count(*)::int AS n FROM information_schema.tables WHERE table_name IN ('tenants', 'invoice_pushes', 'inbox')",
    );
    expect(tables.rows[0].n, 'release created the schema').toBe(3);

    const [webPort, workerPort] = [await freePort(), await freePort()];
    const web = start('web', { PORT: String(webPort) });
    const worker = start('worker', { WORKER_HEALTH_PORT: String(workerPort) });
    const [webReady, workerReady] = await Promise.all([
      readiness(`http://127.0.0.1:${webPort}/readyz`),
      readiness(`http://127.0.0.1:${workerPort}/readyz`),
    ]);
    expect(webReady, web.output()).toMatchObject({ status: 200, body: { status: 'ready' } });
    expect(workerReady, worker.output()).toMatchObject({ status: 200, body: { status: 'ready' } });
    expect(web.output()).toContain('"worker":false');
    for (const p of [web, worker]) {
      // Compiled JavaScript on node itself: no TypeScript loader in the process (its memory is the app's).
      expect(commandOf(p.child.pid!)).toMatch(/^node \.build\/(web|worker)\.js$/);
      p.child.kill('SIGTERM');
      expect(await exited(p.child), p.output()).toBe(0);
      expect(isRunning(p.child.pid!)).toBe(false);
    }
  }, 120_000);
});
