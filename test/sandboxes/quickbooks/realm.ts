import { seedRealm } from './seed.ts';
import type { Entity, EntityName, RealmInput, RealmSettings, WebhookOperation } from './types.ts';
import { clone, qboDateTime } from './util.ts';

export interface StoredReply {
  status: number;
  contentType: string;
  body: string;
}

export interface Tombstone {
  entity: EntityName;
  id: string;
  at: number;
}

export type ChangeListener = (realmId: string, entity: EntityName, id: string, op: WebhookOperation) => void;

/** One QuickBooks company: its entity tables plus the bookkeeping QBO keeps per realm. */
export class Realm {
  readonly settings: RealmSettings;
  private readonly tables = new Map<EntityName, Map<string, Entity>>();
  private readonly counters = new Map<EntityName, number>();
  /** Milliseconds of the last change per `Entity:Id`, for CDC (MetaData has only second precision). */
  private readonly changedAt = new Map<string, number>();
  readonly tombstones: Tombstone[] = [];
  /** `requestid` → the original answer, replayed byte for byte. */
  readonly replays = new Map<string, StoredReply>();
  readonly files = new Map<string, { bytes: Buffer; contentType: string; fileName: string }>();
  /** `Entity:Id` of voided transactions; QBO keeps them (zeroed) but refuses edits and payments. */
  readonly voided = new Set<string>();
  nextDocNumber = 1001;

  constructor(
    readonly id: string,
    input: RealmInput,
    private readonly onChange: ChangeListener,
  ) {
    this.settings = {
      companyName: input.companyName,
      country: input.country,
      homeCurrency: input.homeCurrency.toUpperCase(),
      multiCurrency: input.multiCurrency,
      duplicateDocNumberCheck: input.duplicateDocNumberCheck ?? true,
      customTxnNumbers: input.customTxnNumbers ?? true,
    };
    seedRealm(this);
  }

  table(entity: EntityName): Map<string, Entity> {
    let table = this.tables.get(entity);
    if (!table) {
      table = new Map();
      this.tables.set(entity, table);
    }
    return table;
  }

  get<T extends Entity = Entity>(entity: EntityName, id: string | undefined): T | undefined {
    if (id === undefined) return undefined;
    return this.table(entity).get(String(id)) as T | undefined;
  }

  list<T extends Entity = Entity>(entity: EntityName): T[] {
    return [...this.table(entity).values()] as T[];
  }

  /** Assigns Id, SyncToken "0" and MetaData as QBO does on create. */
  insert<T extends Entity>(
    entity: EntityName,
    fields: Omit<T, 'Id' | 'SyncToken' | 'domain' | 'sparse' | 'MetaData'> & { Id?: string },
    options: { silent?: boolean } = {},
  ): T {
    const id = fields.Id ?? this.nextId(entity);
    const now = qboDateTime();
    const record = {
      ...fields,
      Id: id,
      SyncToken: '0',
      domain: 'QBO',
      sparse: false,
      MetaData: { CreateTime: now, LastUpdatedTime: now },
    } as unknown as T;
    this.table(entity).set(id, record);
    this.changedAt.set(`${entity}:${id}`, Date.now());
    if (!options.silent) this.onChange(this.id, entity, id, 'Create');
    return record;
  }

  /** Persists a modified record: bumps SyncToken and LastUpdatedTime. */
  save<T extends Entity>(entity: EntityName, record: T, op: WebhookOperation = 'Update'): T {
    record.SyncToken = String(Number(record.SyncToken) + 1);
    record.MetaData = { ...record.MetaData, LastUpdatedTime: qboDateTime() };
    this.table(entity).set(record.Id, record);
    this.changedAt.set(`${entity}:${record.Id}`, Date.now());
    this.onChange(this.id, entity, record.Id, op);
    return record;
  }

  remove(entity: EntityName, id: string): void {
    this.table(entity).delete(id);
    this.changedAt.delete(`${entity}:${id}`);
    this.tombstones.push({ entity, id, at: Date.now() });
    this.onChange(this.id, entity, id, 'Delete');
  }

  changedSince(entity: EntityName, sinceMs: number): Entity[] {
    return this.list(entity).filter((e) => (this.changedAt.get(`${entity}:${e.Id}`) ?? 0) >= sinceMs);
  }

  lastChange(entity: EntityName, id: string): number {
    return this.changedAt.get(`${entity}:${id}`) ?? 0;
  }

  nextId(entity: EntityName): string {
    const next = (this.counters.get(entity) ?? 0) + 1;
    this.counters.set(entity, next);
    return String(next);
  }

  /** Deep copy so callers (tests, admin API) can't mutate the store. */
  snapshot<T extends Entity = Entity>(entity: EntityName): T[] {
    return clone(this.list<T>(entity));
  }
}
