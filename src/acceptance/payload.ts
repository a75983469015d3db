import { z } from 'zod';
import { Decimal, Percent, WebUrl } from '../domain/values.ts';

/** The acceptance webhook's body (DESIGN §4.4; JSON Schema in webhooks/acceptance/). */
export const AcceptancePayload = z.strictObject({
  id: z.string().min(1).max(200),
  portalId: z.union([z.string(), z.number()]).transform(String),
  dealId: z.union([z.string(), z.number()]).transform(String),
  milestone: z.union([
    z.strictObject({ id: z.string().min(1) }),
    z.strictObject({ key: z.string().min(1) }),
    z.strictObject({ name: z.string().min(1) }),
  ]),
  acceptedAt: z.iso.datetime({ offset: true }),
  acceptedBy: z.strictObject({ name: z.string().max(200).optional(), email: z.email().optional() }),
  portion: z
    .union([
      z.strictObject({ percent: Percent }),
      z.strictObject({ amount: Decimal, currency: z.string().length(3).optional() }),
    ])
    .prefault({ percent: 100 }),
  evidence: z
    .array(z.strictObject({ name: z.string().min(1).max(300), url: WebUrl }))
    .max(20)
    .default([]),
  note: z.string().max(2000).optional(),
});
export type AcceptancePayload = z.output<typeof AcceptancePayload>;

/** Whose secret signs the body: read before verification, only to find that secret. */
export function claimedPortal(body: unknown): string | undefined {
  const portal = (body as { portalId?: unknown } | null | undefined)?.portalId;
  return typeof portal === 'string' || typeof portal === 'number' ? String(portal) : undefined;
}
