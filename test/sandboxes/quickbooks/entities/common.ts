import { z } from 'zod';
import { faults, QboFault } from '../faults.ts';
import type { Realm } from '../realm.ts';
import type { Entity, EntityName, Ref, SentEmail } from '../types.ts';
import { isRecord } from '../util.ts';

/** What every entity operation needs besides the body. */
export interface OpContext {
  realm: Realm;
  params: URLSearchParams;
  sentEmails: SentEmail[];
}

const NUMERIC = /^-?\d+(\.\d+)?$/;

/** QBO (Jackson + BigDecimal) accepts amounts as JSON numbers or numeric strings. */
export const money = z.union([z.number(), z.string().regex(NUMERIC).transform(Number)]);
export const idString = z.union([z.string(), z.number()]).transform(String);
export const ref = z.looseObject({ value: idString, name: z.string().optional() });
export const emailAddr = z.looseObject({ Address: z.string().optional() });

/** Only fields QBO's schema knows may appear at the top level; anything else is a 2010. */
export function rejectUnknownFields(
  entity: EntityName,
  body: Record<string, unknown>,
  allowed: ReadonlySet<string>,
): void {
  for (const key of Object.keys(body)) {
    if (!allowed.has(key)) {
      throw faults.unsupportedProperty(
        `Property Name:Unrecognized field "${key}" (class com.intuit.schema.finance.v3.${entity}), not marked as ignorable specified is unsupported or invalid`,
      );
    }
  }
}

export function parseInput<S extends z.ZodType>(entity: EntityName, schema: S, body: unknown): z.output<S> {
  if (!isRecord(body)) {
    throw faults.unsupportedProperty(
      `Property Name:Can not deserialize instance of ${entity} out of the supplied value specified is unsupported or invalid`,
    );
  }
  const result = schema.safeParse(body);
  if (!result.success) {
    const issue = result.error.issues[0];
    const path = issue?.path.join('.') ?? '';
    throw faults.unsupportedProperty(
      `Property Name:Can not construct instance of ${entity}.${path} : ${issue?.message ?? 'invalid value'} specified is unsupported or invalid`,
    );
  }
  return result.data;
}

/** DisplayName is unique across Customer, Vendor and Employee (inactive records included). */
export function nameOwner(
  realm: Realm,
  displayName: string,
  except?: { entity: EntityName; id: string },
): string | undefined {
  const wanted = displayName.trim().toLowerCase();
  for (const entity of ['Customer', 'Vendor', 'Employee'] as const) {
    for (const record of realm.list(entity)) {
      if (except && except.entity === entity && except.id === record.Id) continue;
      if (
        String(record.DisplayName ?? '')
          .trim()
          .toLowerCase() === wanted
      )
        return record.Id;
    }
  }
  return undefined;
}

export function validateDisplayName(
  realm: Realm,
  name: string,
  except?: { entity: EntityName; id: string },
): void {
  if (name.includes(':')) {
    throw faults.businessValidation(
      'Business Validation Error: Invalid character in name. The name cannot contain a colon (:).',
      'DisplayName',
    );
  }
  if (name.length > 500) {
    throw faults.businessValidation(
      `String length is either shorter or longer than supported by specification. Min:0 Max:500 supplied:${name.length}`,
      'DisplayName',
    );
  }
  const owner = nameOwner(realm, name, except);
  if (owner !== undefined) throw faults.duplicateName(owner);
}

/** Fetches the record an update/delete/void targets and enforces optimistic concurrency. */
export function loadForWrite<T extends Entity>(
  realm: Realm,
  entity: EntityName,
  body: Record<string, unknown>,
): T {
  if (body.Id === undefined || body.Id === null || body.Id === '') throw faults.requiredParam('Id');
  const record = realm.get<T>(entity, String(body.Id));
  if (!record) throw faults.objectNotFound(entity, String(body.Id));
  if (body.SyncToken === undefined || body.SyncToken === null || body.SyncToken === '')
    throw faults.requiredParam('SyncToken');
  if (String(body.SyncToken) !== record.SyncToken) throw faults.staleObject();
  return record;
}

export function namedRef(value: string, name: unknown): Ref {
  return typeof name === 'string' ? { value, name } : { value };
}

/** RFC 822-ish check: what Intuit's mail gateway accepts. A '+' decoded to a space fails here. */
export function assertEmail(address: string): void {
  if (!/^[^\s@"(),:;<>[\]\\]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$/.test(address)) {
    throw new QboFault(
      400,
      '6000',
      'A business validation error has occurred while processing your request',
      `Email Address does not conform to the syntax rules of RFC 822. Supplied value:${address}`,
      'ValidationFault',
      'BillEmail',
    );
  }
}

/** Strips the Id/SyncToken/etc. control fields a client sends back on updates. */
export const SYSTEM_FIELDS = new Set(['Id', 'SyncToken', 'sparse', 'domain', 'MetaData', 'status']);

export function withoutSystemFields(body: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(body).filter(([k]) => !SYSTEM_FIELDS.has(k)));
}
