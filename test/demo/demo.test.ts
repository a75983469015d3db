import { type ChildProcess, execFile } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { confirmLink } from '../support/links.ts';
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
  it('brings everything up with a seeded portfolio, prints a portfolio sign-in link and an acceptance curl line that yields an invoice in the QuickBooks sandbox, and stops cleanly', async () => {
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

    const [line, link] = await new Promise<[string, string]>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`no curl line and sign-in link within 30 s:\n${output}`)),
        30_000,
      );
      const look = () => {
        const found = output.split('\n').find((l) => l.includes('openssl dgst') && l.includes('curl '));
        const signIn = /(http:\/\/\S+\/app\/sign-in\?link=[A-Za-z0-9_-]+)\s*\n/.exec(output)?.[1];
        if (found && signIn) {
          clearTimeout(timer);
          resolve([found, signIn]);
        }
      };
      demo!.stdout!.on('data', look);
      demo!.once('exit', (code) => reject(new Error(`the demo exited with ${code}:\n${output}`)));
    });
    expect(output).toContain(`http://127.0.0.1:${qboPort}/`);
    expect(output).toContain(`http://127.0.0.1:${hubspotPort}`);
    const key = /API key\s+(mbk_\S+)/.exec(output)?.[1];
    expect(key).toBeDefined();
    expect(output).toContain('Accept the Discovery milestone (EUR 12,000.00)');
    expect(output).toMatch(/valid once, for an hour/);
    const app = `http://localhost:${port}`;
    expect(link.startsWith(`${app}/app/sign-in?link=`)).toBe(true);

    // The portfolio link signs a browser in, once, after its page names the portal.
    const { answer: signIn } = await confirmLink(link);
    expect(signIn.status).toBe(303);
    expect(signIn.headers.get('location')).toBe('/app/portfolio');
    const cookie = signIn.headers
      .getSetCookie()
      .find((c) => c.startsWith('mb_session='))
      ?.split(';')[0];
    expect(cookie).toBeDefined();
    expect((await fetch(link, { redirect: 'manual' })).status).toBe(403);

    // What needs a person: QuickBooks' refusal with Retry, an overdue invoice; both currencies.
    const portfolio = await fetch(`${app}/app/portfolio`, {
      headers: { cookie: cookie! },
      redirect: 'manual',
    });
    const html = await portfolio.text();
    expect(portfolio.status, html.slice(0, 500)).toBe(200);
    expect(portfolio.headers.get('content-type')).toMatch(/^text\/html/);
    const refused = /<tr[^>]*data-kind="invoice_failed"[^>]*>[\s\S]*?<\/tr>/.exec(html)?.[0];
    expect(refused, html).toBeDefined();
    expect(refused).toMatch(/<button[^>]*>\s*Retry\s*<\/button>/);
    expect(refused).toContain('Racking installation');
    expect(refused).toMatch(/invalid or inactive/);
    expect(html).toContain('data-kind="overdue"');
    expect(html).toMatch(/USD\s*[\d,]+\.\d{2}/);
    expect(html).toMatch(/EUR\s*[\d,]+\.\d{2}/);

    // The forecast: a week far above the median, and weeks with nothing between expected ones.
    const forecast = await fetch(`${app}/api/v1/portfolio/forecast`, {
      headers: { authorization: `Bearer ${key}` },
    });
    expect(forecast.status).toBe(200);
    const { currencies } = (await forecast.json()) as {
      currencies: { currency: string; weeks: { kind: string; mark: string | null }[] }[];
    };
    expect(currencies.map((c) => c.currency).sort()).toEqual(['EUR', 'USD']);
    const shaped = currencies.filter(({ weeks }) => {
      const ahead = weeks.filter((w) => w.kind === 'expected');
      const filled = ahead.flatMap((w, i) => (w.mark === 'gap' ? [] : [i]));
      const gapBetween = ahead.some((w, i) => w.mark === 'gap' && i > filled[0]! && i < filled.at(-1)!);
      return ahead.some((w) => w.mark === 'cluster') && gapBetween;
    });
    expect(shaped.map((c) => c.currency)).toContain('USD');

    // Every invoice so far was the seed's; the acceptance below makes the next one.
    const before = await (await fetch(`http://127.0.0.1:${qboPort}/`)).text();
    expect(before).toContain('Acme Widgets, Inc.');
    expect(before).not.toContain('O&#39;Brien &amp; Sons Construction');

    const answer = await run('sh', ['-c', line], { timeout: 10_000 });
    expect(JSON.parse(answer.stdout), answer.stderr).toMatchObject({
      outcome: 'accepted',
      milestone: { key: 'discovery', status: 'accepted' },
    });

    let docNumber: string | undefined;
    for (let i = 0; i < 50 && !docNumber; i++) {
      await new Promise((r) => setTimeout(r, 100));
      docNumber = /✓ Discovery: invoice (MB-\d+) for EUR 12,000\.00 created in QuickBooks/.exec(output)?.[1];
    }
    expect(docNumber, output).toBeDefined();
    const page = await (await fetch(`http://127.0.0.1:${qboPort}/`)).text();
    expect(page).toContain(docNumber);
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
  }, 60_000);
});
