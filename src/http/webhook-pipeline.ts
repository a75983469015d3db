import { createHash } from 'node:crypto';
import express, { type Request, type Response, Router } from 'express';
import type { Logger } from '../log.ts';
import { webhooksReceived, webhooksRejected } from '../metrics.ts';
import type { Db } from '../store/db.ts';
import { type InboxEntry, type InboxSource, storeEntries } from '../store/inbox.ts';

/** One event of a delivery, parsed on its own. */
export type Parsed<E> =
  | { ok: true; event: E; dedupeKey: string; tenantId: string | null }
  | { ok: false; why: string; issues?: unknown; tenantId?: string | null };

export interface Delivered<E> {
  /** Events not seen before, stored in the inbox as pending. */
  fresh: { inboxId: string; event: E; tenantId: string | null }[];
  /** Events a dedupe key says were delivered before. */
  repeated: { event: E; tenantId: string | null }[];
  /** Items that did not parse (kept in the inbox for inspection), or could not be stored. */
  unusable: { why: string; issues?: unknown }[];
  received: number;
}

/** How one sender's deliveries are read; `open` runs only once the signature holds. */
export interface Delivery<E> {
  /** The body's events, unparsed: a batch's items, or the body itself. */
  items(body: unknown): unknown[] | { malformed: string };
  parse(item: unknown): Promise<Parsed<E>>;
  /** Hands the stored events on (queues them, or settles them now) and answers the sender. */
  answer(delivered: Delivered<E>, res: Response): Promise<void>;
}

export interface WebhookSource<E> {
  source: InboxSource;
  /**
   * Verifies the signature over the raw bytes (throwing a 401 problem) and answers how to read the
   * rest. `body` is the JSON parse of the raw bytes (undefined if it is not JSON), not yet trusted.
   */
  verify(req: Request, rawBody: Buffer, body: unknown): Promise<Delivery<E>>;
}

/**
 * Every inbound webhook goes the same way (DESIGN §4.3): raw body → verify → parse each event on
 * its own → inbox row → hand on → answer. Nothing is stored or queued unless the signature holds;
 * an event that cannot be parsed or stored never costs the other events of its batch.
 */
export function webhookRoute<E>(
  deps: { db: Db; logger: Logger },
  path: string,
  source: WebhookSource<E>,
  opts: { limit?: string } = {},
): Router {
  const router = Router();
  router.post(path, express.raw({ type: () => true, limit: opts.limit ?? '2mb' }), async (req, res) => {
    const raw = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    const rawBody = raw.toString('utf8');
    const body = parseJson(rawBody);
    const delivery = await source.verify(req, raw, body.ok ? body.value : undefined).catch((error) => {
      webhooksRejected.inc({ source: source.source, reason: (error as { code?: string }).code ?? 'error' });
      throw error;
    });
    const items = body.ok ? delivery.items(body.value) : { malformed: body.why };
    const parsed: { item: unknown; result: Parsed<E> }[] = Array.isArray(items)
      ? await Promise.all(items.map(async (item) => ({ item, result: await delivery.parse(item) })))
      : [{ item: rawBody.slice(0, 100_000), result: { ok: false, why: items.malformed } }];

    const storable = parsed.map(({ item }) => serialisable(item));
    const entries: InboxEntry[] = parsed.map(({ item, result }, index) =>
      !storable[index]
        ? {
            // Nested too deeply to serialise (and so to store as JSON): kept as the text that came.
            tenantId: result.tenantId ?? null,
            source: source.source,
            dedupeKey: `unserialisable:${createHash('sha256').update(raw).digest('hex')}:${index}`,
            payload: { rawText: rawBody.slice(0, 100_000) },
            status: 'ignored',
            outcome: 'malformed: nested too deeply to store',
          }
        : result.ok
          ? {
              tenantId: result.tenantId,
              source: source.source,
              dedupeKey: result.dedupeKey,
              payload: item as Record<string, unknown>,
              status: 'pending',
              outcome: null,
            }
          : {
              tenantId: result.tenantId ?? null,
              source: source.source,
              dedupeKey: `malformed:${createHash('sha256').update(JSON.stringify(item)).digest('hex')}`,
              payload: { raw: item },
              status: 'ignored',
              outcome: `malformed: ${result.why}`,
            },
    );
    const { stored, unstorable } = await storeEntries(deps.db, entries);
    for (const entry of unstorable)
      deps.logger.warn(
        { source: source.source, dedupeKey: entry.dedupeKey },
        'webhook event not storable as sent; kept in base64 for inspection',
      );

    const storedByKey = new Map(stored.map((s) => [s.dedupeKey, s.id]));
    const failedKeys = new Set(unstorable.map((e) => e.dedupeKey));
    const delivered: Delivered<E> = { fresh: [], repeated: [], unusable: [], received: parsed.length };
    for (const [index, { result }] of parsed.entries()) {
      if (!storable[index]) delivered.unusable.push({ why: 'nested too deeply to store' });
      else if (!result.ok) delivered.unusable.push({ why: result.why, issues: result.issues });
      else if (failedKeys.has(result.dedupeKey)) delivered.unusable.push({ why: 'not storable as sent' });
      else {
        const inboxId = storedByKey.get(result.dedupeKey);
        const { event, tenantId } = result;
        if (inboxId) {
          delivered.fresh.push({ inboxId, event, tenantId });
          storedByKey.delete(result.dedupeKey);
        } else delivered.repeated.push({ event, tenantId });
      }
    }
    const count = (outcome: string, n: number) =>
      n && webhooksReceived.inc({ source: source.source, outcome }, n);
    count('fresh', delivered.fresh.length);
    count('repeated', delivered.repeated.length);
    count('unusable', delivered.unusable.length);
    await delivery.answer(delivered, res);
  });
  return router;
}

function serialisable(value: unknown): boolean {
  try {
    JSON.stringify(value);
    return true;
  } catch {
    return false;
  }
}

function parseJson(raw: string): { ok: true; value: unknown } | { ok: false; why: string } {
  try {
    return { ok: true, value: JSON.parse(raw) };
  } catch (error) {
    return { ok: false, why: (error as Error).message };
  }
}
