import type { ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { expect } from 'vitest';
import type { Billing } from '../support/billing.ts';
import { exited, isRunning, spawnNode } from '../support/processes.ts';

const root = join(import.meta.dirname, '../..');

/**
 * The app's own worker process (src/worker.ts, as the Procfile runs it) on the test's database,
 * Redis and sandboxes; resolves once it has said it started, and it is the worker itself, not a
 * wrapper, so a kill reaches it.
 */
export async function startWorkerProcess(
  b: Billing,
  env: Record<string, string> = {},
): Promise<ChildProcess> {
  const c = b.t.ctx.config;
  const child = spawnNode(join(root, 'src/worker.ts'), [], {
    env: {
      PATH: process.env.PATH!,
      LOG_LEVEL: 'info',
      DATABASE_URL: b.t.database.url!,
      REDIS_URL: c.redisUrl,
      ENCRYPTION_KEY: b.t.encryptionKey.toString('base64'),
      REDIS_PREFIX: c.redisPrefix,
      PUBLIC_URL: c.publicUrl,
      JOB_LOCK_MS: '3000',
      JOB_BACKOFF_MS: '100',
      QBO_REQUEST_TIMEOUT_MS: '30000',
      QBO_THROTTLE_PAUSE_MS: '300',
      HUBSPOT_CLIENT_ID: c.hubspot.clientId!,
      HUBSPOT_CLIENT_SECRET: c.hubspot.clientSecret!,
      HUBSPOT_API_BASE_URL: c.hubspot.apiBaseUrl,
      QBO_ENVIRONMENT: c.quickbooks.environment,
      QBO_CLIENT_ID: c.quickbooks.clientId!,
      QBO_CLIENT_SECRET: c.quickbooks.clientSecret!,
      QBO_API_BASE_URL: c.quickbooks.apiBaseUrl,
      QBO_TOKEN_URL: c.quickbooks.tokenUrl,
      QBO_REVOKE_URL: c.quickbooks.revokeUrl,
      ...env,
    },
  });
  let err = '';
  child.stderr!.on('data', (d) => (err += d));
  const pid = await new Promise<number>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d) => {
      out += d;
      const started = /^\{.*"pid":(\d+).*"msg":"worker started"\}$/m.exec(out);
      if (started) resolve(Number(started[1]));
    });
    child.on('exit', (code) => reject(new Error(`worker exited with ${code}:\n${err}`)));
  });
  expect(pid).toBe(child.pid);
  return child;
}

/** SIGKILLs the worker and checks that the OS no longer runs it. */
export async function killWorker(child: ChildProcess): Promise<void> {
  child.kill('SIGKILL');
  await exited(child);
  expect(child.signalCode).toBe('SIGKILL');
  expect(isRunning(child.pid!)).toBe(false);
}
