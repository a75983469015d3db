import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort } from '../support/net.ts';
import { alive, commandOf, descendantsOf } from '../support/process-tree.ts';
import { spawnTracked } from '../support/processes.ts';

const root = join(import.meta.dirname, '../..');
const started: ChildProcess[] = [];
const dirs: string[] = [];
afterEach(() => {
  // Whatever a failed test left: the npm process and everything below it.
  for (const child of started.splice(0)) {
    if (!child.pid) continue;
    for (const pid of [child.pid, ...descendantsOf(child.pid)]) if (alive(pid)) process.kill(pid, 'SIGKILL');
  }
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** `npm run <script>` as a shell would start it: the pid we hold is npm's, as `$!` would be. */
function npmRun(script: string, env: Record<string, string>) {
  const dataDir = mkdtempSync(join(tmpdir(), `mb-${script}-`));
  dirs.push(dataDir);
  const child = spawnTracked('npm', ['run', script], {
    cwd: root,
    env: { PATH: process.env.PATH!, HOME: process.env.HOME ?? '/root', DATA_DIR: dataDir, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  started.push(child);
  let output = '';
  child.stdout!.on('data', (d) => (output += d));
  child.stderr!.on('data', (d) => (output += d));
  return { child, output: () => output };
}

async function until(
  what: string,
  ok: () => boolean | Promise<boolean>,
  timeoutMs: number,
  log: () => string,
) {
  const deadline = Date.now() + timeoutMs;
  while (!(await ok())) {
    if (Date.now() > deadline) throw new Error(`${what} within ${timeoutMs} ms; output:\n${log()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** SIGTERM to npm's pid alone; answers what was still running 30 s later (nothing, if all is well). */
async function terminate(run: ReturnType<typeof npmRun>) {
  const npm = run.child.pid!;
  const tree = [npm, ...descendantsOf(npm)];
  const commands = tree.map(commandOf);
  expect(tree.length, 'npm runs the app as its child').toBeGreaterThan(1);
  const stopped = Date.now();
  process.kill(npm, 'SIGTERM');
  await until('everything stopped', () => tree.every((pid) => !alive(pid)), 30_000, run.output).catch(
    () => {},
  );
  return {
    left: tree.filter(alive).map((pid) => `${pid} ${commandOf(pid)}`),
    tookMs: Date.now() - stopped,
    commands,
  };
}

const redis = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const prefix = () => `signals-${randomBytes(4).toString('hex')}`;

describe('SIGTERM to the pid of an npm script stops everything it started', () => {
  it('npm start: the web process (with its embedded worker) and nothing else', async () => {
    const port = await freePort();
    const run = npmRun('start', { PORT: String(port), REDIS_URL: redis, REDIS_PREFIX: prefix() });
    const healthy = () =>
      fetch(`http://127.0.0.1:${port}/readyz`).then(
        (r) => r.status === 200,
        () => false,
      );
    await until('ready', healthy, 30_000, run.output);
    // One node process under npm: no wrapper in between that a signal could miss (below it, at
    // most the esbuild service tsx transforms with, which ends with it).
    const [app, ...helpers] = descendantsOf(run.child.pid!).map(commandOf);
    expect(app).toMatch(/^node --import tsx src\/web\.ts$/);
    expect(helpers.filter((c) => !/esbuild --service/.test(c))).toEqual([]);
    const { left, tookMs } = await terminate(run);
    expect(left, run.output()).toEqual([]);
    expect(tookMs).toBeLessThan(30_000);
    expect(run.output()).toContain('"msg":"shutting down"');
  }, 60_000);

  it('npm run worker', async () => {
    const run = npmRun('worker', { REDIS_URL: redis, REDIS_PREFIX: prefix() });
    await until('worker started', () => run.output().includes('worker started'), 30_000, run.output);
    const { left } = await terminate(run);
    expect(left, run.output()).toEqual([]);
  }, 60_000);

  it('npm run demo, with the redis-server it started because none answered', async () => {
    const [port, hubspotPort, qboPort, redisPort] = await Promise.all([
      freePort(),
      freePort(),
      freePort(),
      freePort(),
    ]);
    const run = npmRun('demo', {
      PORT: String(port),
      HUBSPOT_SANDBOX_PORT: String(hubspotPort),
      QBO_SANDBOX_PORT: String(qboPort),
      REDIS_URL: `redis://127.0.0.1:${redisPort}`,
    });
    await until('the curl line', () => run.output().includes('openssl dgst'), 45_000, run.output);
    const { left, commands } = await terminate(run);
    expect(
      commands.some((c) => c.includes('redis-server')),
      'the demo started redis-server',
    ).toBe(true);
    expect(left, run.output()).toEqual([]);
  }, 90_000);
});
