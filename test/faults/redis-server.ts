import type { ChildProcess } from 'node:child_process';
import { spawnTracked } from '../support/processes.ts';

/** A test-owned redis-server on `port`, without persistence: a restart brings it back empty. */
export function startRedisServer(port: number): Promise<ChildProcess> {
  return new Promise((resolve, reject) => {
    const child = spawnTracked('redis-server', [
      ...['--port', String(port), '--bind', '127.0.0.1'],
      ...['--save', '', '--appendonly', 'no'],
    ]);
    child.stdout!.on('data', (d) => String(d).includes('Ready to accept connections') && resolve(child));
    child.on('error', reject);
    child.on('exit', (code) => reject(new Error(`redis-server exited with ${code}`)));
  });
}
