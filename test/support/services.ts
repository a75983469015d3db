import { randomBytes, randomInt } from 'node:crypto';
import { ensureRedis, redisAnswers } from '../demo/redis.ts';
import { clearResults, writeResults } from '../faults/results.ts';
import { startEmbeddedPostgres } from './embedded-postgres.ts';
import { killLeftovers } from './leaks.ts';
import { freePort } from './net.ts';
import { exited, SPAWN_MARKER } from './processes.ts';

const say = (line: string) => console.log(`[test services] ${line}`);

/**
 * vitest globalSetup: Redis and a PostgreSQL server for the suite when the machine has none, and
 * after the run the fault matrix's table and a check that no process the tests started still
 * runs. Workers fork after this returns and copy process.env then, so what is set here reaches
 * every test file (and the processes they start with process.env).
 */
export default async function setup(): Promise<() => Promise<void>> {
  const run = randomBytes(6).toString('hex');
  process.env.MB_TEST_RUN = run;
  // One seed per run for the QuickBooks sandbox's fault injection; FAULT_SEED=<n> replays it.
  process.env.FAULT_SEED ||= String(randomInt(2 ** 31));
  const stops: Array<() => Promise<void>> = [];
  clearResults();

  async function teardown() {
    // The fault matrix's table, from the rows its files kept during the run (test/faults/).
    try {
      writeResults(say);
    } catch (error) {
      say(`the fault matrix table was not written: ${(error as Error).message}`);
    }
    for (const stop of stops.reverse()) await stop();
    const left = await killLeftovers(`${SPAWN_MARKER}=${run}`);
    if (left.length > 0) {
      // A throwing teardown is only logged by vitest: the exit code is what fails the run.
      process.exitCode = 1;
      const list = left.map((p) => `  ${p.pid} ${p.command}`).join('\n');
      throw new Error(
        `processes started by the tests were still running after the run (now killed):\n${list}`,
      );
    }
  }

  // The servers started here inherit the marker, so the check above also proves the teardown
  // stopped them; it is gone again before the workers fork.
  process.env[SPAWN_MARKER] = run;
  try {
    const redisUrl = process.env.REDIS_URL || 'redis://127.0.0.1:6379';
    if (!(await redisAnswers(redisUrl))) {
      const url = `redis://127.0.0.1:${await freePort()}`;
      const { child } = await ensureRedis(url, () => {});
      stops.push(async () => {
        child?.kill('SIGTERM');
        if (child) await exited(child);
      });
      say(`nothing answers ${redisUrl}: the tests use a throwaway redis-server on ${url}`);
      process.env.REDIS_URL = url;
    }
    // DATABASE_URL (CI) puts every test on that server; without it only the tests that share a
    // database between processes need one, and PGlite serves the rest.
    if (!process.env.DATABASE_URL) {
      const postgres = await startEmbeddedPostgres();
      stops.push(postgres.stop);
      process.env.MB_TEST_POSTGRES_URL = postgres.url;
    }
  } catch (error) {
    await teardown().catch(() => {});
    throw error;
  } finally {
    delete process.env[SPAWN_MARKER];
  }
  return teardown;
}
