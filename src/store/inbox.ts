import { createHash } from 'node:crypto';
import { and, asc, eq, inArray, lt } from 'drizzle-orm';
import { newId } from '../ids.ts';
import { type Db, isDataError } from './db.ts';
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
    if (rows.length) for (const id of await insert(rows)) stored.add(id);
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
