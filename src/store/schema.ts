import { sql } from 'drizzle-orm';
import {
  bigint,
  bigserial,
  boolean,
  date,
  index,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  text,
  timestamp,
  uniqueIndex,
} from 'drizzle-orm/pg-core';
import type { MilestoneStatus } from '../domain/lifecycle.ts';
import type { MilestoneKind } from '../domain/schedule.ts';
import type { TemplateMilestone } from '../domain/templates.ts';
import type { PaymentTerms } from '../domain/terms.ts';

const createdAt = () => timestamp('created_at', { withTimezone: true }).notNull().defaultNow();
const updatedAt = () => timestamp('updated_at', { withTimezone: true }).notNull().defaultNow();
/** Every row belongs to one tenant; queries are scoped by it. */
const tenantId = () =>
  text('tenant_id')
    .notNull()
    .references(() => tenants.id);
const money = (name: string) => bigint(name, { mode: 'number' });
const calendarDate = (name: string) => date(name, { mode: 'string' });

export const tenants = pgTable('tenants', {
  id: text().primaryKey(),
  portalId: text('portal_id').notNull().unique(),
  name: text().notNull(),
  /** AES-256-GCM ciphertext of the acceptance-webhook signing secret. */
  acceptanceSecret: text('acceptance_secret').notNull(),
  settings: jsonb().$type<TenantSettings>().notNull().default({}),
  /** The next invoice number; DocNumbers are assigned once, when the push is recorded. */
  nextDocNumber: integer('next_doc_number').notNull().default(1001),
  createdAt: createdAt(),
});

export interface TenantSettings {
  defaultPaymentTerms?: PaymentTerms;
  /** Up to 8 characters before every DocNumber this tenant's invoices get, e.g. "MB". */
  docNumberPrefix?: string;
  /** QuickBooks Item id for invoice lines; unset: a "Milestone billing" service item is used. */
  incomeItemId?: string;
  /** Non-US companies: the TaxCode id for invoice lines (US companies use TAX / NON). */
  taxCodeId?: string;
  /** US companies: whether milestone lines are taxable. */
  taxable?: boolean;
  /** Have QuickBooks email each invoice to the billing contact. */
  emailInvoices?: boolean;
  /** Overdue reminders; off unless set. */
  reminders?: ReminderPolicy;
  /** HubSpot roles whose users may manage the app besides the portal's super admins. */
  appManagerRoleIds?: string[];
}

export interface ReminderPolicy {
  enabled: boolean;
  /** Days after the due date of the first reminder. */
  firstAfterDays: number;
  /** Days between reminders after the first. */
  everyDays: number;
  maxReminders: number;
  /** QuickBooks customer ids never reminded. */
  excludedCustomerIds: string[];
}

export const apiKeys = pgTable('api_keys', {
  id: text().primaryKey(),
  tenantId: tenantId(),
  name: text().notNull(),
  /** First characters of the key, to recognise it in listings; the key itself is never stored. */
  prefix: text().notNull(),
  hash: text().notNull().unique(),
  createdAt: createdAt(),
  lastUsedAt: timestamp('last_used_at', { withTimezone: true }),
  revokedAt: timestamp('revoked_at', { withTimezone: true }),
});

export const schedules = pgTable(
  'schedules',
  {
    id: text().primaryKey(),
    tenantId: tenantId(),
    dealId: text('deal_id').notNull(),
    dealName: text('deal_name'),
    currency: text().notNull(),
    contractValue: money('contract_value').notNull(),
    paymentTerms: jsonb('payment_terms').$type<PaymentTerms>().notNull(),
    retainagePercent: integer('retainage_percent').notNull().default(0),
    /** Bumped by every change of the plan; writers must name the version they read. */
    version: integer().notNull().default(1),
    /** `frozen` when the deal is gone: kept for the record, accepts no change. */
    state: text().$type<'active' | 'frozen'>().notNull().default('active'),
    attention: jsonb().$type<string[]>().notNull().default([]),
    /** The deal amount HubSpot last reported, and when: webhooks arrive out of order. */
    dealAmount: money('deal_amount'),
    dealAmountAt: timestamp('deal_amount_at', { withTimezone: true }),
    /** The deal's owner and pipeline in HubSpot (ids), for the portfolio's filters. */
    ownerId: text('owner_id'),
    pipelineId: text('pipeline_id'),
    /** When HubSpot last reported each of them: a late event must not undo a newer one. */
    dealFactsAt: jsonb('deal_facts_at').$type<{ owner?: string; pipeline?: string }>().notNull().default({}),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [uniqueIndex('schedules_tenant_deal').on(t.tenantId, t.dealId)],
);

export const scheduleVersions = pgTable(
  'schedule_versions',
  {
    scheduleId: text('schedule_id')
      .notNull()
      .references(() => schedules.id),
    version: integer().notNull(),
    reason: text().notNull(),
    actor: text().notNull(),
    snapshot: jsonb().notNull(),
    createdAt: createdAt(),
  },
  (t) => [primaryKey({ columns: [t.scheduleId, t.version] })],
);

export const milestones = pgTable(
  'milestones',
  {
    id: text().primaryKey(),
    tenantId: tenantId(),
    scheduleId: text('schedule_id')
      .notNull()
      .references(() => schedules.id),
    position: integer().notNull(),
    key: text().notNull(),
    name: text().notNull(),
    deliverable: text().notNull(),
    acceptanceCriteria: text('acceptance_criteria').notNull(),
    /** Share of the contract in ten-thousandths of a percent; null for fixed amounts. */
    percent: integer(),
    amount: money('amount').notNull(),
    plannedDate: calendarDate('planned_date').notNull(),
    triggerStage: text('trigger_stage'),
    paymentTerms: jsonb('payment_terms').$type<PaymentTerms>(),
    kind: text().$type<MilestoneKind>().notNull().default('standard'),
    status: text().$type<MilestoneStatus>().notNull().default('planned'),
    /** The milestone this one is the remainder of, after a partial acceptance. */
    splitFromId: text('split_from_id'),
    needsAttention: boolean('needs_attention').notNull().default(false),
    /** Why a person is needed, in words they can act on (QuickBooks' own message, a lost connection). */
    attentionReason: text('attention_reason'),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    index('milestones_schedule').on(t.scheduleId, t.position),
    index('milestones_tenant').on(t.tenantId),
    index('milestones_tenant_status').on(t.tenantId, t.status),
    // "Needs attention" reads the oldest planned dates first and stops at 200.
    index('milestones_tenant_planned').on(t.tenantId, t.plannedDate, t.id),
  ],
);

export const acceptances = pgTable(
  'acceptances',
  {
    id: text().primaryKey(),
    tenantId: tenantId(),
    milestoneId: text('milestone_id')
      .notNull()
      .references(() => milestones.id),
    source: text().$type<AcceptanceSource>().notNull(),
    /** The reporter's own id of the event: the idempotency key per tenant and source. */
    sourceEventId: text('source_event_id').notNull(),
    amount: money('amount').notNull(),
    percent: integer(),
    acceptedAt: timestamp('accepted_at', { withTimezone: true }).notNull(),
    acceptedBy: jsonb('accepted_by').$type<{ name?: string; email?: string }>().notNull(),
    evidence: jsonb().$type<{ name: string; url: string }[]>().notNull().default([]),
    note: text(),
    createdAt: createdAt(),
  },
  (t) => [uniqueIndex('acceptances_source_event').on(t.tenantId, t.source, t.sourceEventId)],
);

export type AcceptanceSource = 'manual' | 'hubspot' | 'webhook';

export const transitions = pgTable(
  'transitions',
  {
    id: bigserial({ mode: 'number' }).primaryKey(),
    tenantId: text('tenant_id').notNull(),
    milestoneId: text('milestone_id')
      .notNull()
      .references(() => milestones.id),
    fromStatus: text('from_status').$type<MilestoneStatus | null>(),
    toStatus: text('to_status').$type<MilestoneStatus>().notNull(),
    event: text().notNull(),
    /** Who or what: `user:…`, `api_key:…`, `webhook:<event id>`, `job:<id>`, `cli`. */
    actor: text().notNull(),
    reason: text(),
    data: jsonb().$type<Record<string, unknown>>(),
    at: timestamp({ withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index('transitions_milestone').on(t.milestoneId, t.id)],
);

export const inbox = pgTable(
  'inbox',
  {
    id: text().primaryKey(),
    tenantId: text('tenant_id'),
    source: text().$type<'hubspot' | 'acceptance' | 'quickbooks'>().notNull(),
    dedupeKey: text('dedupe_key').notNull(),
    payload: jsonb().notNull(),
    status: text().$type<'pending' | 'processed' | 'ignored' | 'failed'>().notNull().default('pending'),
    outcome: text(),
    attempts: integer().notNull().default(0),
    receivedAt: timestamp('received_at', { withTimezone: true }).notNull().defaultNow(),
    processedAt: timestamp('processed_at', { withTimezone: true }),
  },
  (t) => [
    uniqueIndex('inbox_dedupe').on(t.source, t.dedupeKey),
    index('inbox_pending').on(t.receivedAt).where(sql`status = 'pending'`),
  ],
);

export const templates = pgTable(
  'templates',
  {
    id: text().primaryKey(),
    tenantId: tenantId(),
    key: text().notNull(),
    name: text().notNull(),
    description: text().notNull().default(''),
    paymentTerms: jsonb('payment_terms').$type<PaymentTerms>().notNull(),
    retainagePercent: integer('retainage_percent').notNull().default(0),
    milestones: jsonb().$type<TemplateMilestone[]>().notNull(),
    createdAt: createdAt(),
  },
  (t) => [uniqueIndex('templates_tenant_key').on(t.tenantId, t.key)],
);

/** Single-use OAuth `state` values, kept server-side until the callback or their expiry. */
export const oauthStates = pgTable('oauth_states', {
  state: text().primaryKey(),
  provider: text().$type<'hubspot' | 'quickbooks'>().notNull(),
  tenantId: text('tenant_id'),
  /** Hash of the cookie set in the browser that started the flow: the callback must come from it. */
  browserHash: text('browser_hash').notNull().default(''),
  expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
  createdAt: createdAt(),
});

/** A portal's HubSpot install; its tokens are the tenant's `hubspot` grant in oauth_grants. */
export const hubspotInstalls = pgTable('hubspot_installs', {
  tenantId: tenantId().primaryKey(),
  portalId: text('portal_id').notNull().unique(),
  installedBy: text('installed_by'),
  /** Set once the "Milestone billing" property group and properties exist in the portal. */
  propertiesReadyAt: timestamp('properties_ready_at', { withTimezone: true }),
  updatedAt: updatedAt(),
});

export type OAuthProvider = 'hubspot' | 'quickbooks';

/**
 * Each tenant's OAuth grant per platform, tokens encrypted (AES-256-GCM). `needs_reconnect`: the
 * platform refused the refresh token, and only a person authorising again helps.
 */
export const oauthGrants = pgTable(
  'oauth_grants',
  {
    tenantId: tenantId(),
    provider: text().$type<OAuthProvider>().notNull(),
    accessToken: text('access_token').notNull(),
    refreshToken: text('refresh_token').notNull(),
    expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
    refreshExpiresAt: timestamp('refresh_expires_at', { withTimezone: true }),
    scopes: jsonb().$type<string[]>().notNull().default([]),
    status: text().$type<'active' | 'needs_reconnect'>().notNull().default('active'),
    updatedAt: updatedAt(),
  },
  (t) => [primaryKey({ columns: [t.tenantId, t.provider] })],
);

/** Browser sessions of admins who installed the app; the cookie holds the id, the table its hash. */
/**
 * Read-only links an admin gives a bookkeeper without a HubSpot seat: usable until they expire or
 * are revoked, and every session they started ends with them. The table holds the token's hash.
 */
export const shareLinks = pgTable(
  'share_links',
  {
    id: text().primaryKey(),
    tenantId: tenantId(),
    tokenHash: text('token_hash').notNull().unique(),
    label: text().notNull(),
    createdBy: text('created_by').notNull(),
    expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
    revokedAt: timestamp('revoked_at', { withTimezone: true }),
    lastUsedAt: timestamp('last_used_at', { withTimezone: true }),
    createdAt: createdAt(),
  },
  (t) => [index('share_links_tenant').on(t.tenantId)],
);

export const sessions = pgTable('sessions', {
  idHash: text('id_hash').primaryKey(),
  tenantId: tenantId(),
  userEmail: text('user_email'),
  /** Set for a bookkeeper's read-only session: it lives only as long as its share link. */
  shareLinkId: text('share_link_id').references(() => shareLinks.id),
  expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
  createdAt: createdAt(),
});

/**
 * Short-lived, single-use links that start a browser session from inside HubSpot (where
 * `hubspot.fetch` carries no cookie): the URL holds the token, the table only its hash.
 */
export const signInLinks = pgTable('sign_in_links', {
  tokenHash: text('token_hash').primaryKey(),
  tenantId: tenantId(),
  purpose: text().$type<'quickbooks_connect' | 'portfolio'>().notNull(),
  actor: text().notNull(),
  userEmail: text('user_email'),
  expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
  createdAt: createdAt(),
});

/** A tenant's QuickBooks company; its tokens are the tenant's `quickbooks` grant in oauth_grants. */
export const qboConnections = pgTable('qbo_connections', {
  tenantId: tenantId().primaryKey(),
  realmId: text('realm_id').notNull().unique(),
  /** The company's facts the invoice mapping needs (country, home currency, multicurrency, numbering). */
  company: jsonb().$type<{
    country: string;
    homeCurrency: string;
    multiCurrency: boolean;
    name: string;
    customTxnNumbers?: boolean;
    readAt?: string;
  }>(),
  connectedAt: timestamp('connected_at', { withTimezone: true }).notNull().defaultNow(),
  /** Reconciliation has read every change of the company up to here. */
  reconciledUntil: timestamp('reconciled_until', { withTimezone: true }),
  updatedAt: updatedAt(),
});

/**
 * The push ledger: one row per accepted milestone portion, written in the acceptance's own
 * transaction, before any call to QuickBooks. Its id is the QuickBooks `requestid` and its
 * DocNumber is fixed here, so every retry asks for the same invoice (DESIGN §6).
 */
export const invoicePushes = pgTable(
  'invoice_pushes',
  {
    id: text().primaryKey(),
    tenantId: tenantId(),
    milestoneId: text('milestone_id')
      .notNull()
      .unique()
      .references(() => milestones.id),
    acceptanceId: text('acceptance_id').notNull(),
    docNumber: text('doc_number').notNull(),
    /**
     * pending: not tried; sending: a create went out and its outcome is unknown until the
     * DocNumber is looked up; created; failed: QuickBooks refused it (needs a person).
     */
    status: text()
      .$type<'pending' | 'sending' | 'created' | 'failed' | 'voided'>()
      .notNull()
      .default('pending'),
    attempts: integer().notNull().default(0),
    /** Tries of the push since it was queued or resumed, by any job: transient failures stop at a bound. */
    tries: integer().notNull().default(0),
    /**
     * Manual retries after a refusal. Part of the requestid: Intuit may replay a request id's
     * original answer, which after a refusal would be the refusal again.
     */
    retries: integer().notNull().default(0),
    amount: money('amount').notNull(),
    currency: text().notNull(),
    invoiceDate: calendarDate('invoice_date'),
    dueDate: calendarDate('due_date'),
    qboInvoiceId: text('qbo_invoice_id'),
    qboCustomerId: text('qbo_customer_id'),
    /** Whom the invoice bills, by the name the deal's company has: the aging groups by it. */
    customerName: text('customer_name'),
    errorCode: text('error_code'),
    errorMessage: text('error_message'),
    intuitTid: text('intuit_tid'),
    /** When the HubSpot note and deal properties were written for this invoice. */
    writtenBackAt: timestamp('written_back_at', { withTimezone: true }),
    /** The acceptance evidence attached and the email sent (or tried): a re-run after a kill does it once. */
    deliveredAt: timestamp('delivered_at', { withTimezone: true }),
    /** The invoice as QuickBooks last showed it: total (tax included) and what is still owed. */
    qboTotal: money('qbo_total'),
    qboBalance: money('qbo_balance'),
    /** Received on the invoice: total − balance; an overpayment stays the customer's credit. */
    paidAmount: money('paid_amount').notNull().default(0),
    /** Set when the invoice in QuickBooks no longer bills what the milestone does (edited there). */
    discrepancy: text(),
    reconciledAt: timestamp('reconciled_at', { withTimezone: true }),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    uniqueIndex('invoice_pushes_doc_number').on(t.tenantId, t.docNumber),
    index('invoice_pushes_qbo_invoice').on(t.tenantId, t.qboInvoiceId),
    index('invoice_pushes_open').on(t.tenantId, t.dueDate).where(sql`status = 'created'`),
  ],
);

/**
 * The invoices each QuickBooks payment was applied to, as last read: a deleted payment can no
 * longer be read, so this says which invoices to look at again.
 */
export const qboPaymentLinks = pgTable(
  'qbo_payment_links',
  {
    tenantId: tenantId(),
    paymentId: text('payment_id').notNull(),
    qboInvoiceId: text('qbo_invoice_id').notNull(),
    /** What the payment applied to this invoice, and on which day: the forecast's actual receipts. */
    amount: money('amount'),
    receivedOn: calendarDate('received_on'),
  },
  (t) => [primaryKey({ columns: [t.tenantId, t.paymentId, t.qboInvoiceId] })],
);

/**
 * Notes for deals, written in the transaction of the change they tell of (a payment) and sent to
 * HubSpot afterwards, a hundred per call. `key` makes a change's note one of a kind.
 */
export const dealNotes = pgTable(
  'deal_notes',
  {
    id: text().primaryKey(),
    tenantId: tenantId(),
    dealId: text('deal_id').notNull(),
    key: text().notNull(),
    body: text().notNull(),
    /** pending; sending: handed to HubSpot; sent; uncertain: HubSpot's answer was lost (not sent again). */
    status: text().$type<'pending' | 'sending' | 'sent' | 'uncertain'>().notNull().default('pending'),
    hubspotNoteId: text('hubspot_note_id'),
    createdAt: createdAt(),
    sentAt: timestamp('sent_at', { withTimezone: true }),
  },
  (t) => [
    uniqueIndex('deal_notes_key').on(t.tenantId, t.key),
    index('deal_notes_pending').on(t.tenantId, t.status),
  ],
);

/**
 * Overdue reminders, one row per invoice and step of the tenant's policy: the row is claimed
 * before anything is sent, so however many workers look, a step is sent at most once.
 */
export const invoiceReminders = pgTable(
  'invoice_reminders',
  {
    pushId: text('push_id')
      .notNull()
      .references(() => invoicePushes.id),
    step: integer().notNull(),
    tenantId: tenantId(),
    /** sending: claimed; sent; skipped: paid meanwhile; failed: see error (not sent again by itself). */
    status: text().$type<'sending' | 'sent' | 'skipped' | 'failed'>().notNull(),
    asOf: calendarDate('as_of').notNull(),
    hubspotTaskId: text('hubspot_task_id'),
    error: text(),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [primaryKey({ columns: [t.pushId, t.step] })],
);

/** Which QuickBooks customer bills a HubSpot company (or a contact when a deal has no company). */
export const customerMappings = pgTable(
  'customer_mappings',
  {
    tenantId: tenantId(),
    /** `company:<id>` or `contact:<id>`. */
    partyKey: text('party_key').notNull(),
    qboCustomerId: text('qbo_customer_id').notNull(),
    currency: text().notNull(),
    createdAt: createdAt(),
  },
  (t) => [primaryKey({ columns: [t.tenantId, t.partyKey] })],
);
