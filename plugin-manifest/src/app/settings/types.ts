import type { FieldIssue } from '../cards/api.ts';

/** The settings API's answers, as the page reads them. */
export interface QuickBooksConnection {
  state: 'connected' | 'needs_reconnect' | 'not_connected';
  realmId: string | null;
  companyName: string | null;
  connectedAt: string | null;
}

export type PaymentTerms = string | { customDays: number };

export interface InvoiceDefaults {
  incomeItemId?: string;
  defaultPaymentTerms?: PaymentTerms;
  taxCodeId?: string;
  taxable?: boolean;
  docNumberPrefix?: string;
  emailInvoices?: boolean;
}

export interface ReminderPolicy {
  enabled: boolean;
  firstAfterDays: number;
  everyDays: number;
  maxReminders: number;
  excludedCustomerIds: string[];
}

export interface SettingsOverview {
  quickbooks: QuickBooksConnection;
  invoiceDefaults: InvoiceDefaults;
  reminders: ReminderPolicy;
}

export interface Choices {
  items: { id: string; name: string; type: string }[];
  taxCodes: { id: string; name: string }[];
}

export interface TemplateMilestone {
  name: string;
  deliverable: string;
  acceptanceCriteria: string;
  percent: string;
  offsetDays: number;
  triggerStageLabel?: string;
}

export interface Template {
  key: string;
  name: string;
  description: string;
  paymentTerms: PaymentTerms;
  builtIn: boolean;
  milestones: TemplateMilestone[];
}

export interface ApiKey {
  id: string;
  name: string;
  prefix: string;
  createdAt: string;
  revokedAt: string | null;
}

export interface ShareLink {
  id: string;
  label: string;
  state: 'active' | 'expired' | 'revoked';
  createdBy: string;
  createdAt: string;
  expiresAt: string;
  revokedAt: string | null;
  lastUsedAt: string | null;
}

export interface AcceptanceWebhook {
  url: string;
  signatureHeader: string;
  example: string;
}

export { TERMS } from '../cards/terms.ts';
export type { FieldIssue };
