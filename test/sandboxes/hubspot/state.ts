import {
  ASSOCIATION_TYPE_BY_ID,
  CREATED_PROPERTY,
  DEFAULT_CURRENCIES,
  DEFAULT_PIPELINE,
  defaultGroups,
  defaultProperties,
  LAST_MODIFIED_PROPERTY,
} from './defaults.ts';
import type { PropertyValidationFailure } from './errors.ts';
import type {
  AccessTokenRecord,
  AssociationEdge,
  AuthCodeRecord,
  CrmRecord,
  ObjectTypeName,
  Portal,
  PropertyDefinition,
  RefreshTokenRecord,
  RequestLogEntry,
  TokenRequestEntry,
} from './types.ts';

export interface AddPortalOptions {
  hubDomain?: string;
  userId?: number;
  userEmail?: string;
  /** the account's company currency; deals without deal_currency_code are in this currency */
  companyCurrency?: string;
  /** currencies enabled in the account (deal_currency_code must be one of these) */
  currencies?: string[];
}

/** Roles a HubSpot account might have set up (Settings > Users & Teams > Roles). */
const DEFAULT_ROLES = [
  { id: '1001', name: 'Sales rep' },
  { id: '1002', name: 'Finance' },
];

const OBJECT_TYPES: ObjectTypeName[] = ['deals', 'companies', 'contacts', 'notes', 'tasks'];

function perType<T>(make: (type: ObjectTypeName) => T): Record<ObjectTypeName, T> {
  return {
    deals: make('deals'),
    companies: make('companies'),
    contacts: make('contacts'),
    notes: make('notes'),
    tasks: make('tasks'),
  };
}

export function resolveObjectType(raw: string): ObjectTypeName | undefined {
  const key = raw.toLowerCase();
  const aliases: Record<string, ObjectTypeName> = {
    deals: 'deals',
    deal: 'deals',
    '0-3': 'deals',
    companies: 'companies',
    company: 'companies',
    '0-2': 'companies',
    contacts: 'contacts',
    contact: 'contacts',
    '0-1': 'contacts',
    notes: 'notes',
    note: 'notes',
    '0-46': 'notes',
    tasks: 'tasks',
    task: 'tasks',
    '0-27': 'tasks',
  };
  return aliases[key];
}

/** Accepts epoch ms or an ISO string; returns epoch ms or undefined if unparseable. */
export function parseTimestamp(value: string): number | undefined {
  if (/^-?\d+$/.test(value)) return Number(value);
  if (!/^\d{4}-\d{2}-\d{2}/.test(value)) return undefined;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? undefined : ms;
}

export class SandboxState {
  readonly portals = new Map<number, Portal>();
  readonly accessTokens = new Map<string, AccessTokenRecord>();
  readonly refreshTokens = new Map<string, RefreshTokenRecord>();
  readonly authCodes = new Map<string, AuthCodeRecord>();
  readonly requestLog: RequestLogEntry[] = [];
  readonly tokenRequestLog: TokenRequestEntry[] = [];
  private nextId = 10_000_000_001;

  addPortal(portalId: number, opts: AddPortalOptions = {}): Portal {
    const existing = this.portals.get(portalId);
    if (existing) return existing;
    const currencies = opts.currencies ?? DEFAULT_CURRENCIES;
    const userId = opts.userId ?? 45_678_000 + (portalId % 1000);
    const userEmail = opts.userEmail ?? `admin@portal-${portalId}.example.com`;
    const portal: Portal = {
      id: portalId,
      hubDomain: opts.hubDomain ?? `portal-${portalId}.example.com`,
      userId,
      userEmail,
      companyCurrency: opts.companyCurrency ?? currencies[0] ?? 'USD',
      currencies: [...currencies],
      objects: perType(() => new Map()),
      associations: new Map(),
      properties: perType((type) => new Map(defaultProperties(type).map((p) => [p.name, p]))),
      groups: perType((type) => new Map(defaultGroups(type).map((g) => [g.name, g]))),
      pipelines: [structuredClone(DEFAULT_PIPELINE)],
      // The installing user owns the seeded deals: the seed sets hubspot_owner_id to their user id.
      owners: [{ id: String(userId), userId, email: userEmail, firstName: 'Portal', lastName: 'Admin' }],
      users: [
        {
          id: userId,
          email: userEmail,
          firstName: 'Portal',
          lastName: 'Admin',
          superAdmin: true,
          roleIds: [],
        },
      ],
      roles: structuredClone(DEFAULT_ROLES),
    };
    this.portals.set(portalId, portal);
    return portal;
  }

  requirePortal(portalId: number): Portal {
    const portal = this.portals.get(portalId);
    if (!portal) throw new Error(`HubSpot sandbox: portal ${portalId} does not exist (call addPortal first)`);
    return portal;
  }

  allocateId(requested?: string | number): string {
    if (requested !== undefined) {
      const n = Number(requested);
      if (Number.isSafeInteger(n) && n >= this.nextId) this.nextId = n + 1;
      return String(requested);
    }
    return String(this.nextId++);
  }

  getRecord(portal: Portal, type: ObjectTypeName, id: string): CrmRecord | undefined {
    return portal.objects[type].get(id);
  }

  /** Checks and normalises property writes the way HubSpot's object APIs do. */
  validateProperties(
    portal: Portal,
    type: ObjectTypeName,
    input: Record<string, unknown>,
    existing?: CrmRecord,
  ): { values: Record<string, string>; failures: PropertyValidationFailure[] } {
    const values: Record<string, string> = {};
    const failures: PropertyValidationFailure[] = [];
    const defs = portal.properties[type];
    for (const [name, raw] of Object.entries(input)) {
      const def = defs.get(name);
      if (!def || def.archived) {
        failures.push({ name, error: 'PROPERTY_DOESNT_EXIST', message: `Property "${name}" does not exist` });
        continue;
      }
      if (def.readOnlyValue || def.calculated) {
        failures.push({
          name,
          error: 'READ_ONLY_VALUE',
          message: `"${name}" is a read only property; its value cannot be set.`,
        });
        continue;
      }
      const value =
        raw === null || raw === undefined ? '' : typeof raw === 'object' ? JSON.stringify(raw) : String(raw);
      const checked = this.checkValue(portal, type, def, value, { ...existing?.properties, ...input });
      if (typeof checked === 'string') values[name] = checked;
      else failures.push({ name, ...checked });
    }
    return { values, failures };
  }

  private checkValue(
    portal: Portal,
    type: ObjectTypeName,
    def: PropertyDefinition,
    value: string,
    merged: Record<string, unknown>,
  ): string | { error: string; message: string } {
    // An empty string clears a property in HubSpot, whatever its type.
    if (value === '') return '';
    const invalid = (error: string, why: string) => ({
      error,
      message: `${value} was not a valid ${why}. Check the property "${def.name}" definition.`,
    });
    if (def.type === 'number') {
      return value.trim() !== '' && Number.isFinite(Number(value))
        ? value
        : invalid('INVALID_FLOAT', 'number');
    }
    if (def.type === 'datetime') {
      const ms = parseTimestamp(value);
      return ms === undefined ? invalid('INVALID_DATE', 'datetime') : new Date(ms).toISOString();
    }
    if (def.type === 'date') {
      const ms = parseTimestamp(value);
      if (ms === undefined) return invalid('INVALID_DATE', 'date');
      if (ms % 86_400_000 !== 0) {
        return {
          error: 'INVALID_DATE',
          message: `${value} is at ${new Date(ms).toISOString()}, which is not midnight!`,
        };
      }
      return new Date(ms).toISOString().slice(0, 10);
    }
    if (def.type === 'bool') {
      return value === 'true' || value === 'false' ? value : invalid('INVALID_OPTION', 'option');
    }
    if (def.type === 'enumeration') {
      const allowed = this.allowedOptions(portal, type, def, merged);
      if (allowed === undefined) return value;
      const parts = def.fieldType === 'checkbox' ? value.split(';') : [value];
      const bad = parts.find((p) => !allowed.includes(p));
      return bad === undefined ? value : invalid('INVALID_OPTION', 'option');
    }
    return value;
  }

  /** undefined = free-form (external options such as owners). */
  private allowedOptions(
    portal: Portal,
    type: ObjectTypeName,
    def: PropertyDefinition,
    merged: Record<string, unknown>,
  ): string[] | undefined {
    if (type === 'deals' && def.name === 'dealstage') {
      const pipelineId = typeof merged.pipeline === 'string' && merged.pipeline ? merged.pipeline : 'default';
      const pipeline = portal.pipelines.find((p) => p.id === pipelineId);
      return pipeline ? pipeline.stages.map((s) => s.id) : [];
    }
    if (type === 'deals' && def.name === 'pipeline') return portal.pipelines.map((p) => p.id);
    if (type === 'deals' && def.name === 'deal_currency_code') return portal.currencies;
    if (def.externalOptions || def.options.length === 0) return undefined;
    return def.options.map((o) => o.value);
  }

  createRecord(
    portal: Portal,
    type: ObjectTypeName,
    values: Record<string, string>,
    opts: { id?: string | number; createdAt?: string; sourceType?: string; sourceId?: string } = {},
  ): CrmRecord {
    const id = this.allocateId(opts.id);
    // A back-dated (seeded) record was last modified when it was created, not when the sandbox started.
    const createdAt = opts.createdAt ?? new Date().toISOString();
    const record: CrmRecord = {
      id,
      type,
      properties: {},
      history: {},
      createdAt,
      updatedAt: createdAt,
      archived: false,
    };
    const system: Record<string, string> = {
      [CREATED_PROPERTY[type]]: createdAt,
      [LAST_MODIFIED_PROPERTY[type]]: createdAt,
      hs_object_id: id,
    };
    if (type === 'deals' && values.pipeline === undefined) system.pipeline = 'default';
    this.writeValues(record, { ...system, ...values }, opts.sourceType ?? 'API', opts.sourceId, createdAt);
    this.refreshCalculated(portal, record);
    portal.objects[type].set(id, record);
    return record;
  }

  updateRecord(
    portal: Portal,
    record: CrmRecord,
    values: Record<string, string>,
    sourceType = 'API',
    sourceId?: string,
  ): void {
    const now = new Date().toISOString();
    this.writeValues(record, { ...values, [LAST_MODIFIED_PROPERTY[record.type]]: now }, sourceType, sourceId);
    record.updatedAt = now;
    this.refreshCalculated(portal, record);
  }

  private writeValues(
    record: CrmRecord,
    values: Record<string, string>,
    sourceType: string,
    sourceId?: string,
    timestamp = new Date().toISOString(),
  ): void {
    for (const [name, value] of Object.entries(values)) {
      record.properties[name] = value;
      const entry = { value, timestamp, sourceType, ...(sourceId ? { sourceId } : {}) };
      const history = record.history[name] ?? [];
      history.unshift(entry);
      record.history[name] = history;
    }
  }

  // Deal-closed flags are derived from the stage metadata, as HubSpot calculates them.
  private refreshCalculated(portal: Portal, record: CrmRecord): void {
    if (record.type !== 'deals') return;
    const pipeline = portal.pipelines.find((p) => p.id === record.properties.pipeline);
    const stage = pipeline?.stages.find((s) => s.id === record.properties.dealstage);
    record.properties.hs_is_closed = String(stage?.metadata.isClosed === 'true');
    record.properties.hs_is_closed_won = String(
      stage?.metadata.isClosed === 'true' && stage.metadata.probability === '1.0',
    );
  }

  archiveRecord(record: CrmRecord): void {
    record.archived = true;
    record.archivedAt = new Date().toISOString();
    record.updatedAt = record.archivedAt;
  }

  /** Adds an association (and its inverse, and the unlabeled companion of a primary one). */
  associate(portal: Portal, fromType: ObjectTypeName, fromId: string, toId: string, typeId: number): void {
    const def = ASSOCIATION_TYPE_BY_ID.get(typeId);
    if (!def || def.from !== fromType) {
      throw new Error(`HubSpot sandbox: association type ${typeId} does not start at ${fromType}`);
    }
    const ids = def.unlabeled ? [typeId, def.unlabeled] : [typeId];
    for (const id of ids) {
      const d = ASSOCIATION_TYPE_BY_ID.get(id)!;
      this.addEdge(portal, d.from, fromId, d.to, toId, id);
      this.addEdge(portal, d.to, toId, d.from, fromId, d.inverse);
    }
  }

  private addEdge(
    portal: Portal,
    fromType: ObjectTypeName,
    fromId: string,
    toType: ObjectTypeName,
    toId: string,
    typeId: number,
  ): void {
    const key = `${fromType}:${fromId}`;
    const edges = portal.associations.get(key) ?? [];
    let edge = edges.find((e) => e.toType === toType && e.toId === toId);
    if (!edge) {
      edge = { fromType, fromId, toType, toId, typeIds: new Set() };
      edges.push(edge);
    }
    edge.typeIds.add(typeId);
    portal.associations.set(key, edges);
  }

  /** Associations from one record to live (non-archived) records of `toType`. */
  associationsOf(
    portal: Portal,
    fromType: ObjectTypeName,
    fromId: string,
    toType: ObjectTypeName,
  ): AssociationEdge[] {
    const edges = portal.associations.get(`${fromType}:${fromId}`) ?? [];
    return edges.filter((e) => e.toType === toType && portal.objects[toType].get(e.toId)?.archived === false);
  }

  objectTypes(): ObjectTypeName[] {
    return OBJECT_TYPES;
  }
}
