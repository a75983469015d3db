import type { Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import express, { type Response } from 'express';
import { type Hold, type HoldPhase, Holds } from '../holds.ts';
import { adminRouter } from './admin.ts';
import { createApiHandler, type HeldQboRequest, type RequestRecord } from './api.ts';
import { type SeedCustomerInput, seedCustomer } from './entities/customer.ts';
import { applyVoid, createInvoice, deleteInvoice, updateInvoice } from './entities/invoice.ts';
import { createItem } from './entities/item.ts';
import { createPayment, deletePayment, voidPayment } from './entities/payment.ts';
import { type FaultSettings, faultSeed, seededRandom } from './fault-injection.ts';
import { QboFault } from './faults.ts';
import { invoicesPage } from './invoice-page.ts';
import {
  type ConsentMode,
  OAuthServer,
  type RevokeRecord,
  type TokenRequestRecord,
  type TokenResponse,
} from './oauth.ts';
import { Realm } from './realm.ts';
import { Throttle, type ThrottleLimits } from './throttle.ts';
import type { Customer, Entity, EntityName, Invoice, Payment, RealmInput, SentEmail } from './types.ts';
import { type WebhookConfig, type WebhookDelivery, WebhookDispatcher } from './webhooks.ts';

export interface QuickBooksSandboxOptions {
  /** 0 (default) = ephemeral port. */
  port?: number;
  host?: string;
  clientId?: string;
  clientSecret?: string;
  /** Registered redirect URIs; empty = accept any http(s) URI. */
  redirectUris?: string[];
  accessTokenTtlSeconds?: number;
  /** Fixed latency added to every API call (on top of fault latency). */
  latencyMs?: number;
  throttle?: ThrottleLimits;
  /** Default webhook verifier token. */
  verifierToken?: string;
  /** 'approve' (default) redirects at once; 'prompt' shows a consent page; 'deny' answers access_denied. */
  consent?: ConsentMode;
  /** Shorthand: false = consent 'prompt' (a clickable page for browser demos). */
  autoApprove?: boolean;
  /** Realm the authorize endpoint connects; default the first realm added. */
  defaultRealmId?: string;
  /** Seed of the fault-injection draws; default FAULT_SEED, else a new one. */
  faultSeed?: number;
}

export interface RealmStats {
  total: number;
  byEndpoint: Record<string, number>;
  byStatus: Record<string, number>;
  maxConcurrent: number;
  maxPerMinute: number;
  maxPerSecond: number;
  lastMinute: number;
  throttled429: number;
}

export interface QuickBooksSandbox {
  readonly url: string;
  readonly authorizeUrl: string;
  readonly tokenUrl: string;
  readonly revokeUrl: string;
  /** Origin the app appends `/v3/company/{realmId}/…` to. */
  readonly apiBaseUrl: string;
  /** Value for node-quickbooks' `QuickBooks.V3_ENDPOINT_BASE_URL`. */
  readonly v3EndpointBaseUrl: string;
  readonly clientId: string;
  readonly clientSecret: string;
  close(): Promise<void>;

  addRealm(realmId: string, input: RealmInput): void;
  realmIds(): string[];
  addCustomer(realmId: string, input: SeedCustomerInput): Customer;
  addItem(realmId: string, input: Record<string, unknown>): Entity;
  /** Tokens for a realm without the browser flow. */
  issueTokens(realmId: string): TokenResponse;

  invoices(realmId: string): Invoice[];
  customers(realmId: string): Customer[];
  payments(realmId: string): Payment[];
  attachables(realmId: string): Entity[];
  entity<T extends Entity = Entity>(realmId: string, type: EntityName, id: string): T | undefined;
  /** Deletes a customer, item or other name-list record as a person does in QuickBooks: it becomes inactive. */
  deactivate(realmId: string, type: EntityName, id: string): void;
  attachmentContent(realmId: string, attachableId: string): Buffer | undefined;

  readonly requests: RequestRecord[];
  stats(realmId: string): RealmStats;
  /** Token-endpoint calls counted by grant_type. */
  readonly tokenRequests: Record<string, number>;
  readonly tokenLog: TokenRequestRecord[];
  /** Calls of the revoke endpoint, with their content type. */
  readonly revocations: RevokeRecord[];
  readonly sentEmails: SentEmail[];

  setFaults(faults: FaultSettings): void;
  clearFaults(): void;
  /**
   * Stops the next API request matching `endpoint` (as in RequestRecord, e.g. `POST /invoice`),
   * and the realm or query statement when given, before it is handled or with its answer withheld.
   */
  hold(match: { endpoint: string; realmId?: string; query?: RegExp }, phase: HoldPhase): Hold;
  readonly faults: FaultSettings;
  /**
   * What fault injection draws from: FAULT_SEED=<it> replays the same draws, in the order the
   * requests arrive (which concurrency can still vary).
   */
  readonly faultSeed: number;
  expireAccessTokens(realmId?: string): void;
  setConsent(mode: ConsentMode): void;
  /** The company the next consent connects, as a person picks it on Intuit's page. */
  chooseRealm(realmId: string): void;

  /** A payment as a bookkeeper enters it; `txnDate` (YYYY-MM-DD) backdates it, as QuickBooks allows. */
  recordPayment(realmId: string, invoiceId: string, amount: number, txnDate?: string): Payment;
  voidInvoice(realmId: string, invoiceId: string): Invoice;
  /** Bookkeeper actions as in QuickBooks' own screens; each notifies like its API twin. */
  voidPayment(realmId: string, paymentId: string): Payment;
  deletePayment(realmId: string, paymentId: string): void;
  deleteInvoice(realmId: string, invoiceId: string): void;
  /**
   * Multicurrency turned on in the company's settings, as an admin does in QuickBooks ("Once you
   * turn on multicurrency, you can't turn it off", Intuit's help): Preferences say so from then on.
   */
  turnOnMultiCurrency(realmId: string): void;
  /** Invoices a bookkeeper enters by hand for a customer: `count` of them, one service line each. */
  enterInvoices(realmId: string, customerId: string, count: number, amount: number): Invoice[];
  /** Changes the amount of the invoice's first line (QuickBooks recomputes total and balance). */
  editInvoiceAmount(realmId: string, invoiceId: string, amount: number): Invoice;

  configureWebhooks(config: (Omit<WebhookConfig, 'verifierToken'> & { verifierToken?: string }) | null): void;
  deliverWebhook(
    payload: unknown,
    options?: { url?: string; verifierToken?: string; contentType?: string },
  ): Promise<{ status: number | 'network-error'; body: string; signature: string }>;
  readonly webhookDeliveries: WebhookDelivery[];
  /** Resolves when queued webhook batches have been delivered. */
  webhooksIdle(): Promise<void>;
}

/** Bookkeeper actions surface QBO's refusal as a plain Error carrying code and detail. */
function asError<T>(action: () => T): T {
  try {
    return action();
  } catch (err) {
    if (err instanceof QboFault) throw new Error(`QuickBooks refused (${err.code}): ${err.detail}`);
    throw err;
  }
}

/** Intuit never answers a hung request; after its 120 s server limit the connection is dropped. */
const HANG_LIMIT_MS = 120_000;

export async function startQuickBooksSandbox(
  options: QuickBooksSandboxOptions = {},
): Promise<QuickBooksSandbox> {
  const clientId = options.clientId ?? 'qbo-sandbox-client';
  const clientSecret = options.clientSecret ?? 'qbo-sandbox-secret';
  const realms = new Map<string, Realm>();
  let faultSettings: FaultSettings = {};
  const seed = options.faultSeed ?? faultSeed();
  const random = seededRandom(seed);
  const requests: RequestRecord[] = [];
  const sentEmails: SentEmail[] = [];
  const webhooks = new WebhookDispatcher(options.verifierToken);
  const throttle = new Throttle(options.throttle ?? { concurrent: 10, perMinute: 500, perSecond: 10 });
  const oauthConfig = {
    clientId,
    clientSecret,
    redirectUris: options.redirectUris ?? [],
    accessTokenTtlSeconds: options.accessTokenTtlSeconds ?? 3600,
    refreshTokenTtlSeconds: 8_726_400,
    consent: options.consent ?? (options.autoApprove === false ? 'prompt' : 'approve'),
    ...(options.defaultRealmId ? { defaultRealmId: options.defaultRealmId } : {}),
  };
  const oauth = new OAuthServer(
    oauthConfig,
    () => [...realms.keys()],
    () => faultSettings,
  );
  const hanging = new Set<Response>();
  const holds = new Holds<HeldQboRequest>();
  let origin = '';

  const realmOf = (realmId: string): Realm => {
    const realm = realms.get(realmId);
    if (!realm) throw new Error(`Unknown realm ${realmId}; call addRealm first`);
    return realm;
  };

  const app = express();
  app.disable('x-powered-by');
  app.use(oauth.router());
  app.use(
    '/v3/company/:realmId',
    express.raw({ type: () => true, limit: '110mb' }),
    createApiHandler({
      realms,
      oauth,
      throttle,
      faults: () => faultSettings,
      random,
      latencyMs: () => options.latencyMs,
      sentEmails,
      log: (r) => requests.push(r),
      hang: (res) => {
        hanging.add(res);
        const timer = setTimeout(() => res.socket?.destroy(), HANG_LIMIT_MS);
        res.on('close', () => {
          clearTimeout(timer);
          hanging.delete(res);
        });
      },
      holds,
      origin: () => origin,
    }),
  );
  app.get(['/', '/invoices'], (_req, res) => {
    res.type('html').send(invoicesPage([...realms.values()]));
  });

  const sandbox: QuickBooksSandbox = {
    get url() {
      return origin;
    },
    get authorizeUrl() {
      return `${origin}/connect/oauth2`;
    },
    get tokenUrl() {
      return `${origin}/oauth2/v1/tokens/bearer`;
    },
    get revokeUrl() {
      return `${origin}/v2/oauth2/tokens/revoke`;
    },
    get apiBaseUrl() {
      return origin;
    },
    get v3EndpointBaseUrl() {
      return `${origin}/v3/company/`;
    },
    clientId,
    clientSecret,
    close: async () => {
      webhooks.close();
      holds.releaseAll();
      for (const res of hanging) res.socket?.destroy();
      await new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      });
    },

    addRealm(realmId, input) {
      if (realms.has(realmId)) throw new Error(`Realm ${realmId} already exists`);
      realms.set(
        realmId,
        new Realm(realmId, input, (rid, entity, id, op) => webhooks.enqueue(rid, entity, id, op)),
      );
    },
    realmIds: () => [...realms.keys()],
    addCustomer: (realmId, input) => structuredClone(asError(() => seedCustomer(realmOf(realmId), input))),
    addItem: (realmId, input) => structuredClone(asError(() => createItem(realmOf(realmId), input))),
    issueTokens: (realmId) => {
      realmOf(realmId);
      return oauth.issue(realmId);
    },

    invoices: (realmId) => realmOf(realmId).snapshot<Invoice>('Invoice'),
    customers: (realmId) => realmOf(realmId).snapshot<Customer>('Customer'),
    payments: (realmId) => realmOf(realmId).snapshot<Payment>('Payment'),
    attachables: (realmId) => realmOf(realmId).snapshot('Attachable'),
    entity: <T extends Entity = Entity>(realmId: string, type: EntityName, id: string) => {
      const record = realmOf(realmId).get<T>(type, id);
      return record ? structuredClone(record) : undefined;
    },
    deactivate(realmId, type, id) {
      const realm = realmOf(realmId);
      const record = realm.get<Entity & { Active?: boolean }>(type, id);
      if (!record) throw new Error(`${type} ${id} not found in realm ${realmId}`);
      record.Active = false;
      realm.save(type, record, 'Delete');
    },
    attachmentContent: (realmId, attachableId) => realmOf(realmId).files.get(attachableId)?.bytes,

    requests,
    stats(realmId) {
      const own = requests.filter((r) => r.realmId === realmId);
      const byEndpoint: Record<string, number> = {};
      const byStatus: Record<string, number> = {};
      for (const r of own) {
        byEndpoint[r.endpoint] = (byEndpoint[r.endpoint] ?? 0) + 1;
        byStatus[r.status] = (byStatus[r.status] ?? 0) + 1;
      }
      const t = throttle.snapshot(realmId);
      return {
        total: own.length,
        byEndpoint,
        byStatus,
        maxConcurrent: t.maxConcurrent,
        maxPerMinute: t.maxPerMinute,
        maxPerSecond: t.maxPerSecond,
        lastMinute: t.lastMinute,
        throttled429: t.throttled429,
      };
    },
    get tokenRequests() {
      return oauth.counts();
    },
    tokenLog: oauth.tokenLog,
    revocations: oauth.revocations,
    sentEmails,

    setFaults(next) {
      faultSettings = { ...faultSettings, ...next };
    },
    clearFaults() {
      faultSettings = {};
    },
    hold: (match, phase) =>
      holds.add(
        (r) =>
          r.endpoint === match.endpoint &&
          (match.realmId === undefined || r.realmId === match.realmId) &&
          (match.query === undefined || match.query.test(r.query)),
        phase,
      ),
    get faults() {
      return { ...faultSettings };
    },
    faultSeed: seed,
    expireAccessTokens: (realmId) => oauth.expire(realmId),
    setConsent(mode) {
      oauthConfig.consent = mode;
    },
    chooseRealm(realmId) {
      oauthConfig.defaultRealmId = realmId;
    },

    recordPayment(realmId, invoiceId, amount, txnDate) {
      const realm = realmOf(realmId);
      const invoice = realm.get<Invoice>('Invoice', invoiceId);
      if (!invoice) throw new Error(`Invoice ${invoiceId} not found in realm ${realmId}`);
      const payment = asError(() =>
        createPayment(realm, {
          CustomerRef: { value: invoice.CustomerRef.value },
          CurrencyRef: { value: invoice.CurrencyRef.value },
          TotalAmt: amount,
          ...(txnDate ? { TxnDate: txnDate } : {}),
          Line: [{ Amount: amount, LinkedTxn: [{ TxnId: invoiceId, TxnType: 'Invoice' }] }],
        }),
      );
      return structuredClone(payment);
    },
    voidInvoice(realmId, invoiceId) {
      const realm = realmOf(realmId);
      const invoice = realm.get<Invoice>('Invoice', invoiceId);
      if (!invoice) throw new Error(`Invoice ${invoiceId} not found in realm ${realmId}`);
      return structuredClone(asError(() => applyVoid(realm, invoice)));
    },

    voidPayment(realmId, paymentId) {
      const realm = realmOf(realmId);
      const payment = realm.get<Payment>('Payment', paymentId);
      if (!payment) throw new Error(`Payment ${paymentId} not found in realm ${realmId}`);
      return structuredClone(
        asError(() => voidPayment(realm, { Id: paymentId, SyncToken: payment.SyncToken })),
      );
    },
    deletePayment(realmId, paymentId) {
      const realm = realmOf(realmId);
      const payment = realm.get<Payment>('Payment', paymentId);
      if (!payment) throw new Error(`Payment ${paymentId} not found in realm ${realmId}`);
      asError(() => deletePayment(realm, { Id: paymentId, SyncToken: payment.SyncToken }));
    },
    turnOnMultiCurrency(realmId) {
      const realm = realmOf(realmId);
      (realm.settings as { multiCurrency: boolean }).multiCurrency = true;
      const prefs = realm.get('Preferences', '1') as { CurrencyPrefs?: { MultiCurrencyEnabled?: boolean } };
      if (prefs.CurrencyPrefs) prefs.CurrencyPrefs.MultiCurrencyEnabled = true;
    },
    deleteInvoice(realmId, invoiceId) {
      const realm = realmOf(realmId);
      const invoice = realm.get<Invoice>('Invoice', invoiceId);
      if (!invoice) throw new Error(`Invoice ${invoiceId} not found in realm ${realmId}`);
      const ctx = { realm, params: new URLSearchParams(), sentEmails };
      asError(() => deleteInvoice(ctx, { Id: invoiceId, SyncToken: invoice.SyncToken }));
    },
    enterInvoices(realmId, customerId, count, amount) {
      const realm = realmOf(realmId);
      const ctx = { realm, params: new URLSearchParams(), sentEmails };
      const item = realm.list('Item').find((i) => i.Name === 'Services')!;
      return Array.from({ length: count }, () =>
        structuredClone(
          asError(() =>
            createInvoice(ctx, {
              CustomerRef: { value: customerId },
              Line: [
                {
                  Amount: amount,
                  DetailType: 'SalesItemLineDetail',
                  SalesItemLineDetail: { ItemRef: { value: item.Id }, Qty: 1, UnitPrice: amount },
                },
              ],
            }),
          ),
        ),
      );
    },
    editInvoiceAmount(realmId, invoiceId, amount) {
      const realm = realmOf(realmId);
      const invoice = realm.get<Invoice>('Invoice', invoiceId);
      if (!invoice) throw new Error(`Invoice ${invoiceId} not found in realm ${realmId}`);
      const ctx = { realm, params: new URLSearchParams(), sentEmails };
      const lines = structuredClone(invoice.Line).filter((l) => l.DetailType === 'SalesItemLineDetail');
      const first = lines[0] as { Amount: number; SalesItemLineDetail?: Record<string, unknown> };
      first.Amount = amount;
      if (first.SalesItemLineDetail) {
        first.SalesItemLineDetail.Qty = 1;
        first.SalesItemLineDetail.UnitPrice = amount;
      }
      return structuredClone(
        asError(() =>
          updateInvoice(ctx, { Id: invoiceId, SyncToken: invoice.SyncToken, sparse: true, Line: lines }),
        ),
      );
    },

    configureWebhooks: (config) => webhooks.configure(config),
    deliverWebhook: (payload, opts) => webhooks.deliver(payload, opts),
    webhookDeliveries: webhooks.deliveries,
    webhooksIdle: () => webhooks.idle(),
  };

  app.use('/__sandbox', adminRouter(sandbox));

  const server: Server = await new Promise((resolve, reject) => {
    const s = app.listen(options.port ?? 0, options.host ?? '127.0.0.1', (err?: Error) =>
      err ? reject(err) : resolve(s),
    );
  });
  server.on('connection', (socket: Socket) => socket.setNoDelay(true));
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  origin = `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${address.port}`;
  return sandbox;
}
