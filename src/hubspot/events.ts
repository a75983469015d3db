import { z } from 'zod';

/** One HubSpot webhook event; fields beyond these are kept in the inbox but not relied on. */
export const HubSpotEvent = z.looseObject({
  eventId: z.union([z.number(), z.string()]),
  portalId: z.union([z.number(), z.string()]).transform(String),
  occurredAt: z.number(),
  subscriptionType: z.string().optional(),
  eventType: z.string().optional(),
  objectId: z.union([z.number(), z.string()]).transform(String),
  objectTypeId: z.string().optional(),
  propertyName: z.string().optional(),
  propertyValue: z.string().optional(),
  changeSource: z.string().optional(),
  sourceId: z.string().optional(),
  attemptNumber: z.number().optional(),
});
export type HubSpotEvent = z.output<typeof HubSpotEvent>;

/**
 * `eventId` alone is not unique, so a delivery is identified by what it says happened; a retry
 * (any attemptNumber) of the same event has the same key.
 */
export function dedupeKey(e: HubSpotEvent): string {
  const type = e.subscriptionType ?? e.eventType ?? '';
  return [
    e.portalId,
    type,
    e.objectTypeId ?? '',
    e.objectId,
    e.propertyName ?? '',
    e.propertyValue ?? '',
    e.occurredAt,
    e.eventId,
  ].join(':');
}

const isDeal = (e: HubSpotEvent, type: string) => {
  const t = e.subscriptionType ?? e.eventType;
  return t === `deal.${type}` || (t === `object.${type}` && e.objectTypeId === '0-3');
};

/** What a webhook event says happened to a deal, in the app's words. */
export type DealChange =
  | { kind: 'stage'; dealId: string; stage: string | undefined }
  | { kind: 'amount'; dealId: string; amount: string | undefined }
  | { kind: 'deleted'; dealId: string }
  | { kind: 'owner' | 'pipeline'; dealId: string; value: string | null }
  | { kind: 'ignored'; why: string };

const FACTS: Record<string, 'owner' | 'pipeline'> = { hubspot_owner_id: 'owner', pipeline: 'pipeline' };

export function dealChange(e: HubSpotEvent): DealChange {
  const fact = isDeal(e, 'propertyChange') ? FACTS[e.propertyName ?? ''] : undefined;
  if (fact) return { kind: fact, dealId: e.objectId, value: e.propertyValue || null };
  // Imports rewrite thousands of deals at once; they are not a client accepting anything.
  if (e.changeSource === 'IMPORT') return { kind: 'ignored', why: 'import' };
  if (isDeal(e, 'propertyChange') && e.propertyName === 'dealstage')
    return { kind: 'stage', dealId: e.objectId, stage: e.propertyValue };
  if (isDeal(e, 'propertyChange') && e.propertyName === 'amount')
    return { kind: 'amount', dealId: e.objectId, amount: e.propertyValue };
  if (isDeal(e, 'deletion')) return { kind: 'deleted', dealId: e.objectId };
  return { kind: 'ignored', why: `${e.subscriptionType ?? e.eventType} ${e.propertyName ?? ''}`.trim() };
}
