import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { type Database, openDatabase } from '../../src/store/db.ts';

/**
 * A fresh, migrated database for one test file: a new database on the Postgres server of
 * DATABASE_URL when it is set (CI), else embedded PGlite in memory. Tests that share the
 * database between processes ask for `server` (PGlite belongs to one process): without
 * DATABASE_URL they get the PostgreSQL server the suite's global setup started (services.ts).
 */
export async function freshDatabase(opts: { server?: boolean } = {}): Promise<Database & { url?: string }> {
  const serverUrl = process.env.DATABASE_URL ?? (opts.server ? suitePostgres() : undefined);
  if (!serverUrl) return openDatabase({ memory: true });
  const name = `mb_test_${randomBytes(6).toString('hex')}`;
  await admin(serverUrl, `CREATE DATABASE ${name}`);
  const url = withDatabase(serverUrl, name);
  const database = await openDatabase({ url });
  return {
    ...database,
    url,
    async close() {
      await database.close();
      await admin(serverUrl, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    },
  };
}

function suitePostgres(): string {
  const url = process.env.MB_TEST_POSTGRES_URL;
  if (!url)
    throw new Error(
      'no PostgreSQL server: set DATABASE_URL, or run through vitest (test/support/services.ts)',
    );
  return url;
}

function withDatabase(url: string, name: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${name}`;
  return parsed.toString();
}

async function admin(url: string, statement: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(statement);
  } finally {
    await client.end();
  }
}
