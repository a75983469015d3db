export type EntityName =
  | 'Account'
  | 'Attachable'
  | 'CompanyInfo'
  | 'Customer'
  | 'Employee'
  | 'Invoice'
  | 'Item'
  | 'Payment'
  | 'Preferences'
  | 'TaxCode'
  | 'TaxRate'
  | 'Term'
  | 'Vendor';

export const ENTITY_NAMES: readonly EntityName[] = [
  'Account',
  'Attachable',
  'CompanyInfo',
  'Customer',
  'Employee',
  'Invoice',
  'Item',
  'Payment',
  'Preferences',
  'TaxCode',
  'TaxRate',
  'Term',
  'Vendor',
];

/** Name lists are filtered to Active = true by default in queries; transactions have no Active flag. */
export const NAME_LISTS: ReadonlySet<EntityName> = new Set([
  'Account',
  'Customer',
  'Employee',
  'Item',
  'TaxCode',
  'TaxRate',
  'Term',
  'Vendor',
]);

export interface Ref {
  value: string;
  name?: string;
}

export interface MetaData {
  CreateTime: string;
  LastUpdatedTime: string;
}

export interface Entity {
  Id: string;
  SyncToken: string;
  domain: 'QBO';
  sparse: boolean;
  MetaData: MetaData;
  [field: string]: unknown;
}

export interface LinkedTxn {
  TxnId: string;
  TxnType: string;
  TxnLineId?: string;
}

export interface SalesItemLineDetail {
  ItemRef: Ref;
  Qty?: number;
  UnitPrice?: number;
  TaxCodeRef?: Ref;
  ServiceDate?: string;
  [field: string]: unknown;
}

export interface InvoiceLine {
  Id?: string;
  LineNum?: number;
  Description?: string;
  /** Absent on DescriptionOnly lines. */
  Amount?: number;
  DetailType: string;
  SalesItemLineDetail?: SalesItemLineDetail;
  LinkedTxn?: LinkedTxn[];
  [field: string]: unknown;
}

export interface Invoice extends Entity {
  DocNumber?: string;
  TxnDate: string;
  DueDate: string;
  CustomerRef: Ref;
  CurrencyRef: Ref;
  SalesTermRef?: Ref;
  Line: InvoiceLine[];
  LinkedTxn: LinkedTxn[];
  TotalAmt: number;
  Balance: number;
  EmailStatus: string;
  PrintStatus: string;
  PrivateNote?: string;
  BillEmail?: { Address?: string };
  CustomerMemo?: { value?: string };
  TxnTaxDetail: { TotalTax: number; [field: string]: unknown };
}

export interface PaymentLine {
  Amount: number;
  LinkedTxn: LinkedTxn[];
  [field: string]: unknown;
}

export interface Payment extends Entity {
  TxnDate: string;
  CustomerRef: Ref;
  CurrencyRef: Ref;
  TotalAmt: number;
  UnappliedAmt: number;
  Line: PaymentLine[];
  PrivateNote?: string;
}

export interface Customer extends Entity {
  DisplayName: string;
  Active: boolean;
  CurrencyRef: Ref;
  Balance: number;
  BalanceWithJobs: number;
  PrimaryEmailAddr?: { Address?: string };
}

export type Country = 'US' | 'GB' | 'CA' | 'AU' | (string & {});

export interface RealmSettings {
  companyName: string;
  country: Country;
  homeCurrency: string;
  multiCurrency: boolean;
  /** QBO's "Warn if duplicate invoice number is used" setting; the API rejects duplicates with 6140. */
  duplicateDocNumberCheck: boolean;
  /** Seeds Preferences.SalesFormsPrefs.CustomTxnNumbers; the invoice rules read the preference. */
  customTxnNumbers: boolean;
}

export interface RealmInput {
  companyName: string;
  country: Country;
  homeCurrency: string;
  multiCurrency: boolean;
  duplicateDocNumberCheck?: boolean;
  /**
   * QBO's "Custom transaction numbers" (Preferences.SalesFormsPrefs.CustomTxnNumbers), default on:
   * invoices keep the DocNumber the API sends. Off: QuickBooks numbers new invoices itself.
   */
  customTxnNumbers?: boolean;
}

export type WebhookOperation = 'Create' | 'Update' | 'Delete' | 'Void' | 'Emailed' | 'Merge';

export interface SentEmail {
  realmId: string;
  invoiceId: string;
  docNumber: string | undefined;
  to: string;
  at: string;
}
