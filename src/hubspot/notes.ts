import { AssociationTypes } from '@hubspot/api-client';
import { AssociationSpecAssociationCategoryEnum } from '@hubspot/api-client/lib/codegen/crm/objects/notes/models/AssociationSpec.js';
import type { Redis } from 'ioredis';
import { z } from 'zod';
import { DomainError } from '../domain/errors.ts';
import { type Connection, isUncertain, type Portal, withHubSpot } from './client.ts';

type Deps = Connection & { redis: Redis };

export interface NoteRequest {
  dealId: string;
  /** What makes this note one of a kind (an invoice push id): it is created once per key. */
  key: string;
  /** Text the note's body contains and no other note's does, to recognise it after a lost answer. */
  marker: string;
  /** The note's HTML. */
  body: string;
}

const MARKER_TTL_S = 7 * 24 * 3600;
const ROUNDS = 3;

/**
 * HubSpot has no idempotency key for notes, so a create whose outcome is unknown (a 5xx or a
 * timeout, or a crash before the caller recorded it) is followed by a look for the note, by its
 * marker, before anything is created again. A Redis marker tells a later attempt that an earlier
 * one may have created it.
 */
export async function addNoteOnce(deps: Deps, portal: Portal, note: NoteRequest): Promise<string> {
  const attempted = `hubspot:note:${portal.tenantId}:${note.key}`;
  let uncertain = (await deps.redis.set(attempted, '1', 'EX', MARKER_TTL_S, 'NX')) === null;
  for (let round = 1; ; round++) {
    if (uncertain) {
      const existing = await findNote(deps, portal, note.dealId, note.marker);
      if (existing) return existing;
    }
    if (round > ROUNDS) throw new DomainError('hubspot_error', 'HubSpot did not take the note');
    const created = await createNote(deps, portal, note).catch((error: unknown) => {
      if (isUncertain(error)) return null;
      throw error;
    });
    if (created) return created;
    uncertain = true;
  }
}

const NoteCreated = z.object({ id: z.string() });

function createNote(deps: Deps, portal: Portal, note: NoteRequest): Promise<string> {
  return withHubSpot(
    deps,
    portal,
    async (client) => {
      const created = await client.crm.objects.notes.basicApi.create({
        properties: { hs_timestamp: new Date().toISOString(), hs_note_body: note.body },
        associations: [
          {
            to: { id: note.dealId },
            types: [
              {
                associationCategory: AssociationSpecAssociationCategoryEnum.HubspotDefined,
                associationTypeId: AssociationTypes.noteToDeal,
              },
            ],
          },
        ],
      });
      return NoteCreated.parse(created).id;
    },
    // A second create would be a second note.
    { safeToRepeat: false },
  );
}

const AssociationPage = z.object({
  results: z.array(z.object({ toObjectId: z.coerce.string() })),
  paging: z.object({ next: z.object({ after: z.string() }).nullish() }).nullish(),
});

const NoteBodies = z.object({
  results: z.array(
    z.object({ id: z.string(), properties: z.object({ hs_note_body: z.string().nullish() }) }),
  ),
});

const BATCH_READ_MAX = 100;
const READ = { safeToRepeat: true };

async function findNote(deps: Deps, portal: Portal, dealId: string, marker: string) {
  const ids = await noteIdsOf(deps, portal, dealId);
  for (let i = 0; i < ids.length; i += BATCH_READ_MAX) {
    const inputs = ids.slice(i, i + BATCH_READ_MAX).map((id) => ({ id }));
    const page = NoteBodies.parse(
      await withHubSpot(
        deps,
        portal,
        (client) =>
          client.crm.objects.notes.batchApi.read({
            inputs,
            properties: ['hs_note_body'],
            propertiesWithHistory: [],
          }),
        READ,
      ),
    );
    const found = page.results.find((n) => n.properties.hs_note_body?.includes(marker));
    if (found) return found.id;
  }
  return undefined;
}

async function noteIdsOf(deps: Deps, portal: Portal, dealId: string): Promise<string[]> {
  const ids: string[] = [];
  let after: string | undefined;
  do {
    const cursor = after;
    const page = AssociationPage.parse(
      await withHubSpot(
        deps,
        portal,
        (client) => client.crm.associations.v4.basicApi.getPage('deals', dealId, 'notes', cursor, 500),
        READ,
      ),
    );
    ids.push(...page.results.map((r) => r.toObjectId));
    after = page.paging?.next?.after ?? undefined;
  } while (after);
  return ids;
}
