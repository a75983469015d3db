import { once } from 'node:events';
import { ensureRedis, redisAnswers } from '../demo/redis.ts';
import { startEmbeddedPostgres } from './embedded-postgres.ts';
import { freePort } from './net.ts';

const say = (line: string) => console.log(`[test services] ${line}`);

/**
 * vitest globalSetup: Redis and a PostgreSQL server for the suite when the machine has none.
 * Workers fork after this returns and copy process.env then, so what is set here reaches every
 * test file (and the processes they start with process.env).
 */
export default async function setup(): Promise<() => Promise<void>> {
  const stops: Array<() => Promise<void>> = [];

  async function teardown() {
    for (const stop of stops.reverse()) await stop();
  }

  try {
    const redisUrl = process.env.REDIS_URL || 'redis://127.0.0.1:6379';
    if (!(await redisAnswers(redisUrl))) {
      const url = `redis://127.0.0.1:${await freePort()}`;
      const { child } = await ensureRedis(url, () => {});
      stops.push(async () => {
        const gone = child && once(child, 'exit');
        child?.kill('SIGTERM');
        await gone;
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
  }
  return teardown;
}
