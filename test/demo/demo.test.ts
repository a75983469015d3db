import { type ChildProcess, execFile } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort } from '../support/net.ts';
import { killStarted, spawnTracked } from '../support/processes.ts';

const root = join(import.meta.dirname, '../..');
const run = promisify(execFile);
let demo: ChildProcess | undefined;
const dataDir = mkdtempSync(join(tmpdir(), 'mb-demo-'));

const groupAlive = (pid: number) => {
  try {
    process.kill(-pid, 0);
    return true;
  } catch {
    return false;
  }
};

/**
 * npm, its shell, tsx and node share the process group the demo was started in: all of them get
 * SIGTERM, as from a process manager. Answers whether every one of them was gone within 15 s.
 */
async function stopDemo(): Promise<boolean> {
  const pid = demo?.pid;
  if (!pid || !groupAlive(pid)) return true;
  process.kill(-pid, 'SIGTERM');
  for (let i = 0; i < 150 && groupAlive(pid); i++) await new Promise((r) => setTimeout(r, 100));
  if (!groupAlive(pid)) return true;
  process.kill(-pid, 'SIGKILL');
  return false;
}

afterAll(async () => {
  await stopDemo().catch(() => {});
  await killStarted();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('npm run demo', () => {
  it('brings everything up, prints an acceptance curl line that yields an invoice in the QuickBooks sandbox, and stops cleanly', async () => {
    const [port, hubspotPort, qboPort] = [await freePort(), await freePort(), await freePort()];
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      PORT: String(port),
      HUBSPOT_SANDBOX_PORT: String(hubspotPort),
      QBO_SANDBOX_PORT: String(qboPort),
      DATA_DIR: dataDir,
      // Alone on a Redis other tests and a running demo may share.
      REDIS_PREFIX: `demo-test-${randomBytes(4).toString('hex')}`,
      QBO_SANDBOX_REALM_ID: String(9_200_000_000_000 + randomInt(1_000_000_000)),
    };
    delete env.NODE_ENV;
    demo = spawnTracked('npm', ['run', 'demo'], {
      cwd: root,
      env,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    demo.stdout!.on('data', (d) => (output += d));
    demo.stderr!.on('data', (d) => (output += d));

    const line = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no curl line within 30 s:\n${output}`)), 30_000);
      const look = () => {
        const found = output.split('\n').find((l) => l.includes('openssl dgst') && l.includes('curl '));
        if (found) {
          clearTimeout(timer);
          resolve(found);
        }
      };
      demo!.stdout!.on('data', look);
      demo!.once('exit', (code) => reject(new Error(`the demo exited with ${code}:\n${output}`)));
    });
    expect(output).toContain(`http://127.0.0.1:${qboPort}/`);
    expect(output).toContain(`http://127.0.0.1:${hubspotPort}`);
    expect(output).toMatch(/API key\s+mbk_/);
    expect(output).toContain('Accept the Discovery milestone (EUR 12,000.00)');
    expect(await (await fetch(`http://127.0.0.1:${qboPort}/`)).text()).toContain('No invoices yet');

    const answer = await run('sh', ['-c', line], { timeout: 10_000 });
    expect(JSON.parse(answer.stdout), answer.stderr).toMatchObject({
      outcome: 'accepted',
      milestone: { key: 'discovery', status: 'accepted' },
    });

    let page = '';
    for (let i = 0; i < 50 && !page.includes('MB-1001'); i++) {
      await new Promise((r) => setTimeout(r, 100));
      page = await (await fetch(`http://127.0.0.1:${qboPort}/`)).text();
    }
    expect(page).toContain('MB-1001');
    expect(page).toContain('O&#39;Brien &amp; Sons Construction');
    expect(page).toMatch(/12,000\.00 EUR/);

    expect(await stopDemo(), output).toBe(true);
    // The group is gone, but what it wrote last may still be on its way through the pipe.
    const out = demo.stdout!;
    if (!out.readableEnded) await new Promise((r) => out.once('end', r));
    expect(output).toContain('SIGTERM: stopping the app, the sandboxes');
    expect(output).not.toContain('could not start');
    await expect(fetch(`http://127.0.0.1:${qboPort}/`)).rejects.toThrow();
    await expect(fetch(`http://127.0.0.1:${port}/healthz`)).rejects.toThrow();
  }, 45_000);
});
