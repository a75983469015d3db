import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ENVIRONMENT_VARIABLES, parseConfig } from '../../src/config.ts';
import { JOBS } from '../../src/jobs/index.ts';
import { freePort } from '../support/net.ts';
import { killStarted, spawnNode } from '../support/processes.ts';

const root = join(import.meta.dirname, '../..');
afterEach(killStarted);

function run(script: string, env: Record<string, string>, cwd: string) {
  const child = spawnNode(join(root, script), [], { cwd, env: { PATH: process.env.PATH!, ...env } });
  let output = '';
  child.stdout!.on('data', (d) => (output += d));
  child.stderr!.on('data', (d) => (output += d));
  const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
  return { child, exited, output: () => output };
}

describe('the web process', () => {
  it('starts on embedded defaults, answers health and readiness, and stops on SIGTERM', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'mb-boot-'));
    const port = await freePort();
    const web = run(
      'src/web.ts',
      { PORT: String(port), ...(process.env.REDIS_URL ? { REDIS_URL: process.env.REDIS_URL } : {}) },
      cwd,
    );
    let health: Response | undefined;
    for (let i = 0; i < 150 && !health; i++) {
      health = await fetch(`http://127.0.0.1:${port}/healthz`).catch(() => undefined);
      if (!health) await new Promise((r) => setTimeout(r, 200));
    }
    expect(health?.status, web.output()).toBe(200);
    const ready = await fetch(`http://127.0.0.1:${port}/readyz`);
    expect(await ready.json()).toMatchObject({ status: 'ready' });
    expect(web.output()).toContain('generated a development key');
    web.child.kill('SIGTERM');
    expect(await web.exited).toBe(0);
    rmSync(cwd, { recursive: true, force: true });
  }, 60_000);

  it('refuses to start with a bad environment, listing every problem', async () => {
    const web = run(
      'src/web.ts',
      { PORT: 'eighty', REDIS_URL: 'localhost', ENCRYPTION_KEY: 'short' },
      tmpdir(),
    );
    expect(await web.exited).toBe(1);
    expect(web.output()).toContain('PORT:');
    expect(web.output()).toContain('REDIS_URL: must be a redis:// URL');
    expect(web.output()).toContain('ENCRYPTION_KEY: must be 32 bytes, base64-encoded');
    expect(web.output()).not.toContain('short');
  }, 30_000);
});

describe('the worker process', () => {
  it('starts on embedded defaults and drains on SIGTERM well within 25 s', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'mb-worker-'));
    const worker = run(
      'src/worker.ts',
      { ...(process.env.REDIS_URL ? { REDIS_URL: process.env.REDIS_URL } : {}) },
      cwd,
    );
    for (let i = 0; i < 150 && !worker.output().includes('worker started'); i++)
      await new Promise((r) => setTimeout(r, 100));
    // Every kind of job runs in the worker process.
    expect(worker.output()).toContain(`"jobs":${JSON.stringify(JOBS.map((j) => j.id))}`);
    expect(JOBS.map((j) => j.id)).toEqual(expect.arrayContaining(['invoice-push', 'quickbooks-changes']));
    const stopping = Date.now();
    worker.child.kill('SIGTERM');
    expect(await worker.exited, worker.output()).toBe(0);
    expect(Date.now() - stopping).toBeLessThan(25_000);
    rmSync(cwd, { recursive: true, force: true });
  }, 60_000);
});

describe("the worker's readiness", () => {
  it('answers on WORKER_HEALTH_PORT and names Redis as the cause when it cannot reach it', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'mb-worker-ready-'));
    const [port, deadRedis] = [await freePort(), await freePort()];
    const worker = run(
      'src/worker.ts',
      { WORKER_HEALTH_PORT: String(port), REDIS_URL: `redis://127.0.0.1:${deadRedis}` },
      cwd,
    );
    let ready: Response | undefined;
    for (let i = 0; i < 150 && !ready; i++) {
      ready = await fetch(`http://127.0.0.1:${port}/readyz`).catch(() => undefined);
      if (!ready) await new Promise((r) => setTimeout(r, 200));
    }
    expect(ready?.status, worker.output()).toBe(503);
    const body = (await ready!.json()) as { checks: { name: string; ok: boolean; error?: string }[] };
    expect(body.checks).toContainEqual({ name: 'database', ok: true });
    expect(body.checks.find((c) => c.name === 'redis')).toMatchObject({
      ok: false,
      error: expect.any(String),
    });
    worker.child.kill('SIGKILL');
    await worker.exited;
    rmSync(cwd, { recursive: true, force: true });
  }, 60_000);
});

describe('the operator CLI', () => {
  it('creates a tenant and an API key, shows the signing secret and an empty failure list', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'mb-cli-'));
    const cli = async (...args: string[]) => {
      const p = spawnNode(join(root, 'src/cli.ts'), args, {
        cwd,
        env: { PATH: process.env.PATH!, REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379' },
      });
      let out = '';
      p.stdout!.on('data', (d) => (out += d));
      p.stderr!.on('data', (d) => (out += d));
      const code = await new Promise((resolve) => p.on('exit', resolve));
      return { code, out };
    };
    expect((await cli('tenant', 'create', '--portal', '777', '--name', 'Acme')).out).toMatch(
      /created tenant ten_\S+ for portal 777/,
    );
    expect((await cli('api-key', 'create', '--portal', '777')).out).toMatch(/\nmbk_[\w-]{40,}/);
    expect((await cli('secret', 'show', '--portal', '777')).out).toMatch(/^whsec_[\w-]{40,}\s*$/m);
    expect((await cli('push', 'list-failed', '--portal', '777')).out).toContain('no failed pushes');
    const missing = await cli('schedule', 'show', '--portal', '777', '--deal', '1');
    expect(missing.code).toBe(1);
    expect(missing.out).toContain('deal 1 has no billing schedule');
    const unknown = await cli('tenant', 'create');
    expect(unknown.code).toBe(2);
    expect(unknown.out).toContain('--portal is required');
    rmSync(cwd, { recursive: true, force: true });
  }, 60_000);
});

describe('rotating ENCRYPTION_KEY', () => {
  it('reads secrets sealed by the previous key while it is listed, and rekey re-seals them under the new one', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'mb-rekey-'));
    const [oldKey, newKey] = [randomBytes(32).toString('base64'), randomBytes(32).toString('base64')];
    const cli = async (keys: Record<string, string>, ...args: string[]) => {
      const p = spawnNode(join(root, 'src/cli.ts'), args, {
        cwd,
        env: {
          PATH: process.env.PATH!,
          REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
          ...keys,
        },
      });
      let out = '';
      p.stdout!.on('data', (d) => (out += d));
      p.stderr!.on('data', (d) => (out += d));
      const code = await new Promise((resolve) => p.on('exit', resolve));
      return { code, out };
    };
    const before = { ENCRYPTION_KEY: oldKey };
    const during = { ENCRYPTION_KEY: newKey, ENCRYPTION_KEY_PREVIOUS: oldKey };
    const after = { ENCRYPTION_KEY: newKey };
    await cli(before, 'tenant', 'create', '--portal', '778');
    const secret = (await cli(before, 'secret', 'show', '--portal', '778')).out.trim();
    expect(secret).toMatch(/^whsec_/);
    // The new key alone cannot open what the old one sealed.
    expect((await cli(after, 'secret', 'show', '--portal', '778')).code).toBe(1);
    expect((await cli(during, 'secret', 'show', '--portal', '778')).out.trim()).toBe(secret);
    expect((await cli(during, 'rekey')).out).toContain('re-sealed 1 stored secrets');
    expect((await cli(after, 'secret', 'show', '--portal', '778')).out.trim()).toBe(secret);
    expect((await cli(before, 'secret', 'show', '--portal', '778')).code).toBe(1);
    rmSync(cwd, { recursive: true, force: true });
  }, 90_000);
});

describe('configuration', () => {
  it('needs no variables in development and fills the documented defaults', () => {
    const config = parseConfig({});
    expect(config).toMatchObject({
      port: 3000,
      publicUrl: 'http://localhost:3000',
      databaseUrl: undefined,
      redisUrl: 'redis://127.0.0.1:6379',
      hubspot: { apiBaseUrl: 'https://api.hubapi.com', authUrl: 'https://app.hubspot.com/oauth/authorize' },
      quickbooks: { apiBaseUrl: 'https://sandbox-quickbooks.api.intuit.com' },
    });
    expect(parseConfig({ QBO_ENVIRONMENT: 'production' }).quickbooks.apiBaseUrl).toBe(
      'https://quickbooks.api.intuit.com',
    );
  });

  it('requires the secrets production cannot do without', () => {
    expect(() => parseConfig({ NODE_ENV: 'production' })).toThrow(
      /ENCRYPTION_KEY: required in production[\s\S]*PUBLIC_URL: required in production[\s\S]*DATABASE_URL/,
    );
  });
});

describe('the README', () => {
  it('lists every environment variable the app reads in its configuration table, and no other', () => {
    const readme = readFileSync(join(root, 'README.md'), 'utf8');
    const section = readme.slice(readme.indexOf('## Configuration'), readme.indexOf('## Processes'));
    const documented = new Set(
      section
        .split('\n')
        .filter((line) => line.startsWith('| `'))
        .flatMap((line) => [...line.split('|')[1]!.matchAll(/`([A-Z][A-Z0-9_]+)`/g)].map((m) => m[1]!)),
    );
    expect([...documented].sort()).toEqual([...ENVIRONMENT_VARIABLES].sort());
  });
});
