import { and, asc, eq, inArray, lt } from 'drizzle-orm';
import { newId } from '../ids.ts';
import type { Db } from './db.ts';
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
 * (same dedupe key) is left out. One batch insert, and if that fails, each entry on its own, so
 * one entry the database refuses never costs the others (it is answered in `failed`).
 */
export async function storeEntries(db: Db, entries: InboxEntry[]) {
  const rows = entries.map((e) => ({ id: newId('in'), ...e }));
  const insert = (batch: typeof rows) =>
    db.insert(inbox).values(batch).onConflictDoNothing().returning({ id: inbox.id });
  const stored = new Set<string>();
  const failed: { entry: InboxEntry; error: Error }[] = [];
  try {
    if (rows.length) for (const { id } of await insert(rows)) stored.add(id);
  } catch {
    for (const row of rows) {
      try {
        for (const { id } of await insert([row])) stored.add(id);
      } catch (error) {
        failed.push({ entry: row, error: error as Error });
      }
    }
  }
  return { stored: rows.filter((r) => stored.has(r.id)), failed };
}

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
