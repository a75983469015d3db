import { faults, QboFault } from './faults.ts';
import type { Realm } from './realm.ts';
import { ENTITY_NAMES, type Entity, type EntityName } from './types.ts';
import { clone, qboDateTime } from './util.ts';

const MAX_LOOKBACK_MS = 30 * 24 * 3600 * 1000;
const MAX_OBJECTS = 1000;
const ISO_DATE_TIME = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/;

/** Change data capture: changed and deleted records per entity since a point at most 30 days back. */
export function changeDataCapture(realm: Realm, params: URLSearchParams): unknown {
  const entitiesParam = params.get('entities');
  if (!entitiesParam) throw faults.requiredParam('entities');
  const changedSince = params.get('changedSince') ?? '';
  // An unencoded '+' in an offset arrives as a space: QBO can't parse that either.
  if (!ISO_DATE_TIME.test(changedSince)) {
    throw new QboFault(
      400,
      '2020',
      'Required param missing, need to supply the required value for the API',
      `Required parameter changedSince is missing or invalid. Supplied value:${changedSince}`,
      'ValidationFault',
      'changedSince',
    );
  }
  const since = Date.parse(changedSince);
  if (Date.now() - since > MAX_LOOKBACK_MS) {
    throw faults.businessValidation(
      'Business Validation Error: changedSince cannot be more than 30 days in the past.',
      'changedSince',
    );
  }
  let budget = MAX_OBJECTS;
  const responses = entitiesParam.split(',').map((raw) => {
    const entity = ENTITY_NAMES.find((e) => e.toLowerCase() === raw.trim().toLowerCase());
    if (!entity) throw faults.queryValidation(`Invalid entity ${raw.trim()} in CDC request`);
    const rows: Entity[] = [
      ...realm.changedSince(entity, since).map((e) => clone(e)),
      ...deletedSince(realm, entity, since),
    ].slice(0, Math.max(0, budget));
    budget -= rows.length;
    return rows.length === 0 ? {} : { [entity]: rows, startPosition: 1, maxResults: rows.length };
  });
  return { CDCResponse: [{ QueryResponse: responses }] };
}

function deletedSince(realm: Realm, entity: EntityName, since: number): Entity[] {
  return realm.tombstones
    .filter((t) => t.entity === entity && t.at >= since)
    .map(
      (t) =>
        ({
          Id: t.id,
          status: 'Deleted',
          domain: 'QBO',
          MetaData: { LastUpdatedTime: qboDateTime(new Date(t.at)) },
        }) as unknown as Entity,
    );
}
