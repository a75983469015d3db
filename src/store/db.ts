import {
  chmodSync,
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PGlite } from '@electric-sql/pglite';
import { type SQL, sql } from 'drizzle-orm';
import { drizzle as drizzlePg } from 'drizzle-orm/node-postgres';
import { migrate as migratePg } from 'drizzle-orm/node-postgres/migrator';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import { migrate as migratePglite } from 'drizzle-orm/pglite/migrator';
import pg from 'pg';
import * as schema from './schema.ts';

export type Db = PgDatabase<PgQueryResultHKT, typeof schema>;
/** A transaction handle; repositories accept either. */
export type Tx = Parameters<Parameters<Db['transaction']>[0]>[0];
export type Queryable = Db | Tx;

export interface Database {
  db: Db;
  kind: 'postgres' | 'pglite';
  ping(): Promise<void>;
  close(): Promise<void>;
}

const migrationsFolder = fileURLToPath(new URL('./migrations', import.meta.url));
/** Any constant shared by every process: serialises concurrent migrators on one server. */
const MIGRATION_LOCK = 727_274;

/**
 * Postgres when a URL is given, else embedded PGlite in `dataDir` (or in memory). Both get the
 * same schema from the same migrations, applied on open.
 */
export async function openDatabase(
  target: { url: string } | { dataDir: string } | { memory: true },
): Promise<Database> {
  if ('url' in target) {
    const pool = new pg.Pool({ connectionString: target.url, max: 10 });
    // An idle connection Postgres closes (restart, failover) must not crash the process: the pool
    // drops it and opens another; queries in flight report their own errors.
    pool.on('error', () => {});
    const db = drizzlePg(pool, { schema }) as unknown as Db;
    const client = await pool.connect();
    try {
      await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
      await migratePg(drizzlePg(client, { schema }), { migrationsFolder });
    } finally {
      await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]).catch(() => {});
      client.release();
    }
    return {
      db,
      kind: 'postgres',
      ping: () => db.execute(sql`select 1`).then(() => {}),
      close: () => pool.end(),
    };
  }
  let client: PGlite;
  let unlock = () => {};
  if ('dataDir' in target) {
    keepPrivate(target.dataDir);
    unlock = lockDataDir(target.dataDir);
    client = new PGlite(join(target.dataDir, 'pglite'));
  } else {
    client = new PGlite();
  }
  const db = drizzlePglite(client, { schema });
  await migratePglite(db, { migrationsFolder });
  return {
    db: db as unknown as Db,
    kind: 'pglite',
    ping: () => client.query('select 1').then(() => {}),
    // PGlite sets some files' modes itself (pg_internal.init 0644): narrowed again on the way out.
    close: () =>
      client.close().finally(() => {
        if ('dataDir' in target) keepPrivate(target.dataDir);
        unlock();
      }),
  };
}

/**
 * The embedded database holds every tenant's data and sealed tokens: its folder is the process
 * user's alone (0700), and so is every file in it (0600). PGlite writes through Node's fs with
 * mode 0666, so the process's umask is narrowed before it opens (files it makes later inherit it),
 * and what an earlier version left readable is narrowed once.
 */
export function keepPrivate(dataDir: string): void {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  process.umask(0o077);
  const narrow = (path: string) => {
    const stat = lstatSync(path);
    if (stat.isSymbolicLink()) return;
    if (stat.isDirectory()) {
      if (stat.mode & 0o077) chmodSync(path, 0o700);
      for (const entry of readdirSync(path)) narrow(join(path, entry));
    } else if (stat.mode & 0o077) chmodSync(path, 0o600);
  };
  narrow(dataDir);
}

/**
 * Embedded PGlite is one process's database: a second process opening the same files would
 * corrupt them, so it is refused with a way out.
 */
function lockDataDir(dataDir: string): () => void {
  const lock = join(dataDir, 'pglite.pid');
  if (existsSync(lock)) {
    const pid = Number(readFileSync(lock, 'utf8'));
    if (pid && pid !== process.pid && isAlive(pid)) {
      throw new Error(
        `the embedded database in ${dataDir} is in use by process ${pid}; stop it first, or set DATABASE_URL to share a Postgres server between processes`,
      );
    }
  }
  writeFileSync(lock, String(process.pid));
  return () => rmSync(lock, { force: true });
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export const isUniqueViolation = (error: unknown) => sqlStateOf(error) === '23505';

/** The SQLSTATE of a failed query (drizzle wraps the driver's error as its cause). */
export function sqlStateOf(error: unknown): string | undefined {
  const code = (error as { cause?: { code?: unknown } })?.cause?.code ?? (error as { code?: unknown })?.code;
  return typeof code === 'string' ? code : undefined;
}

/** SQLSTATE classes 22 (data exception) and 23 (integrity): the values, not the database, are the problem. */
export const isDataError = (error: unknown) => /^2[23]/.test(sqlStateOf(error) ?? '');

/** Rows of a hand-written query (both drivers answer `{ rows }`), for what the builder cannot say. */
export async function rowsOf<T>(db: Queryable, query: SQL): Promise<T[]> {
  return ((await db.execute(query)) as unknown as { rows: T[] }).rows;
}
