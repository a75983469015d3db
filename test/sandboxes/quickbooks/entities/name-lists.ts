import { faults } from '../faults.ts';
import type { Realm } from '../realm.ts';
import type { Entity, EntityName } from '../types.ts';
import { currencyName, isRecord } from '../util.ts';
import { loadForWrite, validateDisplayName, withoutSystemFields } from './common.ts';

/**
 * Vendor, Employee, Term and Account: the app only reads them, so writes are kept thin but still
 * enforce the uniqueness rules that matter (shared DisplayName space, unique Name).
 */
export function createNameListEntity(realm: Realm, entity: EntityName, body: unknown): Entity {
  if (!isRecord(body))
    throw faults.unsupportedProperty(
      `Property Name:Can not deserialize instance of ${entity} specified is unsupported or invalid`,
    );
  const fields = withoutSystemFields(body);
  if (entity === 'Vendor' || entity === 'Employee') {
    const parts = [fields.GivenName, fields.FamilyName].filter(
      (p): p is string => typeof p === 'string' && p.trim() !== '',
    );
    const displayName =
      typeof fields.DisplayName === 'string' && fields.DisplayName.trim()
        ? fields.DisplayName.trim()
        : parts.join(' ');
    if (!displayName) throw faults.requiredParam('DisplayName');
    validateDisplayName(realm, displayName);
    return realm.insert<Entity>(entity, {
      ...fields,
      DisplayName: displayName,
      PrintOnCheckName: fields.PrintOnCheckName ?? displayName,
      Active: fields.Active ?? true,
      ...(entity === 'Vendor'
        ? {
            Balance: 0,
            CurrencyRef: {
              value: realm.settings.homeCurrency,
              name: currencyName(realm.settings.homeCurrency),
            },
          }
        : {}),
    });
  }
  const name = typeof fields.Name === 'string' ? fields.Name.trim() : '';
  if (!name) throw faults.requiredParam('Name');
  const clash = realm.list(entity).find((e) => String(e.Name).toLowerCase() === name.toLowerCase());
  if (clash) throw faults.duplicateName(clash.Id);
  if (entity === 'Account' && typeof fields.AccountType !== 'string')
    throw faults.requiredParam('AccountType');
  return realm.insert<Entity>(entity, {
    ...(entity === 'Term' ? { Type: 'STANDARD', DueDays: 0, DiscountDays: 0 } : {}),
    ...(entity === 'Account'
      ? { SubAccount: false, CurrentBalance: 0, CurrentBalanceWithSubAccounts: 0, Classification: 'Expense' }
      : {}),
    ...fields,
    Name: name,
    ...(entity === 'Account' ? { FullyQualifiedName: name } : {}),
    Active: fields.Active ?? true,
  });
}

export function updateNameListEntity(realm: Realm, entity: EntityName, body: unknown): Entity {
  if (!isRecord(body))
    throw faults.unsupportedProperty(
      `Property Name:Can not deserialize instance of ${entity} specified is unsupported or invalid`,
    );
  const existing = loadForWrite<Entity>(realm, entity, body);
  const fields = withoutSystemFields(body);
  if (typeof fields.DisplayName === 'string' && fields.DisplayName !== existing.DisplayName) {
    validateDisplayName(realm, fields.DisplayName, { entity, id: existing.Id });
  }
  const next = {
    ...(body.sparse === true ? existing : {}),
    ...fields,
    Id: existing.Id,
    SyncToken: existing.SyncToken,
    domain: 'QBO',
    sparse: false,
    MetaData: existing.MetaData,
  } as Entity;
  return realm.save(entity, next);
}
