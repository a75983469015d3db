import { z } from 'zod';
import { faults } from '../faults.ts';
import type { Realm } from '../realm.ts';
import type { Customer, Invoice } from '../types.ts';
import { currencyName, roundMoney } from '../util.ts';
import {
  assertEmail,
  emailAddr,
  idString,
  loadForWrite,
  parseInput,
  ref,
  rejectUnknownFields,
  validateDisplayName,
  withoutSystemFields,
} from './common.ts';

const CUSTOMER_FIELDS = new Set([
  'Id',
  'SyncToken',
  'sparse',
  'domain',
  'MetaData',
  'Title',
  'GivenName',
  'MiddleName',
  'FamilyName',
  'Suffix',
  'DisplayName',
  'FullyQualifiedName',
  'CompanyName',
  'PrintOnCheckName',
  'Active',
  'PrimaryPhone',
  'AlternatePhone',
  'Mobile',
  'Fax',
  'PrimaryEmailAddr',
  'WebAddr',
  'OtherContactInfo',
  'DefaultTaxCodeRef',
  'Taxable',
  'BillAddr',
  'ShipAddr',
  'OtherAddr',
  'Notes',
  'Job',
  'BillWithParent',
  'RootCustomerRef',
  'ParentRef',
  'Level',
  'CustomerTypeRef',
  'SalesTermRef',
  'SalesRepRef',
  'PaymentMethodRef',
  'CCDetail',
  'PriceLevelRef',
  'Balance',
  'OpenBalanceDate',
  'BalanceWithJobs',
  'CreditLimit',
  'AcctNum',
  'CurrencyRef',
  'OverDueBalance',
  'TotalRevenue',
  'TotalExpense',
  'PreferredDeliveryMethod',
  'ResaleNum',
  'JobInfo',
  'TDSEnabled',
  'CustomerEx',
  'SecondaryTaxIdentifier',
  'ARAccountRef',
  'PrimaryTaxIdentifier',
  'TaxExemptionReasonId',
  'IsProject',
  'BusinessNumber',
  'GSTIN',
  'GSTRegistrationType',
  'IsCISContractor',
  'ClientCompanyId',
  'ClientEntityId',
  'Source',
  'TaxRegistrationNumber',
  'CustomField',
  'AttachableRef',
]);

const customerInput = z.looseObject({
  Id: idString.optional(),
  SyncToken: idString.optional(),
  sparse: z.boolean().optional(),
  Title: z.string().optional(),
  GivenName: z.string().optional(),
  MiddleName: z.string().optional(),
  FamilyName: z.string().optional(),
  Suffix: z.string().optional(),
  DisplayName: z.string().optional(),
  CompanyName: z.string().optional(),
  PrintOnCheckName: z.string().optional(),
  Active: z.boolean().optional(),
  PrimaryEmailAddr: emailAddr.optional(),
  CurrencyRef: ref.optional(),
  SalesTermRef: ref.optional(),
  ParentRef: ref.optional(),
  Job: z.boolean().optional(),
});

type CustomerInput = z.output<typeof customerInput>;

function displayNameOf(input: CustomerInput): string | undefined {
  if (input.DisplayName?.trim()) return input.DisplayName.trim();
  const parts = [input.Title, input.GivenName, input.MiddleName, input.FamilyName, input.Suffix]
    .map((p) => p?.trim())
    .filter((p): p is string => Boolean(p));
  return parts.length > 0 ? parts.join(' ') : undefined;
}

function validateCommon(realm: Realm, input: CustomerInput): { currency: string } {
  const currency = (input.CurrencyRef?.value ?? realm.settings.homeCurrency).toUpperCase();
  if (currency !== realm.settings.homeCurrency && !realm.settings.multiCurrency) {
    throw faults.businessValidation(
      `Business Validation Error: Multicurrency is not enabled for this company. You can only use the home currency (${realm.settings.homeCurrency}).`,
      'CurrencyRef',
    );
  }
  if (input.SalesTermRef && !realm.get('Term', input.SalesTermRef.value)) {
    throw faults.invalidReference(
      `Term assigned to this customer is invalid (Id=${input.SalesTermRef.value})`,
      'SalesTermRef',
    );
  }
  const email = input.PrimaryEmailAddr?.Address;
  if (email) assertEmail(email);
  return { currency };
}

export function createCustomer(realm: Realm, body: unknown, options: { silent?: boolean } = {}): Customer {
  const input = parseInput('Customer', customerInput, body);
  rejectUnknownFields('Customer', input, CUSTOMER_FIELDS);
  const displayName = displayNameOf(input);
  if (!displayName) {
    throw faults.businessValidation(
      'Business Validation Error: You must fill out at least one split line. Title, GivenName, MiddleName, FamilyName, DisplayName or Suffix is required.',
    );
  }
  validateDisplayName(realm, displayName);
  const { currency } = validateCommon(realm, input);
  const term = input.SalesTermRef ? realm.get('Term', input.SalesTermRef.value) : undefined;
  const fields = withoutSystemFields(input);
  return realm.insert<Customer>(
    'Customer',
    {
      Taxable: false,
      Job: false,
      BillWithParent: false,
      Balance: 0,
      BalanceWithJobs: 0,
      PreferredDeliveryMethod: 'Print',
      IsProject: false,
      ...fields,
      DisplayName: displayName,
      FullyQualifiedName: displayName,
      PrintOnCheckName: input.PrintOnCheckName ?? input.CompanyName ?? displayName,
      Active: input.Active ?? true,
      CurrencyRef: { value: currency, name: currencyName(currency) },
      ...(term ? { SalesTermRef: { value: term.Id, name: String(term.Name) } } : {}),
    },
    options,
  );
}

export function updateCustomer(realm: Realm, body: unknown): Customer {
  const input = parseInput('Customer', customerInput, body);
  rejectUnknownFields('Customer', input, CUSTOMER_FIELDS);
  const existing = loadForWrite<Customer>(realm, 'Customer', input);
  const merged: CustomerInput = input.sparse
    ? parseInput('Customer', customerInput, { ...existing, ...input })
    : input;
  const displayName = displayNameOf(merged) ?? existing.DisplayName;
  if (displayName.toLowerCase() !== existing.DisplayName.toLowerCase()) {
    validateDisplayName(realm, displayName, { entity: 'Customer', id: existing.Id });
  }
  const { currency } = validateCommon(realm, merged);
  if (currency !== existing.CurrencyRef.value && hasTransactions(realm, existing.Id)) {
    throw faults.businessValidation(
      "Business Validation Error: You can't change the currency of a customer that has transactions.",
      'CurrencyRef',
    );
  }
  const next = {
    ...(input.sparse ? existing : { Balance: existing.Balance, BalanceWithJobs: existing.BalanceWithJobs }),
    ...withoutSystemFields(input),
    Id: existing.Id,
    SyncToken: existing.SyncToken,
    domain: 'QBO' as const,
    sparse: false,
    MetaData: existing.MetaData,
    DisplayName: displayName,
    FullyQualifiedName: displayName,
    Active: merged.Active ?? true,
    CurrencyRef: { value: currency, name: currencyName(currency) },
  } as Customer;
  return realm.save('Customer', next);
}

function hasTransactions(realm: Realm, customerId: string): boolean {
  return (
    realm.list<Invoice>('Invoice').some((i) => i.CustomerRef.value === customerId) ||
    realm.list('Payment').some((p) => (p.CustomerRef as { value?: string } | undefined)?.value === customerId)
  );
}

/** Open A/R per customer, as QBO maintains it; not a user edit, so no SyncToken bump. */
export function refreshCustomerBalance(realm: Realm, customerId: string): void {
  const customer = realm.get<Customer>('Customer', customerId);
  if (!customer) return;
  const currency = customer.CurrencyRef.value;
  const open = realm
    .list<Invoice>('Invoice')
    .filter((i) => i.CustomerRef.value === customerId)
    .reduce((sum, i) => sum + i.Balance, 0);
  customer.Balance = roundMoney(open, currency);
  customer.BalanceWithJobs = customer.Balance;
}

export interface SeedCustomerInput {
  DisplayName: string;
  CurrencyRef?: { value: string };
  PrimaryEmailAddr?: { Address: string };
  CompanyName?: string;
  Active?: boolean;
  [field: string]: unknown;
}

/** Seeds bypass the API (no webhooks) but keep the same validation, so seeded data is always valid. */
export function seedCustomer(realm: Realm, input: SeedCustomerInput): Customer {
  const customer = createCustomer(realm, { ...input, Active: true }, { silent: true });
  if (input.Active === false) customer.Active = false;
  return customer;
}
