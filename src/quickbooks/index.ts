import { eq } from 'drizzle-orm';
import { DomainError } from '../domain/errors.ts';
import { qboConnections } from '../store/schema.ts';
import { type CompanyChanges, changesSince } from './changes.ts';
import { type Company, openCompany, type QuickBooksDeps } from './company.ts';
import { type BillingParty, forgetCustomer, resolveCustomer } from './customers.ts';
import { QboError } from './errors.ts';
import type { InvoiceDraft, InvoiceFacts } from './invoice-mapping.ts';
import {
  attachNote,
  createInvoice,
  type FoundInvoice,
  findOurInvoice,
  hasNote,
  invoiceUrl,
  type OurInvoiceKey,
  sendInvoice,
} from './invoices.ts';
import { RealmLimits } from './limits.ts';
import { authorizeUrl, exchangeCode, type TokenResponse } from './oauth.ts';
import { type InvoiceState, type PaymentState, readInvoice, readInvoices, readPayments } from './payments.ts';
import {
  type CompanyFacts,
  companyFacts,
  forgetReferences,
  type InvoiceChoices,
  type InvoiceSettings,
  invoiceChoices,
  lineTaxCode,
  salesTerm,
  serviceItem,
} from './references.ts';
import { sdkFor } from './sdk.ts';
import {
  connectionOf,
  disconnect,
  qboAccessToken,
  quickbooksTokens,
  realmHolder,
  revokeQuietly,
  saveConnection,
} from './tokens.ts';

export type { CompanyChanges } from './changes.ts';
export type { QuickBooksDeps } from './company.ts';
export type { BillingParty } from './customers.ts';
export { QboError } from './errors.ts';
export type { InvoiceDraft } from './invoice-mapping.ts';
export type { FoundInvoice, OurInvoiceKey } from './invoices.ts';
export { QuickBooksOAuthError } from './oauth.ts';
export type { InvoiceState, PaymentState } from './payments.ts';
export type { CompanyFacts, InvoiceChoices, InvoiceSettings } from './references.ts';
export {
  MAX_EVENTS as MAX_QBO_EVENTS,
  parseQboChange,
  type QboChange,
  QboCloudEvent,
  QboLegacyNotifications,
  qboItems,
  verifyIntuitSignature,
} from './webhook.ts';

/** The connected company as the app knows it, e.g. whether it keeps the DocNumbers the app sends. */
export interface ConnectionFacts extends CompanyFacts {
  realmId: string;
}

export type ConnectionState = 'connected' | 'needs_reconnect' | 'not_connected';

export interface ConnectionSummary {
  state: ConnectionState;
  realmId: string | null;
  companyName: string | null;
  connectedAt: Date | null;
}

/** One company, opened for one job. */
export interface QuickBooksCompany {
  realmId: string;
  /** Resolves the customer, item, term and tax code the invoice needs; refusals are DomainErrors or QboErrors. */
  prepareInvoice(draft: InvoiceDraft, party: BillingParty, settings: InvoiceSettings): Promise<InvoiceFacts>;
  /** `docNumber`: the one QuickBooks gave it, ours unless the company numbers invoices itself. */
  createInvoice(
    invoice: InvoiceFacts,
    requestId: string,
  ): Promise<{
    id: string;
    docNumber: string | null;
    intuitTid: string | undefined;
    /** TotalAmt and Balance in minor units: tax included, as QuickBooks computed it. */
    total: number | null;
    balance: number | null;
  }>;
  /**
   * The invoice an earlier attempt of the push created, if any: by our DocNumber, or where the
   * company numbers invoices itself by the customer, the invoice date and our PrivateNote.
   */
  findOurInvoice(key: OurInvoiceKey): Promise<FoundInvoice | undefined>;
  attachNote(invoiceId: string, note: string): Promise<void>;
  /** Whether a note holding `marker` is attached to the invoice already. */
  hasNote(invoiceId: string, marker: string): Promise<boolean>;
  sendInvoice(invoiceId: string): Promise<void>;
  /** The invoice as QuickBooks has it now (balance, total, void); undefined once deleted. */
  readInvoice(invoiceId: string): Promise<InvoiceState | undefined>;
  /** Many invoices at once (a query per 200); deleted ones are absent. */
  readInvoices(invoiceIds: string[]): Promise<Map<string, InvoiceState>>;
  /** Many payments at once (a query per 200); deleted ones are absent. */
  readPayments(paymentIds: string[]): Promise<Map<string, PaymentState>>;
  /** Invoices and payments changed since then (CDC, or queries where CDC cannot answer whole). */
  changesSince(since: Date): Promise<CompanyChanges>;
  /**
   * After QuickBooks called a reference invalid (deleted, merged away, inactive): drops the cached
   * item, term and tax ids and the party's customer mapping, so the next preparation resolves them
   * afresh.
   */
  forgetReferences(party: BillingParty): Promise<void>;
}

/** The app's view of QuickBooks Online: the connection, and invoices in the connected company. */
export interface QuickBooks {
  authorizeUrl(state: string): string;
  exchangeCode(code: string): Promise<TokenResponse>;
  connectedRealm(tenantId: string): Promise<string | undefined>;
  /** The tenant the company is connected to, if any. */
  realmHolder(realmId: string): Promise<string | undefined>;
  /** Whether the new tokens really are for `realmId` (the callback's query can be tampered with). */
  confirmRealm(realmId: string, tokens: TokenResponse): Promise<boolean>;
  connect(tenantId: string, realmId: string, tokens: TokenResponse): Promise<void>;
  disconnect(tenantId: string): Promise<{ realmId: string }>;
  /** Ends a grant the app will not store (a company it refused). */
  revoke(of: { tenantId: string; realmId: string }, refreshToken: string): Promise<void>;
  accessToken(
    tenantId: string,
    opts?: { force?: boolean },
  ): Promise<{ accessToken: string; realmId: string }>;
  /** `signal`: once aborted, the company makes no further request. */
  company(tenantId: string, signal?: AbortSignal): Promise<QuickBooksCompany>;
  /** Read from QuickBooks once, then kept with the connection. */
  connectionFacts(tenantId: string): Promise<ConnectionFacts>;
  /** The items and tax codes an admin may choose for invoice lines. */
  invoiceChoices(tenantId: string): Promise<InvoiceChoices>;
  /** Where reconciliation of the tenant's company stands: read up to, and since when connected. */
  reconciliation(tenantId: string): Promise<{ realmId: string; until: Date } | undefined>;
  markReconciled(tenantId: string, until: Date): Promise<void>;
  /** Every connected company's tenant, for the periodic reconciliation. */
  connectedTenants(): Promise<string[]>;
  /** The connected company as the settings page shows it, without asking Intuit. */
  connection(tenantId: string): Promise<ConnectionSummary>;
  /** Whether invoices can reach QuickBooks now, without asking Intuit. */
  connectionState(tenantId: string): Promise<ConnectionState>;
  invoiceUrl(invoiceId: string): string;
}

export function createQuickBooks(deps: QuickBooksDeps): QuickBooks {
  const limits = new RealmLimits(deps.redis, { pauseMs: deps.config.quickbooks.throttlePauseMs });
  return {
    authorizeUrl: (state) => authorizeUrl(deps.config, state),
    exchangeCode: (code) => exchangeCode(deps.config, code),
    connectedRealm: async (tenantId) => (await connectionOf(deps.db, tenantId))?.realmId,
    realmHolder: (realmId) => realmHolder(deps.db, realmId),
    async confirmRealm(realmId, tokens) {
      const call = sdkFor(deps.config, realmId, tokens.access_token);
      try {
        await call((sdk, cb) => sdk.getCompanyInfo(realmId, cb));
        return true;
      } catch (error) {
        if (error instanceof QboError && (error.kind === 'auth' || error.kind === 'forbidden')) return false;
        throw error;
      }
    },
    connect: (tenantId, realmId, tokens) => saveConnection(deps, tenantId, realmId, tokens),
    disconnect: (tenantId) => disconnect(deps, tenantId),
    revoke: (of, refreshToken) => revokeQuietly(deps, of, refreshToken),
    accessToken: (tenantId, opts) => qboAccessToken(deps, tenantId, opts),
    async company(tenantId, signal) {
      return companyOf(deps, await openCompany({ ...deps, limits }, tenantId, signal));
    },
    async connectionFacts(tenantId) {
      const company = await openCompany({ ...deps, limits }, tenantId);
      return { realmId: company.realmId, ...(await companyFacts(deps, company, tenantId)) };
    },
    async invoiceChoices(tenantId) {
      const company = await openCompany({ ...deps, limits }, tenantId);
      return invoiceChoices(company, await companyFacts(deps, company, tenantId));
    },
    async reconciliation(tenantId) {
      const row = await connectionOf(deps.db, tenantId);
      return row && { realmId: row.realmId, until: row.reconciledUntil ?? row.connectedAt };
    },
    async markReconciled(tenantId, until) {
      await deps.db
        .update(qboConnections)
        .set({ reconciledUntil: until })
        .where(eq(qboConnections.tenantId, tenantId));
    },
    async connectedTenants() {
      return (await deps.db.select({ id: qboConnections.tenantId }).from(qboConnections)).map((r) => r.id);
    },
    async connection(tenantId) {
      const row = await connectionOf(deps.db, tenantId);
      if (!row) return { state: 'not_connected', realmId: null, companyName: null, connectedAt: null };
      const grant = await quickbooksTokens(deps).find(tenantId);
      return {
        state: grant?.status === 'active' ? 'connected' : 'needs_reconnect',
        realmId: row.realmId,
        companyName: row.company?.name ?? null,
        connectedAt: row.connectedAt,
      };
    },
    async connectionState(tenantId) {
      return (await this.connection(tenantId)).state;
    },
    invoiceUrl: (invoiceId) => invoiceUrl(deps.config, invoiceId),
  };
}

function companyOf(deps: QuickBooksDeps, company: Company): QuickBooksCompany {
  // Money on QuickBooks' records without a CurrencyRef is in the company's home currency.
  const homeCurrency = async () => (await companyFacts(deps, company, company.tenantId)).homeCurrency;
  return {
    realmId: company.realmId,
    async prepareInvoice(draft, party, settings) {
      let facts = await companyFacts(deps, company, company.tenantId);
      // Multicurrency may have been turned on since the facts were read: ask again before refusing.
      if (draft.currency !== facts.homeCurrency && !facts.multiCurrency)
        facts = await companyFacts(deps, company, company.tenantId, { fresh: true });
      if (draft.currency !== facts.homeCurrency && !facts.multiCurrency) {
        throw new DomainError(
          'quickbooks_setup',
          `this deal is in ${draft.currency} but the QuickBooks company works only in ${facts.homeCurrency}; turn on multicurrency in QuickBooks`,
        );
      }
      const [customerId, itemId, termId] = await Promise.all([
        resolveCustomer(deps, company, facts, company.tenantId, party, draft.currency),
        serviceItem(deps, company, settings),
        salesTerm(deps, company, draft.paymentTerms),
      ]);
      const { paymentTerms: _terms, ...rest } = draft;
      return {
        ...rest,
        customerId,
        itemId,
        termId,
        taxCode: lineTaxCode(facts, settings),
        billEmail: party.email,
        multiCurrency: facts.multiCurrency,
        customTxnNumbers: facts.customTxnNumbers,
      };
    },
    createInvoice: (invoice, requestId) => createInvoice(company, invoice, requestId),
    async findOurInvoice(key) {
      const facts = await companyFacts(deps, company, company.tenantId);
      return findOurInvoice(company, facts.customTxnNumbers, key);
    },
    attachNote: (invoiceId, note) => attachNote(company, invoiceId, note),
    hasNote: (invoiceId, marker) => hasNote(company, invoiceId, marker),
    readInvoice: async (invoiceId) => readInvoice(company, invoiceId, await homeCurrency()),
    readInvoices: async (invoiceIds) => readInvoices(company, invoiceIds, await homeCurrency()),
    readPayments: async (paymentIds) => readPayments(company, paymentIds, await homeCurrency()),
    changesSince: async (since) => changesSince(company, since, await homeCurrency()),
    sendInvoice: (invoiceId) => sendInvoice(company, invoiceId),
    async forgetReferences(party) {
      await forgetReferences(deps, company.tenantId);
      await forgetCustomer(deps, company.tenantId, party.key);
    },
  };
}
