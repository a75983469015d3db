import { createHash } from 'node:crypto';
import { and, asc, eq, inArray, lt, sql } from 'drizzle-orm';
import { newId } from '../ids.ts';
import { type Db, isDataError, rowsOf } from './db.ts';
import { inbox } from './schema.ts';

export type InboxSource = (typeof inbox.$inferSelect)['source'];
export type InboxRow = typeof inbox.$inferSelect;

export interface InboxEntry {
  tenantId: string | null;
  source: InboxSource;
  dedupeKey: string;
  payload: Record<string, unknown>;
  /** `ignored` with its outcome: kept for inspection, never processed (a malformed event). */
  status: 'pending' | 'ignored';
  outcome: string | null;
}

/**
 * Stores the entries not seen before and answers them with their ids; a repeated delivery
 * (same dedupe key) is left out. One batch insert, and if the database refuses it, each entry on
 * its own, so one entry it cannot hold (a NUL character, say) never costs the others: that one is
 * kept as sent, in base64, for inspection. Any other failure (the database is away) is thrown, so
 * that the sender delivers again.
 */
export async function storeEntries(db: Db, entries: InboxEntry[]) {
  const rows = entries.map((e) => ({ id: newId('in'), ...e }));
  const insert = async (batch: typeof rows) =>
    (await db.insert(inbox).values(batch).onConflictDoNothing().returning({ id: inbox.id })).map((r) => r.id);
  const stored = new Set<string>();
  const unstorable: InboxEntry[] = [];
  try {
    if (rows.length) for (const id of await insertBatch(db, rows)) stored.add(id);
  } catch (error) {
    if (!isDataError(error)) throw error;
    for (const row of rows) {
      try {
        for (const id of await insert([row])) stored.add(id);
      } catch (error) {
        if (!isDataError(error)) throw error;
        unstorable.push(row);
        const raw = Buffer.from(JSON.stringify(row.payload)).toString('base64');
        await insert([
          {
            ...row,
            id: newId('in'),
            dedupeKey: `unstorable:${createHash('sha256').update(raw).digest('hex')}`,
            payload: { base64: raw },
            status: 'ignored',
            outcome: `not storable as sent: ${databaseReason(error)}`,
          },
        ]);
      }
    }
  }
  return { stored: rows.filter((r) => stored.has(r.id)), unstorable };
}

/**
 * A delivery's entries in one statement with one parameter, the batch as JSON: drizzle builds a
 * many-row insert value by value, and that took more of the web process's CPU than everything
 * else a webhook costs (test/bench/load.bench.ts, ingest). A duplicate within the batch or of an
 * earlier delivery is skipped; the entries stored are answered.
 */
async function insertBatch(db: Db, rows: (InboxEntry & { id: string })[]): Promise<string[]> {
  const batch = rows.map((r) => ({
    id: r.id,
    tenant_id: r.tenantId,
    source: r.source,
    dedupe_key: r.dedupeKey,
    payload: r.payload,
    status: r.status,
    outcome: r.outcome,
  }));
  const stored = await rowsOf<{ id: string }>(
    db,
    sql`INSERT INTO inbox (id, tenant_id, source, dedupe_key, payload, status, outcome)
      SELECT id, tenant_id, source, dedupe_key, payload, status, outcome
      FROM jsonb_to_recordset(${JSON.stringify(batch)}::jsonb)
        AS r(id text, tenant_id text, source text, dedupe_key text, payload jsonb, status text, outcome text)
      ON CONFLICT DO NOTHING RETURNING id`,
  );
  return stored.map((r) => r.id);
}

/** The database's own words, without the failed query (which holds the payload). */
const databaseReason = (error: unknown) =>
  ((error as { cause?: Error }).cause?.message ?? 'refused by the database').replace(/\0/g, '');

export async function settleEntry(
  db: Db,
  id: string,
  status: 'processed' | 'ignored' | 'failed',
  outcome: string,
): Promise<void> {
  await db.update(inbox).set({ status, outcome, processedAt: new Date() }).where(eq(inbox.id, id));
}

/** Notes a failed try; the row stays pending for the next. */
export async function noteAttempt(db: Db, row: InboxRow, error: Error): Promise<void> {
  await db
    .update(inbox)
    .set({ attempts: row.attempts + 1, outcome: `error: ${error.message}` })
    .where(eq(inbox.id, row.id));
}

export function pendingEntries(db: Db, ids: string[]) {
  return db
    .select()
    .from(inbox)
    .where(and(inArray(inbox.id, ids), eq(inbox.status, 'pending')));
}

/** Pending entries of a source older than `before`: stored while Redis was away, or whose job was lost. */
export function stalePending(db: Db, source: InboxSource, before: Date, limit = 1000) {
  return db
    .select({ id: inbox.id })
    .from(inbox)
    .where(and(eq(inbox.source, source), eq(inbox.status, 'pending'), lt(inbox.receivedAt, before)))
    .orderBy(asc(inbox.receivedAt))
    .limit(limit);
}

/** A QuickBooks event's company, in either of Intuit's formats (CloudEvents or legacy). */
const QBO_REALM = sql`coalesce(${inbox.payload} ->> 'intuitaccountid', ${inbox.payload} ->> 'realmId')`;

/** The pending QuickBooks events of one company, oldest first. */
export function pendingOfRealm(db: Db, realmId: string, limit: number) {
  return db
    .select()
    .from(inbox)
    .where(and(eq(inbox.source, 'quickbooks'), eq(inbox.status, 'pending'), sql`${QBO_REALM} = ${realmId}`))
    .orderBy(asc(inbox.receivedAt))
    .limit(limit);
}

/** Companies with QuickBooks events still pending from before `before` (their job was lost). */
export async function stalePendingRealms(db: Db, before: Date): Promise<string[]> {
  const rows = await db
    .selectDistinct({ realmId: sql<string | null>`${QBO_REALM}` })
    .from(inbox)
    .where(and(eq(inbox.source, 'quickbooks'), eq(inbox.status, 'pending'), lt(inbox.receivedAt, before)))
    .limit(1000);
  return rows.flatMap((r) => (r.realmId ? [r.realmId] : []));
}

/** Many rows to one status and outcome, in one statement. */
export async function settleEntries(
  db: Db,
  ids: string[],
  status: 'processed' | 'ignored' | 'failed',
  outcome: string,
): Promise<void> {
  if (ids.length)
    await db.update(inbox).set({ status, outcome, processedAt: new Date() }).where(inArray(inbox.id, ids));
}
