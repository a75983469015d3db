import { createHmac } from 'node:crypto';
import { z } from 'zod';
import { safeEqual } from '../security/crypto.ts';

/** `intuit-signature`: base64 HMAC-SHA256 of the raw body with the app's verifier token. No timestamp. */
export function verifyIntuitSignature(verifierToken: string, rawBody: Buffer, header: string | undefined) {
  if (!header) return { ok: false as const, reason: 'the intuit-signature header is missing' };
  const expected = createHmac('sha256', verifierToken).update(rawBody).digest('base64');
  return safeEqual(expected, header)
    ? { ok: true as const }
    : { ok: false as const, reason: 'the signature does not match' };
}

export const OPERATIONS = ['Create', 'Update', 'Delete', 'Merge', 'Void', 'Emailed'] as const;
export type QboOperation = (typeof OPERATIONS)[number];

/** A change in a connected company, from either format: ids only, so the entity is read afresh. */
export interface QboChange {
  realmId: string;
  entity: string;
  entityId: string;
  operation: QboOperation;
  /** When QuickBooks says the change happened (ISO 8601). */
  at: string;
  /** A merge: the id merged away. */
  deletedId?: string | undefined;
  /** The key that makes a redelivery of the same notification a duplicate. */
  dedupeKey: string;
}

const PAST_TENSE: Record<string, QboOperation> = {
  created: 'Create',
  updated: 'Update',
  deleted: 'Delete',
  merged: 'Merge',
  voided: 'Void',
  emailed: 'Emailed',
};

const Id = z.string().min(1).max(64);

/** CloudEvents 1.0 as Intuit sends them; `data` may be absent or carry the entity (ignored: re-read). */
export const QboCloudEvent = z.looseObject({
  specversion: z.literal('1.0'),
  id: z.string().min(1).max(200),
  type: z.string().regex(/^qbo\.[a-z]+\.[a-z]+\.v\d+$/, 'must look like qbo.<entity>.<operation>.v1'),
  time: z.string().min(1).max(64).optional(),
  intuitentityid: Id,
  intuitaccountid: Id,
  data: z.looseObject({ deletedid: Id.optional(), deletedId: Id.optional() }).nullish(),
});

const LegacyChange = {
  name: z.string().min(1).max(64),
  id: Id,
  operation: z.enum(OPERATIONS),
  lastUpdated: z.string().min(1).max(64),
  deletedId: Id.optional(),
};

/** The legacy format as Intuit documents it (for the contract; parsing reads each entity alone). */
export const QboLegacyNotifications = z.looseObject({
  eventNotifications: z.array(
    z.looseObject({
      realmId: Id,
      dataChangeEvent: z.looseObject({ entities: z.array(z.looseObject(LegacyChange)) }),
    }),
  ),
});

/** One entity of a legacy `eventNotifications[].dataChangeEvent.entities[]`, with its realm. */
const LegacyEntity = z.looseObject({ realmId: Id, ...LegacyChange });

const LegacyBody = z.looseObject({
  eventNotifications: z.array(
    z.looseObject({
      realmId: z.unknown(),
      dataChangeEvent: z.looseObject({ entities: z.array(z.unknown()) }).optional(),
    }),
  ),
});

export const MAX_EVENTS = 1000;

/**
 * The body's events, each to parse on its own: a CloudEvents array as is, a legacy body flattened
 * to one item per entity with its realm (so one bad entity never costs the others).
 */
export function qboItems(body: unknown): unknown[] | { malformed: string } {
  if (Array.isArray(body)) {
    return body.length <= MAX_EVENTS
      ? body
      : { malformed: `more than ${MAX_EVENTS} CloudEvents in one delivery` };
  }
  const legacy = LegacyBody.safeParse(body);
  if (!legacy.success)
    return { malformed: 'the body is neither a CloudEvents array nor an eventNotifications object' };
  const items = legacy.data.eventNotifications.flatMap((n) =>
    (n.dataChangeEvent?.entities ?? []).map((e) =>
      e && typeof e === 'object' ? { realmId: n.realmId, ...e } : { realmId: n.realmId, entity: e },
    ),
  );
  return items.length <= MAX_EVENTS
    ? items
    : { malformed: `more than ${MAX_EVENTS} entities in one delivery` };
}

const entityName = (word: string) => `${word[0]!.toUpperCase()}${word.slice(1)}`;
const issuesOf = (error: z.ZodError) =>
  error.issues.map((i) => `${i.path.join('.') || '(event)'}: ${i.message}`).join('; ');

export function parseQboChange(item: unknown): { ok: true; change: QboChange } | { ok: false; why: string } {
  if (item && typeof item === 'object' && 'specversion' in item) {
    const parsed = QboCloudEvent.safeParse(item);
    if (!parsed.success) return { ok: false, why: issuesOf(parsed.error) };
    const e = parsed.data;
    const [, entity, tense] = e.type.split('.') as [string, string, string];
    const operation = PAST_TENSE[tense];
    if (!operation) return { ok: false, why: `type: unknown operation "${tense}"` };
    return {
      ok: true,
      change: {
        realmId: e.intuitaccountid,
        entity: entityName(entity),
        entityId: e.intuitentityid,
        operation,
        at: e.time ?? new Date().toISOString(),
        deletedId: e.data?.deletedid ?? e.data?.deletedId,
        dedupeKey: `ce:${e.id}`,
      },
    };
  }
  const parsed = LegacyEntity.safeParse(item);
  if (!parsed.success) return { ok: false, why: issuesOf(parsed.error) };
  const e = parsed.data;
  return {
    ok: true,
    change: {
      realmId: e.realmId,
      entity: e.name,
      entityId: e.id,
      operation: e.operation,
      at: e.lastUpdated,
      deletedId: e.deletedId,
      dedupeKey: `legacy:${e.realmId}:${e.name}:${e.id}:${e.operation}:${e.lastUpdated}`,
    },
  };
}
