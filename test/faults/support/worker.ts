import type { ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { exited, spawnNode } from '../../support/processes.ts';
import type { Stack } from './stack.ts';

const root = join(import.meta.dirname, '../../..');

export interface WorkerProcess {
  child: ChildProcess;
  pid: number;
  output(): string;
  /** SIGKILL, as an OOM killer or a lost host does: nothing runs after it, no cleanup. */
  kill(): Promise<void>;
}

/**
 * The app's own worker process (`src/worker.ts`, as the Procfile runs it), on the stack's
 * database and Redis namespace, reaching both platforms through the stack's holding proxies.
 */
export async function startWorker(s: Stack, env: Record<string, string> = {}): Promise<WorkerProcess> {
  const c = s.t.ctx.config;
  const child = spawnNode(join(root, 'src/worker.ts'), [], {
    env: {
      PATH: process.env.PATH!,
      LOG_LEVEL: 'info',
      DATABASE_URL: s.t.database.url!,
      REDIS_URL: c.redisUrl,
      REDIS_PREFIX: c.redisPrefix,
      ENCRYPTION_KEY: s.t.encryptionKey.toString('base64'),
      JOB_LOCK_MS: '3000',
      JOB_BACKOFF_MS: '100',
      QBO_THROTTLE_PAUSE_MS: '300',
      // Longer than any hold: a held request ends with the kill, not with the app giving up.
      QBO_REQUEST_TIMEOUT_MS: '30000',
      HUBSPOT_CLIENT_ID: c.hubspot.clientId!,
      HUBSPOT_CLIENT_SECRET: c.hubspot.clientSecret!,
      HUBSPOT_API_BASE_URL: s.hsProxy.url,
      QBO_CLIENT_ID: c.quickbooks.clientId!,
      QBO_CLIENT_SECRET: c.quickbooks.clientSecret!,
      QBO_API_BASE_URL: s.qboProxy.url,
      QBO_TOKEN_URL: c.quickbooks.tokenUrl,
      QBO_REVOKE_URL: c.quickbooks.revokeUrl,
      ...env,
    },
  });
  let out = '';
  child.stdout!.on('data', (d) => {
    out = (out + d).slice(-200_000);
  });
  child.stderr!.on('data', (d) => {
    out = (out + d).slice(-200_000);
  });
  const pid = await new Promise<number>((resolve, reject) => {
    const check = () => {
      const started = /^\{.*"pid":(\d+).*"msg":"worker started"\}$/m.exec(out);
      if (started) resolve(Number(started[1]));
    };
    child.stdout!.on('data', check);
    child.once('exit', (code) => reject(new Error(`worker exited with ${code}:\n${out.slice(-4000)}`)));
  });
  // The process held is the worker itself, not a wrapper: the kill reaches the worker.
  if (pid !== child.pid) throw new Error(`worker pid ${pid} is not the spawned ${child.pid}`);
  return {
    child,
    pid,
    output: () => out,
    async kill() {
      child.kill('SIGKILL');
      await exited(child);
      if (child.signalCode !== 'SIGKILL') throw new Error(`worker ended with ${child.exitCode}, not SIGKILL`);
    },
  };
}
