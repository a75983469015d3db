import { z } from 'zod';
import { faults } from '../faults.ts';
import type { Realm } from '../realm.ts';
import type { Entity } from '../types.ts';
import {
  idString,
  loadForWrite,
  money,
  parseInput,
  ref,
  rejectUnknownFields,
  withoutSystemFields,
} from './common.ts';

const ITEM_FIELDS = new Set([
  'Id',
  'SyncToken',
  'sparse',
  'domain',
  'MetaData',
  'Name',
  'Sku',
  'Description',
  'Active',
  'SubItem',
  'ParentRef',
  'Level',
  'FullyQualifiedName',
  'Taxable',
  'SalesTaxIncluded',
  'PercentBased',
  'UnitPrice',
  'RatePercent',
  'Type',
  'PaymentMethodRef',
  'UOMSetRef',
  'IncomeAccountRef',
  'PurchaseDesc',
  'PurchaseTaxIncluded',
  'PurchaseCost',
  'ExpenseAccountRef',
  'COGSAccountRef',
  'AssetAccountRef',
  'PrefVendorRef',
  'AvgCost',
  'TrackQtyOnHand',
  'QtyOnHand',
  'QtyOnPurchaseOrder',
  'QtyOnSalesOrder',
  'ReorderPoint',
  'ManPartNum',
  'DepositToAccountRef',
  'SalesTaxCodeRef',
  'PurchaseTaxCodeRef',
  'InvStartDate',
  'BuildPoint',
  'PrintGroupedItems',
  'SpecialItem',
  'SpecialItemType',
  'ItemGroupDetail',
  'ItemAssemblyDetail',
  'AbatementRate',
  'ReverseChargeRate',
  'ServiceType',
  'ItemCategoryType',
  'ItemEx',
  'TaxClassificationRef',
  'UQCDisplayText',
  'UQCId',
  'ClassRef',
  'Source',
  'DeferredRevenue',
  'CustomField',
]);

const ITEM_TYPES = [
  'Inventory',
  'NonInventory',
  'Service',
  'Category',
  'Group',
  'Bundle',
  'Other Charge',
  'Fixed Asset',
] as const;

const itemInput = z.looseObject({
  Id: idString.optional(),
  SyncToken: idString.optional(),
  sparse: z.boolean().optional(),
  Name: z.string().optional(),
  Type: z.enum(ITEM_TYPES).optional(),
  Active: z.boolean().optional(),
  UnitPrice: money.optional(),
  IncomeAccountRef: ref.optional(),
  ExpenseAccountRef: ref.optional(),
});

type ItemInput = z.output<typeof itemInput>;

function validate(realm: Realm, input: ItemInput, exceptId?: string): { name: string; income?: Entity } {
  const name = input.Name?.trim();
  if (!name) throw faults.requiredParam('Name');
  if (name.includes(':')) {
    throw faults.businessValidation(
      'Business Validation Error: Invalid character in name. The name cannot contain a colon (:).',
      'Name',
    );
  }
  if (name.length > 100) {
    throw faults.businessValidation(
      `String length is either shorter or longer than supported by specification. Min:1 Max:100 supplied:${name.length}`,
      'Name',
    );
  }
  const clash = realm
    .list('Item')
    .find((i) => i.Id !== exceptId && String(i.Name).toLowerCase() === name.toLowerCase());
  if (clash) throw faults.duplicateName(clash.Id);
  const type = input.Type ?? 'NonInventory';
  if (['Service', 'NonInventory', 'Inventory'].includes(type)) {
    if (!input.IncomeAccountRef) throw faults.requiredParam('IncomeAccountRef');
    const income = realm.get('Account', input.IncomeAccountRef.value);
    if (!income || income.Active === false) {
      throw faults.invalidReference(
        `Account assigned to this item is invalid (IncomeAccountRef=${input.IncomeAccountRef.value})`,
        'IncomeAccountRef',
      );
    }
    return { name, income };
  }
  return { name };
}

export function createItem(realm: Realm, body: unknown): Entity {
  const input = parseInput('Item', itemInput, body);
  rejectUnknownFields('Item', input, ITEM_FIELDS);
  const { name, income } = validate(realm, input);
  return realm.insert<Entity>('Item', {
    Taxable: false,
    UnitPrice: 0,
    PurchaseCost: 0,
    TrackQtyOnHand: false,
    ...withoutSystemFields(input),
    Name: name,
    FullyQualifiedName: name,
    Active: input.Active ?? true,
    Type: input.Type ?? 'NonInventory',
    ...(income ? { IncomeAccountRef: { value: income.Id, name: String(income.Name) } } : {}),
  });
}

export function updateItem(realm: Realm, body: unknown): Entity {
  const input = parseInput('Item', itemInput, body);
  rejectUnknownFields('Item', input, ITEM_FIELDS);
  const existing = loadForWrite<Entity>(realm, 'Item', input);
  const merged = parseInput('Item', itemInput, input.sparse ? { ...existing, ...input } : input);
  const { name, income } = validate(realm, merged, existing.Id);
  const next = {
    ...(input.sparse ? existing : {}),
    ...withoutSystemFields(merged),
    Id: existing.Id,
    SyncToken: existing.SyncToken,
    domain: 'QBO',
    sparse: false,
    MetaData: existing.MetaData,
    Name: name,
    FullyQualifiedName: name,
    Active: merged.Active ?? true,
    ...(income ? { IncomeAccountRef: { value: income.Id, name: String(income.Name) } } : {}),
  } as Entity;
  return realm.save('Item', next);
}
