import { ALWAYS_RETURNED, ASSOCIATION_TYPE_BY_ID, DEFAULT_READ_PROPERTIES } from './defaults.ts';
import type { SandboxState } from './state.ts';
import type { CrmRecord, ObjectTypeName, Portal, PropertyValue } from './types.ts';

/** Query lists may arrive comma-separated, repeated (what the SDK sends), or both. */
export function parseList(raw: unknown): string[] | undefined {
  if (raw === undefined) return undefined;
  const parts = (Array.isArray(raw) ? raw : [raw]).flatMap((v) =>
    typeof v === 'string' ? v.split(',') : [],
  );
  return parts.map((p) => p.trim()).filter(Boolean);
}

export function bodyList(raw: unknown): string[] | undefined {
  if (!Array.isArray(raw)) return undefined;
  return raw.filter((v): v is string => typeof v === 'string');
}

/**
 * The property map of a read: the requested properties that exist (null when unset), plus the ones
 * HubSpot always adds; the type's default set when none were requested. Unknown names are ignored.
 */
export function selectProperties(
  portal: Portal,
  record: CrmRecord,
  requested: string[] | undefined,
): Record<string, PropertyValue> {
  const defs = portal.properties[record.type];
  const names =
    requested && requested.length > 0
      ? [...requested, ...ALWAYS_RETURNED[record.type]]
      : DEFAULT_READ_PROPERTIES[record.type];
  const out: Record<string, PropertyValue> = {};
  for (const name of names) {
    if (!defs.has(name)) continue;
    out[name] = record.properties[name] ?? null;
  }
  return sortKeys(out);
}

/** Everything that has a value; what HubSpot echoes after a create or update. */
export function allProperties(record: CrmRecord): Record<string, PropertyValue> {
  return sortKeys({ ...record.properties });
}

function sortKeys<T>(obj: Record<string, T>): Record<string, T> {
  return Object.fromEntries(Object.entries(obj).sort(([a], [b]) => a.localeCompare(b)));
}

export function historyOf(portal: Portal, record: CrmRecord, names: string[] | undefined) {
  if (!names || names.length === 0) return undefined;
  const defs = portal.properties[record.type];
  const out: Record<string, unknown[]> = {};
  for (const name of names) {
    if (!defs.has(name)) continue;
    out[name] = (record.history[name] ?? []).map((h) => ({ ...h }));
  }
  return out;
}

export function presentRecord(
  portal: Portal,
  record: CrmRecord,
  opts: { properties?: string[]; propertiesWithHistory?: string[]; all?: boolean } = {},
) {
  const history = historyOf(portal, record, opts.propertiesWithHistory);
  return {
    id: record.id,
    properties: opts.all ? allProperties(record) : selectProperties(portal, record, opts.properties),
    ...(history ? { propertiesWithHistory: history } : {}),
    createdAt: record.createdAt,
    updatedAt: record.updatedAt,
    archived: record.archived,
    ...(record.archivedAt ? { archivedAt: record.archivedAt } : {}),
  };
}

/** Sort order HubSpot uses inside an association list: primary (labelled) types first. */
export function orderedTypeIds(typeIds: Iterable<number>): number[] {
  return [...typeIds].sort((a, b) => {
    const pa = ASSOCIATION_TYPE_BY_ID.get(a)?.label ? 0 : 1;
    const pb = ASSOCIATION_TYPE_BY_ID.get(b)?.label ? 0 : 1;
    return pa - pb || a - b;
  });
}

/** v3 inline associations: `{ companies: { results: [{ id, type }] } }`, one row per (record, type). */
export function inlineAssociations(
  state: SandboxState,
  portal: Portal,
  record: CrmRecord,
  targets: Array<[key: string, type: ObjectTypeName]>,
) {
  const out: Record<string, { results: Array<{ id: string; type: string }> }> = {};
  for (const [key, toType] of targets) {
    const results = state.associationsOf(portal, record.type, record.id, toType).flatMap((edge) =>
      orderedTypeIds(edge.typeIds).map((typeId) => ({
        id: edge.toId,
        type: ASSOCIATION_TYPE_BY_ID.get(typeId)?.name ?? `${typeId}`,
      })),
    );
    if (results.length > 0) out[key] = { results };
  }
  return out;
}
