import { and, asc, eq, lt } from 'drizzle-orm';
import type { AppContext } from '../context.ts';
import { inbox } from '../store/schema.ts';
import { hubspotEvents } from './hubspot-events.ts';

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
