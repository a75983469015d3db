import { SEARCHABLE_TEXT } from './defaults.ts';
import { parseTimestamp, resolveObjectType, type SandboxState } from './state.ts';
import type { CrmRecord, ObjectTypeName, Portal } from './types.ts';

export interface SearchFilter {
  propertyName?: unknown;
  operator?: unknown;
  value?: unknown;
  values?: unknown;
  highValue?: unknown;
}

export interface SearchRequest {
  filterGroups?: Array<{ filters?: SearchFilter[] }>;
  sorts?: Array<string | { propertyName?: string; direction?: string }>;
  query?: string;
  properties?: string[];
  limit?: number;
  after?: string | number;
}

const OPERATORS = new Set([
  'EQ',
  'NEQ',
  'LT',
  'LTE',
  'GT',
  'GTE',
  'BETWEEN',
  'IN',
  'NOT_IN',
  'HAS_PROPERTY',
  'NOT_HAS_PROPERTY',
  'CONTAINS_TOKEN',
  'NOT_CONTAINS_TOKEN',
]);

export const SEARCH_MAX_LIMIT = 200;
export const SEARCH_MAX_RESULTS = 10_000;

/** Returns a message for the first problem in the request (limits from HubSpot's Aug 2024 search rules). */
export function validateSearch(body: SearchRequest): string | undefined {
  const groups = body.filterGroups ?? [];
  if (!Array.isArray(groups)) return 'filterGroups must be an array';
  if (groups.length > 5) return `Too many filter groups (${groups.length}). The maximum is 5.`;
  let total = 0;
  for (const group of groups) {
    const filters = group?.filters ?? [];
    if (!Array.isArray(filters)) return 'filters must be an array';
    if (filters.length > 10)
      return `Too many filters in a filter group (${filters.length}). The maximum is 10.`;
    total += filters.length;
    for (const f of filters) {
      if (typeof f.propertyName !== 'string' || !f.propertyName) return 'Each filter needs a propertyName.';
      if (typeof f.operator !== 'string' || !OPERATORS.has(f.operator)) {
        return `Invalid operator ${String(f.operator)} for property ${f.propertyName}.`;
      }
      if ((f.operator === 'IN' || f.operator === 'NOT_IN') && !Array.isArray(f.values)) {
        return `Operator ${f.operator} requires values for property ${f.propertyName}.`;
      }
      if (f.operator === 'BETWEEN' && (f.value === undefined || f.highValue === undefined)) {
        return `Operator BETWEEN requires value and highValue for property ${f.propertyName}.`;
      }
    }
  }
  if (total > 25) return `Too many filters (${total}). The maximum is 25 across all filter groups.`;
  if (
    body.limit !== undefined &&
    (typeof body.limit !== 'number' || body.limit < 0 || body.limit > SEARCH_MAX_LIMIT)
  ) {
    return `limit must be between 0 and ${SEARCH_MAX_LIMIT}`;
  }
  if (body.after !== undefined && !/^\d+$/.test(String(body.after)))
    return `Invalid after value: ${String(body.after)}`;
  if (typeof body.query === 'string' && body.query.length > 3000)
    return 'query must be at most 3000 characters';
  return undefined;
}

type Kind = 'number' | 'time' | 'string';

function kindOf(portal: Portal, type: ObjectTypeName, propertyName: string): Kind {
  const def = portal.properties[type].get(propertyName);
  if (def?.type === 'number') return 'number';
  if (def?.type === 'datetime' || def?.type === 'date') return 'time';
  return 'string';
}

function toComparable(kind: Kind, raw: unknown): number | string | undefined {
  if (raw === undefined || raw === null) return undefined;
  const s = String(raw);
  if (kind === 'number') return s === '' || !Number.isFinite(Number(s)) ? undefined : Number(s);
  if (kind === 'time') return parseTimestamp(s);
  return s.toLowerCase();
}

function compare(a: number | string, b: number | string): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  return String(a).localeCompare(String(b));
}

function tokens(text: string): string[] {
  return text
    .toLowerCase()
    .split(/[^\p{L}\p{N}@._-]+/u)
    .filter(Boolean);
}

function containsToken(text: string, wanted: string): boolean {
  const pattern = wanted.toLowerCase();
  if (pattern.includes('*')) {
    const re = new RegExp(`^${pattern.split('*').map(escapeRegExp).join('.*')}$`);
    return tokens(text).some((t) => re.test(t)) || re.test(text.toLowerCase());
  }
  return tokens(text).includes(pattern) || text.toLowerCase() === pattern;
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function matches(state: SandboxState, portal: Portal, record: CrmRecord, filter: SearchFilter): boolean {
  const propertyName = String(filter.propertyName);
  const operator = String(filter.operator);
  // `associations.company` filters by associated record id, as HubSpot search supports.
  if (propertyName.startsWith('associations.')) {
    const toType = resolveObjectType(propertyName.slice('associations.'.length));
    const ids = toType ? state.associationsOf(portal, record.type, record.id, toType).map((e) => e.toId) : [];
    const wanted = Array.isArray(filter.values) ? filter.values.map(String) : [String(filter.value)];
    const hit = ids.some((id) => wanted.includes(id));
    return operator === 'NEQ' || operator === 'NOT_IN' ? !hit : hit;
  }
  const raw = record.properties[propertyName];
  const hasValue = raw !== undefined && raw !== '';
  if (operator === 'HAS_PROPERTY') return hasValue;
  if (operator === 'NOT_HAS_PROPERTY') return !hasValue;
  if (operator === 'CONTAINS_TOKEN') return hasValue && containsToken(raw, String(filter.value ?? ''));
  if (operator === 'NOT_CONTAINS_TOKEN') return !hasValue || !containsToken(raw, String(filter.value ?? ''));

  const kind = kindOf(portal, record.type, propertyName);
  const actual = hasValue ? toComparable(kind, raw) : undefined;
  if (operator === 'IN' || operator === 'NOT_IN') {
    const values = (filter.values as unknown[]).map((v) => toComparable(kind, v));
    const hit = actual !== undefined && values.some((v) => v !== undefined && compare(actual, v) === 0);
    return operator === 'IN' ? hit : !hit;
  }
  const expected = toComparable(kind, filter.value);
  if (operator === 'NEQ')
    return actual === undefined || expected === undefined || compare(actual, expected) !== 0;
  if (actual === undefined || expected === undefined) return false;
  const c = compare(actual, expected);
  switch (operator) {
    case 'EQ':
      return c === 0;
    case 'LT':
      return c < 0;
    case 'LTE':
      return c <= 0;
    case 'GT':
      return c > 0;
    case 'GTE':
      return c >= 0;
    case 'BETWEEN': {
      const high = toComparable(kind, filter.highValue);
      return high !== undefined && c >= 0 && compare(actual, high) <= 0;
    }
    default:
      return false;
  }
}

function matchesQuery(record: CrmRecord, query: string): boolean {
  const words = tokens(query);
  const text = SEARCHABLE_TEXT[record.type].map((p) => record.properties[p] ?? '').join(' ');
  return words.every((w) => tokens(text).some((t) => t.startsWith(w)));
}

export function runSearch(
  state: SandboxState,
  portal: Portal,
  type: ObjectTypeName,
  body: SearchRequest,
): { total: number; page: CrmRecord[]; nextAfter?: string } {
  const groups = (body.filterGroups ?? []).filter((g) => (g.filters ?? []).length > 0);
  let records = [...portal.objects[type].values()].filter((r) => !r.archived);
  // Filters inside a group are ANDed; groups are ORed.
  if (groups.length > 0) {
    records = records.filter((r) =>
      groups.some((g) => (g.filters ?? []).every((f) => matches(state, portal, r, f))),
    );
  }
  if (typeof body.query === 'string' && body.query.trim()) {
    records = records.filter((r) => matchesQuery(r, body.query as string));
  }
  const sorts = (body.sorts ?? []).map((s) =>
    typeof s === 'string'
      ? { propertyName: s.replace(/^-/, ''), descending: s.startsWith('-') }
      : { propertyName: s.propertyName ?? 'hs_object_id', descending: s.direction === 'DESCENDING' },
  );
  records.sort((a, b) => {
    for (const s of sorts) {
      const kind = kindOf(portal, type, s.propertyName);
      const va = toComparable(kind, a.properties[s.propertyName]);
      const vb = toComparable(kind, b.properties[s.propertyName]);
      if (va === vb) continue;
      // Records without a value sort last in either direction.
      if (va === undefined) return 1;
      if (vb === undefined) return -1;
      const c = compare(va, vb);
      if (c !== 0) return s.descending ? -c : c;
    }
    return Number(a.id) - Number(b.id);
  });
  const limit = body.limit ?? 10;
  const after = Number(body.after ?? 0);
  const capped = records.slice(0, SEARCH_MAX_RESULTS);
  const page = capped.slice(after, after + limit);
  const next = after + limit;
  return {
    total: records.length,
    page,
    nextAfter: next < capped.length && limit > 0 ? String(next) : undefined,
  };
}
