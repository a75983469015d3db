import { faults } from './faults.ts';
import type { Realm } from './realm.ts';
import { ENTITY_NAMES, type Entity, type EntityName, NAME_LISTS } from './types.ts';
import { clone, isRecord } from './util.ts';

/**
 * Intuit's query language subset:
 *   SELECT * | COUNT(*) | f1, f2 FROM Entity [WHERE cond (AND cond)*]
 *   [ORDERBY field [ASC|DESC] (, …)*] [STARTPOSITION n] [MAXRESULTS m]
 * No OR, no NOT, no parentheses in WHERE — QBO rejects them too.
 */

type Literal = string | number | boolean;

export type Condition =
  | { field: string; op: '=' | '<' | '>' | '<=' | '>='; value: Literal }
  | { field: string; op: 'IN'; values: Literal[] }
  | { field: string; op: 'LIKE'; pattern: string };

export interface ParsedQuery {
  entity: EntityName;
  count: boolean;
  fields: string[] | null;
  where: Condition[];
  orderBy: Array<{ field: string; desc: boolean }>;
  startPosition: number;
  maxResults: number;
}

interface Token {
  kind: 'ident' | 'string' | 'number' | 'op' | 'punct' | 'eof';
  text: string;
  value?: string;
  column: number;
}

/** Without MAXRESULTS QBO pages at 100; 1000 is the ceiling. */
export const DEFAULT_MAX_RESULTS = 100;
export const MAX_MAX_RESULTS = 1000;

function tokenize(input: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < input.length) {
    const ch = input[i] as string;
    if (/\s/.test(ch)) {
      i++;
      continue;
    }
    const column = i + 1;
    if (ch === "'") {
      let value = '';
      i++;
      let closed = false;
      while (i < input.length) {
        const c = input[i] as string;
        if (c === '\\' && i + 1 < input.length) {
          value += input[i + 1];
          i += 2;
          continue;
        }
        if (c === "'") {
          closed = true;
          i++;
          break;
        }
        value += c;
        i++;
      }
      if (!closed)
        throw faults.queryParse(
          `Lexical error at line 1, column ${input.length + 1}. Unterminated string literal.`,
        );
      tokens.push({ kind: 'string', text: input.slice(column - 1, i), value, column });
      continue;
    }
    const num = /^-?\d+(\.\d+)?/.exec(input.slice(i));
    if (num && (ch !== '-' || /\d/.test(input[i + 1] ?? ''))) {
      tokens.push({ kind: 'number', text: num[0], column });
      i += num[0].length;
      continue;
    }
    const ident = /^[A-Za-z_][A-Za-z0-9_]*/.exec(input.slice(i));
    if (ident) {
      tokens.push({ kind: 'ident', text: ident[0], column });
      i += ident[0].length;
      continue;
    }
    const op = /^(<=|>=|=|<|>)/.exec(input.slice(i));
    if (op) {
      tokens.push({ kind: 'op', text: op[0], column });
      i += op[0].length;
      continue;
    }
    if ('(),*.'.includes(ch)) {
      tokens.push({ kind: 'punct', text: ch, column });
      i++;
      continue;
    }
    throw faults.queryParse(`Lexical error at line 1, column ${column}. Encountered: "${ch}"`);
  }
  tokens.push({ kind: 'eof', text: '<EOF>', column: input.length + 1 });
  return tokens;
}

class Parser {
  private pos = 0;
  constructor(private readonly tokens: Token[]) {}

  private peek(): Token {
    return this.tokens[this.pos] as Token;
  }

  private next(): Token {
    const token = this.peek();
    if (token.kind !== 'eof') this.pos++;
    return token;
  }

  private fail(expected: string): never {
    const t = this.peek();
    const kind = t.kind === 'eof' ? '<EOF>' : `<${t.kind.toUpperCase()}> "${t.text}"`;
    throw faults.queryParse(
      `Encountered " ${kind} " at line 1, column ${t.column}. Was expecting: ${expected}`,
    );
  }

  private isKeyword(word: string): boolean {
    const t = this.peek();
    return t.kind === 'ident' && t.text.toLowerCase() === word;
  }

  private keyword(word: string): void {
    if (!this.isKeyword(word)) this.fail(`"${word.toUpperCase()}"`);
    this.next();
  }

  private punct(p: string): void {
    const t = this.peek();
    if (t.kind !== 'punct' || t.text !== p) this.fail(`"${p}"`);
    this.next();
  }

  private isPunct(p: string): boolean {
    const t = this.peek();
    return t.kind === 'punct' && t.text === p;
  }

  private field(): string {
    const t = this.peek();
    if (t.kind !== 'ident') this.fail('<IDENTIFIER>');
    let name = this.next().text;
    while (this.isPunct('.')) {
      this.next();
      const part = this.peek();
      if (part.kind !== 'ident') this.fail('<IDENTIFIER>');
      name += `.${this.next().text}`;
    }
    return name;
  }

  private literal(): Literal {
    const t = this.peek();
    if (t.kind === 'string') return this.next().value ?? '';
    if (t.kind === 'number') return Number(this.next().text);
    if (t.kind === 'ident' && ['true', 'false'].includes(t.text.toLowerCase())) {
      return this.next().text.toLowerCase() === 'true';
    }
    return this.fail('<STRING> | <NUMBER> | true | false');
  }

  private integer(): number {
    const t = this.peek();
    if (t.kind !== 'number' || !/^\d+$/.test(t.text)) this.fail('<INTEGER>');
    return Number(this.next().text);
  }

  parse(): ParsedQuery {
    this.keyword('select');
    let count = false;
    let fields: string[] | null = null;
    if (this.isPunct('*')) {
      this.next();
    } else if (this.isKeyword('count')) {
      this.next();
      this.punct('(');
      this.punct('*');
      this.punct(')');
      count = true;
    } else {
      fields = [this.field()];
      while (this.isPunct(',')) {
        this.next();
        fields.push(this.field());
      }
    }
    this.keyword('from');
    const entityToken = this.peek();
    if (entityToken.kind !== 'ident') this.fail('<IDENTIFIER>');
    const entityText = this.next().text;
    const entity = ENTITY_NAMES.find((e) => e.toLowerCase() === entityText.toLowerCase());
    if (!entity) throw faults.queryValidation(`Invalid entity ${entityText}`);

    const where: Condition[] = [];
    if (this.isKeyword('where')) {
      this.next();
      where.push(this.condition());
      while (this.isKeyword('and')) {
        this.next();
        where.push(this.condition());
      }
    }

    const orderBy: ParsedQuery['orderBy'] = [];
    if (this.isKeyword('orderby') || this.isKeyword('order')) {
      if (this.next().text.toLowerCase() === 'order') this.keyword('by');
      do {
        if (this.isPunct(',')) this.next();
        const field = this.field();
        let desc = false;
        if (this.isKeyword('asc')) this.next();
        else if (this.isKeyword('desc')) {
          this.next();
          desc = true;
        }
        orderBy.push({ field, desc });
      } while (this.isPunct(','));
    }

    let startPosition = 1;
    let maxResults = DEFAULT_MAX_RESULTS;
    for (let i = 0; i < 2; i++) {
      if (this.isKeyword('startposition')) {
        this.next();
        startPosition = Math.max(1, this.integer());
      } else if (this.isKeyword('maxresults')) {
        this.next();
        maxResults = Math.min(MAX_MAX_RESULTS, this.integer());
      }
    }
    if (this.peek().kind !== 'eof') this.fail('<EOF>');
    return { entity, count, fields, where, orderBy, startPosition, maxResults };
  }

  private condition(): Condition {
    if (this.isPunct('(')) this.fail('<IDENTIFIER>');
    const field = this.field();
    if (this.isKeyword('in')) {
      this.next();
      this.punct('(');
      const values = [this.literal()];
      while (this.isPunct(',')) {
        this.next();
        values.push(this.literal());
      }
      this.punct(')');
      return { field, op: 'IN', values };
    }
    if (this.isKeyword('like')) {
      this.next();
      const t = this.peek();
      if (t.kind !== 'string') this.fail('<STRING>');
      return { field, op: 'LIKE', pattern: this.next().value ?? '' };
    }
    const t = this.peek();
    if (t.kind !== 'op') this.fail('"=" | "<" | ">" | "<=" | ">=" | "IN" | "LIKE"');
    const op = this.next().text as '=' | '<' | '>' | '<=' | '>=';
    return { field, op, value: this.literal() };
  }
}

export function parseQuery(text: string): ParsedQuery {
  if (!text.trim())
    throw faults.queryParse('Encountered " <EOF> " at line 1, column 1. Was expecting: "SELECT"');
  return new Parser(tokenize(text)).parse();
}

/** Field names in QBO queries are case-insensitive; Refs compare by their `value`. */
export function resolveField(record: unknown, path: string): unknown {
  let current: unknown = record;
  for (const part of path.split('.')) {
    if (!isRecord(current)) return undefined;
    const key = Object.keys(current).find((k) => k.toLowerCase() === part.toLowerCase());
    current = key === undefined ? undefined : current[key];
  }
  if (isRecord(current) && 'value' in current) return current.value;
  // EmailAddress fields (PrimaryEmailAddr, BillEmail) filter on their address, as in QBO.
  if (isRecord(current) && 'Address' in current) return current.Address;
  return current;
}

/**
 * Every value a path reaches, through lists too: `AttachableRef.EntityRef.value` on an Attachable
 * (its AttachableRef is a list) matches when any of its references does, as QBO's does.
 */
function resolveAll(record: unknown, path: string): unknown[] {
  const [part, ...rest] = path.split('.');
  if (Array.isArray(record)) return record.flatMap((item) => resolveAll(item, path));
  if (rest.length === 0) return [resolveField(record, path)];
  if (!isRecord(record)) return [];
  const key = Object.keys(record).find((k) => k.toLowerCase() === part!.toLowerCase());
  return key === undefined ? [] : resolveAll(record[key], rest.join('.'));
}

const DATE_TIME = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})?)?$/;

function comparable(a: unknown, b: Literal): [number, number] | [string, string] | null {
  if (a === undefined || a === null) return null;
  if (typeof b === 'boolean') return typeof a === 'boolean' ? [Number(a), Number(b)] : null;
  const aNum =
    typeof a === 'number' ? a : typeof a === 'string' && /^-?\d+(\.\d+)?$/.test(a) ? Number(a) : NaN;
  const bNum = typeof b === 'number' ? b : /^-?\d+(\.\d+)?$/.test(b) ? Number(b) : NaN;
  if (!Number.isNaN(aNum) && !Number.isNaN(bNum)) return [aNum, bNum];
  if (typeof a === 'string' && DATE_TIME.test(a) && DATE_TIME.test(String(b))) {
    const toMs = (s: string) => Date.parse(s.length === 10 ? `${s}T00:00:00Z` : s);
    return [toMs(a), toMs(String(b))];
  }
  if (typeof a === 'boolean' || typeof a === 'object') return null;
  // Intuit matches names case-insensitively (DisplayName = 'acme corp' finds "Acme Corp").
  return [String(a).toLowerCase(), String(b).toLowerCase()];
}

function matches(record: Entity, cond: Condition): boolean {
  return resolveAll(record, cond.field).some((actual) => matchesValue(actual, cond));
}

function matchesValue(actual: unknown, cond: Condition): boolean {
  switch (cond.op) {
    case 'IN':
      return cond.values.some((v) => {
        const pair = comparable(actual, v);
        return pair !== null && pair[0] === pair[1];
      });
    case 'LIKE': {
      if (typeof actual !== 'string') return false;
      const regex = new RegExp(
        `^${cond.pattern
          .split('%')
          .map((s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
          .join('.*')}$`,
        'is',
      );
      return regex.test(actual);
    }
    default: {
      const pair = comparable(actual, cond.value);
      if (pair === null) return false;
      const [a, b] = pair;
      switch (cond.op) {
        case '=':
          return a === b;
        case '<':
          return a < b;
        case '>':
          return a > b;
        case '<=':
          return a <= b;
        case '>=':
          return a >= b;
      }
    }
  }
}

function compareValues(a: unknown, b: unknown): number {
  if (a === b) return 0;
  if (a === undefined || a === null) return -1;
  if (b === undefined || b === null) return 1;
  const numeric = (v: unknown) =>
    typeof v === 'number' ? v : typeof v === 'string' && /^-?\d+(\.\d+)?$/.test(v) ? Number(v) : NaN;
  const [na, nb] = [numeric(a), numeric(b)];
  if (!Number.isNaN(na) && !Number.isNaN(nb)) return na - nb;
  return String(a).localeCompare(String(b));
}

export interface QueryResult {
  entity: EntityName;
  totalCount: number;
  rows: Entity[];
  startPosition: number;
}

export function runQuery(realm: Realm, q: ParsedQuery): QueryResult {
  let rows = realm.list(q.entity);
  const mentionsActive = q.where.some((c) => c.field.toLowerCase() === 'active');
  if (NAME_LISTS.has(q.entity) && !mentionsActive) rows = rows.filter((r) => r.Active !== false);
  rows = rows.filter((r) => q.where.every((c) => matches(r, c)));
  const order = q.orderBy.length > 0 ? q.orderBy : [{ field: 'Id', desc: false }];
  rows = [...rows].sort((x, y) => {
    for (const { field, desc } of order) {
      const diff = compareValues(resolveField(x, field), resolveField(y, field));
      if (diff !== 0) return desc ? -diff : diff;
    }
    return 0;
  });
  const totalCount = rows.length;
  const page = rows
    .slice(q.startPosition - 1, q.startPosition - 1 + q.maxResults)
    .map((r) => project(r, q.fields));
  return { entity: q.entity, totalCount, rows: page, startPosition: q.startPosition };
}

function project(record: Entity, fields: string[] | null): Entity {
  if (!fields) return clone(record);
  const out: Record<string, unknown> = {};
  for (const field of fields) {
    const top = field.split('.')[0] ?? field;
    const key = Object.keys(record).find((k) => k.toLowerCase() === top.toLowerCase());
    if (key !== undefined) out[key] = clone(record[key]);
  }
  return { ...out, domain: 'QBO', sparse: true } as unknown as Entity;
}

/** The wire shape: an empty result has no entity key at all. */
export function queryResponseBody(result: QueryResult, count: boolean): Record<string, unknown> {
  if (count) return { totalCount: result.totalCount };
  if (result.rows.length === 0) return {};
  return {
    [result.entity]: result.rows,
    startPosition: result.startPosition,
    maxResults: result.rows.length,
  };
}
