import { AssociationTypes } from '@hubspot/api-client';
import { z } from 'zod';
import { DomainError } from '../domain/errors.ts';
import { type Connection, isUncertain, type Portal, request, withHubSpot } from './client.ts';

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
 * Notes that must each exist once, 100 per call. HubSpot has no idempotency key for notes, so a
 * create whose outcome is unknown (a 5xx or a timeout, or a crash before the caller recorded it)
 * is followed by a look for the note, by its marker, before it is created again. A Redis marker
 * per note tells a later attempt that an earlier one may have created it. Answers the notes' ids
 * in the order given.
 */
export async function addNotesOnce(
  deps: Connection,
  portal: Portal,
  notes: NoteRequest[],
): Promise<string[]> {
  const ids = new Map<NoteRequest, string>();
  // One marker per note, set all at once: a batch of 100 is not 100 round trips to Redis in turn.
  const first = await Promise.all(
    notes.map(
      async (note) =>
        (await deps.redis.set(
          `hubspot:note:${portal.tenantId}:${note.key}`,
          '1',
          'EX',
          MARKER_TTL_S,
          'NX',
        )) !== null,
    ),
  );
  let todo = notes.filter((_, i) => first[i]);
  let uncertain = notes.filter((_, i) => !first[i]);
  for (let round = 1; ; round++) {
    for (const note of uncertain) {
      const existing = await findNote(deps, portal, note.dealId, note.marker);
      if (existing) ids.set(note, existing);
      else todo.push(note);
    }
    if (todo.length === 0) return notes.map((n) => ids.get(n)!);
    if (round > ROUNDS) throw new DomainError('hubspot_error', 'HubSpot did not take the notes');
    const created = await addNotes(deps, portal, todo);
    uncertain = todo.filter((_, i) => created.ids[i] === null);
    todo.forEach((note, i) => {
      const id = created.ids[i];
      if (id) ids.set(note, id);
    });
    todo = [];
  }
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
const READ = { safeToRepeat: true, background: true };

async function findNote(deps: Connection, portal: Portal, dealId: string, marker: string) {
  const ids = await noteIdsOf(deps, portal, dealId);
  for (let i = 0; i < ids.length; i += BATCH_READ_MAX) {
    const inputs = ids.slice(i, i + BATCH_READ_MAX).map((id) => ({ id }));
    const page = await withHubSpot(
      deps,
      portal,
      (client) =>
        request(
          client,
          {
            method: 'POST',
            path: '/crm/objects/2026-03/notes/batch/read',
            body: { inputs, properties: ['hs_note_body'], propertiesWithHistory: [] },
          },
          NoteBodies,
        ),
      READ,
    );
    const found = page.results.find((n) => n.properties.hs_note_body?.includes(marker));
    if (found) return found.id;
  }
  return undefined;
}

async function noteIdsOf(deps: Connection, portal: Portal, dealId: string): Promise<string[]> {
  const ids: string[] = [];
  let after: string | undefined;
  do {
    const qs: Record<string, string> = { limit: '500', ...(after ? { after } : {}) };
    const page = await withHubSpot(
      deps,
      portal,
      (client) =>
        request(
          client,
          {
            method: 'GET',
            path: `/crm/objects/2026-03/0-3/${encodeURIComponent(dealId)}/associations/notes`,
            qs,
          },
          AssociationPage,
        ),
      READ,
    );
    ids.push(...page.results.map((r) => r.toObjectId));
    after = page.paging?.next?.after ?? undefined;
  } while (after);
  return ids;
}

const BatchCreated = z.object({ results: z.array(z.object({ id: z.string() })) });
const NOTES_PER_CALL = 100;

/**
 * Many notes, each on its deal, 100 per call. HubSpot creates a batch whole or not at all; a
 * batch whose answer was lost is not sent again (it may exist): its notes are reported uncertain.
 */
export async function addNotes(
  deps: Connection,
  portal: Portal,
  notes: { dealId: string; body: string }[],
): Promise<{ ids: (string | null)[] }> {
  const ids: (string | null)[] = [];
  for (let i = 0; i < notes.length; i += NOTES_PER_CALL) {
    const chunk = notes.slice(i, i + NOTES_PER_CALL);
    const now = new Date().toISOString();
    const created = await withHubSpot(
      deps,
      portal,
      (client) =>
        request(
          client,
          {
            method: 'POST',
            path: '/crm/objects/2026-03/notes/batch/create',
            body: {
              inputs: chunk.map((n) => ({
                properties: { hs_timestamp: now, hs_note_body: n.body },
                associations: [
                  {
                    to: { id: n.dealId },
                    types: [
                      {
                        associationCategory: 'HUBSPOT_DEFINED',
                        associationTypeId: AssociationTypes.noteToDeal,
                      },
                    ],
                  },
                ],
              })),
            },
          },
          BatchCreated,
        ),
      { safeToRepeat: false, background: true },
    ).catch((error: unknown) => {
      if (isUncertain(error)) return null;
      throw error;
    });
    // HubSpot answers the created notes in the order of the inputs.
    ids.push(...chunk.map((_, j) => (created ? (created.results[j]?.id ?? null) : null)));
  }
  return { ids };
}
