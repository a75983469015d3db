import { and, asc, eq, inArray, isNull, lt } from 'drizzle-orm';
import type { AppContext } from '../context.ts';
import { inbox, invoicePushes } from '../store/schema.ts';
import { hubspotEvents } from './hubspot-events.ts';
import { hubspotWriteBack, writeBackJobId } from './hubspot-write-back.ts';
import { invoicePush } from './invoice-push.ts';

/**
 * Queues inbox rows still pending after `olderThanMs`: events stored while Redis was away, or
 * whose job was lost with it. Handlers skip processed rows, so a second queueing is harmless.
 */
export async function sweepInbox(ctx: AppContext, olderThanMs = 30_000): Promise<number> {
  const rows = await ctx.database.db
    .select({ id: inbox.id })
    .from(inbox)
    .where(
      and(
        eq(inbox.source, 'hubspot'),
        eq(inbox.status, 'pending'),
        lt(inbox.receivedAt, new Date(Date.now() - olderThanMs)),
      ),
    )
    .orderBy(asc(inbox.receivedAt))
    .limit(1000);
  const bucket = Math.floor(Date.now() / 60_000);
  for (let i = 0; i < rows.length; i += 100) {
    const ids = rows.slice(i, i + 100).map((r) => r.id);
    await ctx.queues.enqueue(hubspotEvents, { inboxIds: ids }, `hubspot-events-sweep:${ids[0]}:${bucket}`);
  }
  return rows.length;
}

/**
 * Queues pushes still unfinished after `olderThanMs` (recorded while Redis was away, or whose job
 * was lost with it or ran out of attempts), and write-backs not yet done. The push reads its
 * ledger first, so a second queueing never creates a second invoice.
 */
export async function sweepPushes(ctx: AppContext, olderThanMs = 60_000): Promise<number> {
  const { db } = ctx.database;
  const before = new Date(Date.now() - olderThanMs);
  const bucket = Math.floor(Date.now() / olderThanMs);
  const unfinished = await db
    .select({ id: invoicePushes.id })
    .from(invoicePushes)
    .where(and(inArray(invoicePushes.status, ['pending', 'sending']), lt(invoicePushes.updatedAt, before)))
    .limit(1000);
  for (const { id } of unfinished)
    await ctx.queues.enqueue(invoicePush, { pushId: id }, `invoice-push:${id}:sweep-${bucket}`);
  const unwritten = await db
    .select({ id: invoicePushes.id })
    .from(invoicePushes)
    .where(
      and(
        eq(invoicePushes.status, 'created'),
        isNull(invoicePushes.writtenBackAt),
        lt(invoicePushes.updatedAt, before),
      ),
    )
    .limit(1000);
  for (const { id } of unwritten)
    await ctx.queues.enqueue(hubspotWriteBack, { pushId: id }, `${writeBackJobId(id)}:sweep-${bucket}`);
  return unfinished.length + unwritten.length;
}
