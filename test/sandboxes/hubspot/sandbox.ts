import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type Hold, type HoldPhase, Holds } from '../holds.ts';
import { ALL_SCOPES } from './auth.ts';
import type { ApiChange, SandboxConfig, SandboxContext } from './context.ts';
import { issueAccessToken, issueRefreshToken } from './oauth.ts';
import { RollingWindowLimiter } from './rate-limit.ts';
import { type SeedInput, type SeedResult, seed, seedRealistic } from './seed.ts';
import { createApp } from './server.ts';
import { type AddPortalOptions, resolveObjectType, SandboxState } from './state.ts';
import type {
  CrmRecord,
  DeliveryResult,
  HubSpotWebhookEvent,
  ObjectTypeName,
  Portal,
  PortalUser,
  PropertyDefinition,
  PropertyGroupDefinition,
  RequestLogEntry,
  TokenRequestEntry,
} from './types.ts';
import {
  dealCreationEvent,
  dealDeletionEvent,
  dealPropertyChangeEvent,
  type EventOptions,
  type SendOptions,
  type SignInput,
  signedHeaders,
  signV3,
  WebhookDispatcher,
} from './webhooks.ts';

/** Whose card calls `hubspot.fetch`: a portal and one of its users (the installer if unnamed). */
export interface CardUser {
  portalId: number;
  userId?: number;
}

export interface HubSpotSandboxOptions {
  port?: number;
  host?: string;
  clientId?: string;
  clientSecret?: string;
  appId?: number;
  /** if given, authorize and code exchange only accept these redirect URIs */
  redirectUris?: string[];
  rateLimit?: { max: number; windowMs: number };
  /** per-portal search budget (HubSpot: 5 per second) */
  searchRateLimit?: { max: number; windowMs: number };
  accessTokenTtlSeconds?: number;
  webhookRetryDelaysMs?: number[];
  webhookTimeoutMs?: number;
  /** false = serve an HTML consent page with a "Connect app" button (browser demo) */
  autoApprove?: boolean;
  /** portal that auto-approve installs into; added if missing */
  portal?: number;
  /** answer 403 MISSING_SCOPES when a token lacks a route's scope (default true) */
  enforceScopes?: boolean;
}

export interface WebhookConfig {
  targetUrl: string;
  maxConcurrentRequests?: number;
  /** which changes produce events; default: deal creation/deletion and dealstage/amount/deal_currency_code changes */
  subscriptions?: Array<{ subscriptionType: string; propertyName?: string }>;
  /** also deliver events for changes the app itself makes through the API (HubSpot does) */
  emitOnApiChanges?: boolean;
  /** send `object.*` events with objectTypeId instead of legacy `deal.*` ones */
  generic?: boolean;
}

export interface TokenSet {
  accessToken: string;
  refreshToken: string;
  expiresIn: number;
  hubId: number;
}

export interface DealSnapshot {
  id: string;
  properties: Record<string, string>;
  createdAt: string;
  updatedAt: string;
  archived: boolean;
  primaryCompanyId?: string;
  companyIds: string[];
  contactIds: string[];
  noteIds: string[];
}

export interface NoteSnapshot {
  id: string;
  body: string | undefined;
  timestamp: string | undefined;
  properties: Record<string, string>;
  /** type ids on the note → deal association (214 for the standard one) */
  associationTypeIds: number[];
  createdAt: string;
}

export interface TokenRequestStats {
  total: number;
  byGrantType: Record<string, number>;
  list: TokenRequestEntry[];
}

export interface ChangeOptions {
  changeSource?: string;
  sourceId?: string;
}

const DEFAULT_SUBSCRIPTIONS = [
  { subscriptionType: 'deal.creation' },
  { subscriptionType: 'deal.deletion' },
  { subscriptionType: 'deal.propertyChange', propertyName: 'dealstage' },
  { subscriptionType: 'deal.propertyChange', propertyName: 'amount' },
  { subscriptionType: 'deal.propertyChange', propertyName: 'deal_currency_code' },
];

export class HubSpotSandbox {
  readonly url: string;
  private readonly webhookConfig: { current?: WebhookConfig } = {};
  private readonly pending = new Set<Promise<unknown>>();

  constructor(
    private readonly server: Server,
    private readonly ctx: SandboxContext,
    private readonly dispatcher: WebhookDispatcher,
  ) {
    const { port } = server.address() as AddressInfo;
    const host = (server.address() as AddressInfo).address;
    this.url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
    ctx.onApiChange = (portal, record, change) => this.echoApiChange(portal, record, change);
  }

  get clientId(): string {
    return this.ctx.config.clientId;
  }

  get clientSecret(): string {
    return this.ctx.config.clientSecret;
  }

  get appId(): number {
    return this.ctx.config.appId;
  }

  private get state(): SandboxState {
    return this.ctx.state;
  }

  async close(): Promise<void> {
    this.dispatcher.close();
    this.ctx.holds.releaseAll();
    await Promise.allSettled([...this.pending]);
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }

  // ── accounts and data ────────────────────────────────────────────────────

  addPortal(portalId: number, opts: AddPortalOptions = {}): void {
    this.state.addPortal(portalId, opts);
  }

  /** A user who signs in to the portal (a sales rep unless made a super admin or given roles). */
  addUser(portalId: number, user: Partial<PortalUser> & { id: number }): PortalUser {
    const portal = this.state.requirePortal(portalId);
    const added: PortalUser = {
      email: `user-${user.id}@portal-${portalId}.example.com`,
      firstName: 'Sales',
      lastName: `Rep ${user.id}`,
      superAdmin: false,
      roleIds: [],
      ...user,
    };
    portal.users = [...portal.users.filter((u) => u.id !== user.id), added];
    return added;
  }

  /** The user who installed apps into the portal, a super admin. */
  portalUserId(portalId: number): number {
    return this.state.requirePortal(portalId).userId;
  }

  /** The portal's roles (Settings > Users & Teams > Roles). */
  rolesOf(portalId: number): { id: string; name: string }[] {
    return this.state.requirePortal(portalId).roles;
  }

  /** The account the next install goes into, as a person picks it on HubSpot's page. */
  choosePortal(portalId: number): void {
    this.ctx.config.defaultPortalId = portalId;
  }

  seed(portalId: number, input: SeedInput): SeedResult {
    this.state.addPortal(portalId);
    return seed(this.state, portalId, input);
  }

  seedRealistic(portalId: number): SeedResult {
    return seedRealistic(this.state, portalId);
  }

  /** Adds a property definition directly (e.g. custom properties a test expects the app to find). */
  defineProperty(
    portalId: number,
    objectType: ObjectTypeName,
    def: Pick<PropertyDefinition, 'name' | 'label' | 'type' | 'fieldType' | 'groupName'> &
      Partial<PropertyDefinition>,
  ): void {
    const portal = this.state.requirePortal(portalId);
    const now = new Date().toISOString();
    portal.properties[objectType].set(def.name, {
      description: '',
      options: [],
      displayOrder: -1,
      calculated: false,
      externalOptions: false,
      hasUniqueValue: false,
      hidden: false,
      hubspotDefined: false,
      formField: false,
      readOnlyValue: false,
      createdAt: now,
      updatedAt: now,
      archived: false,
      ...def,
    });
  }

  definePropertyGroup(
    portalId: number,
    objectType: ObjectTypeName,
    group: { name: string; label: string; displayOrder?: number },
  ): void {
    const portal = this.state.requirePortal(portalId);
    portal.groups[objectType].set(group.name, { displayOrder: -1, archived: false, ...group });
  }

  getRecord(
    portalId: number,
    objectType: ObjectTypeName | string,
    id: string | number,
  ): CrmRecord | undefined {
    const type = resolveObjectType(objectType);
    const record = type
      ? this.state.getRecord(this.state.requirePortal(portalId), type, String(id))
      : undefined;
    return record ? structuredClone(record) : undefined;
  }

  /** Restores a deleted deal from HubSpot's recycle bin. */
  restoreDeal(portalId: number, dealId: string | number): void {
    const record = this.state.getRecord(this.state.requirePortal(portalId), 'deals', String(dealId));
    if (!record) return;
    record.archived = false;
    delete record.archivedAt;
    record.updatedAt = new Date().toISOString();
  }

  getDeal(portalId: number, dealId: string | number): DealSnapshot | undefined {
    const portal = this.state.requirePortal(portalId);
    const record = this.state.getRecord(portal, 'deals', String(dealId));
    if (!record) return undefined;
    const companies = this.state.associationsOf(portal, 'deals', record.id, 'companies');
    return {
      id: record.id,
      properties: { ...record.properties },
      createdAt: record.createdAt,
      updatedAt: record.updatedAt,
      archived: record.archived,
      primaryCompanyId: companies.find((e) => e.typeIds.has(5))?.toId,
      companyIds: companies.map((e) => e.toId),
      contactIds: this.state.associationsOf(portal, 'deals', record.id, 'contacts').map((e) => e.toId),
      noteIds: this.state.associationsOf(portal, 'deals', record.id, 'notes').map((e) => e.toId),
    };
  }

  listDeals(portalId: number): DealSnapshot[] {
    const portal = this.state.requirePortal(portalId);
    return [...portal.objects.deals.keys()].map((id) => this.getDeal(portalId, id)!);
  }

  notesFor(portalId: number, dealId: string | number): NoteSnapshot[] {
    const portal = this.state.requirePortal(portalId);
    return this.state.associationsOf(portal, 'deals', String(dealId), 'notes').map((edge) => {
      const note = portal.objects.notes.get(edge.toId)!;
      const back = this.state
        .associationsOf(portal, 'notes', note.id, 'deals')
        .find((e) => e.toId === String(dealId));
      return {
        id: note.id,
        body: note.properties.hs_note_body,
        timestamp: note.properties.hs_timestamp,
        properties: { ...note.properties },
        associationTypeIds: [...(back?.typeIds ?? [])].sort((a, b) => a - b),
        createdAt: note.createdAt,
      };
    });
  }

  /** Tasks associated with the deal, as a deal owner sees them in HubSpot. */
  tasksFor(
    portalId: number,
    dealId: string | number,
  ): { id: string; properties: Record<string, string | null> }[] {
    const portal = this.state.requirePortal(portalId);
    return this.state.associationsOf(portal, 'deals', String(dealId), 'tasks').map((edge) => {
      const task = portal.objects.tasks.get(edge.toId)!;
      return { id: task.id, properties: { ...task.properties } };
    });
  }

  propertiesOf(portalId: number, objectType: ObjectTypeName): PropertyDefinition[] {
    return [...this.state.requirePortal(portalId).properties[objectType].values()].map((p) =>
      structuredClone(p),
    );
  }

  propertyGroupsOf(portalId: number, objectType: ObjectTypeName): PropertyGroupDefinition[] {
    return [...this.state.requirePortal(portalId).groups[objectType].values()].map((g) => ({ ...g }));
  }

  // ── tokens ───────────────────────────────────────────────────────────────

  /** Mints an installation's tokens without the browser dance (as if the code exchange happened). */
  issueTokens(portalId: number, opts: { scopes?: string[] } = {}): TokenSet {
    const portal = this.state.requirePortal(portalId);
    const access = issueAccessToken(this.ctx, issueRefreshToken(this.ctx, portal, opts.scopes ?? ALL_SCOPES));
    return {
      accessToken: access.token,
      refreshToken: access.refreshToken,
      expiresIn: this.ctx.config.accessTokenTtlSeconds,
      hubId: portalId,
    };
  }

  /** The install URL an app would send users to (served by this sandbox, not app.hubspot.com). */
  authorizeUrl(params: {
    redirectUri: string;
    scopes: string[];
    optionalScopes?: string[];
    state?: string;
    portalId?: number;
  }): string {
    const url = new URL('/oauth/authorize', this.url);
    url.searchParams.set('client_id', this.clientId);
    url.searchParams.set('redirect_uri', params.redirectUri);
    url.searchParams.set('scope', params.scopes.join(' '));
    if (params.optionalScopes?.length)
      url.searchParams.set('optional_scope', params.optionalScopes.join(' '));
    if (params.state !== undefined) url.searchParams.set('state', params.state);
    if (params.portalId !== undefined) url.searchParams.set('portalId', String(params.portalId));
    return url.toString();
  }

  /** Makes current access tokens (of one portal, or all) expired one minute ago. */
  expireAccessTokens(portalId?: number): void {
    const past = Date.now() - 60_000;
    for (const token of this.state.accessTokens.values()) {
      if (portalId === undefined || token.portalId === portalId)
        token.expiresAt = Math.min(token.expiresAt, past);
    }
  }

  /** Uninstall: refresh tokens stop working (BAD_REFRESH_TOKEN) and so do issued access tokens. */
  revokeRefreshTokens(portalId: number): void {
    for (const token of this.state.refreshTokens.values())
      if (token.portalId === portalId) token.revoked = true;
    for (const token of this.state.accessTokens.values())
      if (token.portalId === portalId) token.revoked = true;
  }

  // ── logs and fault injection ─────────────────────────────────────────────

  get requests(): RequestLogEntry[] {
    return [...this.state.requestLog];
  }

  get tokenRequests(): TokenRequestStats {
    const list = [...this.state.tokenRequestLog];
    const byGrantType: Record<string, number> = {};
    for (const entry of list) byGrantType[entry.grantType] = (byGrantType[entry.grantType] ?? 0) + 1;
    return { total: list.length, byGrantType, list };
  }

  clearLogs(): void {
    this.state.requestLog.length = 0;
    this.state.tokenRequestLog.length = 0;
    this.dispatcher.deliveries.length = 0;
  }

  setLatency(ms: number): void {
    this.ctx.latencyMs = ms;
  }

  /**
   * The next `n` matching requests fail with `status`. `match` is a path prefix or RegExp
   * (default: every `/crm/` route); `body` overrides the JSON envelope (a string is sent as HTML).
   */
  failNext(n: number, status = 500, opts: { match?: string | RegExp; body?: unknown } = {}): void {
    this.ctx.faults.push({ remaining: n, status, ...opts });
  }

  /**
   * Stops the next request of `method` on a path starting with `path` (or matching it), before
   * HubSpot handles it or with its answer withheld, until the test releases it.
   */
  hold(match: { method: string; path: string | RegExp }, phase: HoldPhase): Hold {
    return this.ctx.holds.add(
      (r) =>
        r.method === match.method &&
        (typeof match.path === 'string' ? r.path.startsWith(match.path) : match.path.test(r.path)),
      phase,
    );
  }

  setRateLimit(limit: { max: number; windowMs: number }): void {
    this.ctx.limiter.max = limit.max;
    this.ctx.limiter.windowMs = limit.windowMs;
  }

  resetRateLimits(): void {
    this.ctx.limiter.reset();
    this.ctx.searchLimiter.reset();
  }

  // ── webhooks ─────────────────────────────────────────────────────────────

  configureWebhooks(config: WebhookConfig): void {
    this.webhookConfig.current = config;
    this.dispatcher.settings = {
      targetUrl: config.targetUrl,
      maxConcurrentRequests: config.maxConcurrentRequests ?? 10,
    };
  }

  sendWebhookBatch(events: HubSpotWebhookEvent[], opts: SendOptions = {}): Promise<DeliveryResult> {
    return this.track(this.dispatcher.send(events, opts));
  }

  get webhookDeliveries(): DeliveryResult[] {
    return [...this.dispatcher.deliveries];
  }

  dealPropertyChangeEvent(
    portalId: number,
    dealId: string | number,
    propertyName: string,
    value: string,
    opts: EventOptions = {},
  ): HubSpotWebhookEvent {
    return dealPropertyChangeEvent(portalId, dealId, propertyName, value, {
      appId: this.appId,
      ...this.sourceFor(portalId),
      ...opts,
    });
  }

  dealCreationEvent(portalId: number, dealId: string | number, opts: EventOptions = {}): HubSpotWebhookEvent {
    return dealCreationEvent(portalId, dealId, { appId: this.appId, ...this.sourceFor(portalId), ...opts });
  }

  dealDeletionEvent(portalId: number, dealId: string | number, opts: EventOptions = {}): HubSpotWebhookEvent {
    return dealDeletionEvent(portalId, dealId, { appId: this.appId, ...this.sourceFor(portalId), ...opts });
  }

  /** v3 signature of a request as HubSpot would sign it (for card / hubspot.fetch calls). */
  signRequest(input: SignInput): string {
    return signV3(this.clientSecret, input);
  }

  signedHeaders(input: Omit<SignInput, 'timestamp'> & { timestamp?: number }): Record<string, string> {
    return signedHeaders(this.clientSecret, { ...input, timestamp: input.timestamp ?? Date.now() });
  }

  /**
   * Calls the app the way `hubspot.fetch` from an app card does for `as`, a user of a portal (the
   * installing super admin unless named): JSON body, 15 s timeout, and what HubSpot's proxy adds, no
   * more: `userId`, `portalId`, `userEmail` and `appId` appended to the URL the card asked for,
   * whatever it already holds, then the v3 signature over that whole URL (README, "How card requests
   * are authenticated").
   */
  hubspotFetch(
    url: string,
    init: { as: CardUser; method?: string; body?: unknown; timeoutMs?: number; timestamp?: number },
  ): Promise<globalThis.Response> {
    const method = (init.method ?? 'GET').toUpperCase();
    const body = init.body === undefined ? '' : JSON.stringify(init.body);
    const portal = this.state.requirePortal(init.as.portalId);
    const userId = init.as.userId ?? portal.userId;
    const user = portal.users.find((u) => u.id === userId);
    if (!user) throw new Error(`HubSpot sandbox: user ${userId} is not a user of portal ${portal.id}`);
    const added = new URLSearchParams({
      userId: String(user.id),
      portalId: String(portal.id),
      userEmail: user.email,
      appId: String(this.appId),
    });
    url = `${url}${url.includes('?') ? '&' : '?'}${added}`;
    const headers: Record<string, string> = {
      'User-Agent': 'HubSpot Connect 2.0 (http://dev.hubspot.com/)',
      ...this.signedHeaders({ method, url, body, timestamp: init.timestamp }),
    };
    if (body) headers['Content-Type'] = 'application/json';
    return fetch(url, {
      method,
      headers,
      ...(body ? { body } : {}),
      signal: AbortSignal.timeout(init.timeoutMs ?? 15_000),
    });
  }

  // ── UI-style changes that also notify the app ───────────────────────────

  moveDealToStage(portalId: number, dealId: string | number, stageId: string, opts: ChangeOptions = {}) {
    return this.updateDeal(portalId, dealId, { dealstage: stageId }, opts);
  }

  setDealAmount(
    portalId: number,
    dealId: string | number,
    amount: string | number,
    opts: ChangeOptions = {},
  ) {
    return this.updateDeal(portalId, dealId, { amount: String(amount) }, opts);
  }

  /**
   * Changes deal properties as a HubSpot user would, then (if webhooks are configured) delivers one
   * batch with a propertyChange event per changed, subscribed property. Resolves to that delivery.
   */
  async updateDeal(
    portalId: number,
    dealId: string | number,
    properties: Record<string, string | number>,
    opts: ChangeOptions = {},
  ): Promise<DeliveryResult | undefined> {
    const portal = this.state.requirePortal(portalId);
    const record = this.state.getRecord(portal, 'deals', String(dealId));
    if (!record || record.archived)
      throw new Error(`HubSpot sandbox: deal ${dealId} not found in portal ${portalId}`);
    const { values, failures } = this.state.validateProperties(portal, 'deals', properties, record);
    if (failures.length > 0) {
      throw new Error(
        `HubSpot sandbox: ${failures.map((f) => `${f.name}: ${f.error} (${f.message})`).join('; ')}`,
      );
    }
    const changed = Object.fromEntries(Object.entries(values).filter(([k, v]) => record.properties[k] !== v));
    const source = { ...this.sourceFor(portalId), ...opts };
    this.state.updateRecord(portal, record, values, source.changeSource, source.sourceId);
    const events = Object.entries(changed)
      .filter(([name]) => this.subscribed('propertyChange', name))
      .map(([name, value]) =>
        this.dealPropertyChangeEvent(portalId, record.id, name, value, this.eventOpts(source)),
      );
    return events.length > 0 ? this.sendWebhookBatch(events) : undefined;
  }

  /** Creates a deal as a HubSpot user would and delivers `deal.creation` if subscribed. */
  async createDeal(
    portalId: number,
    properties: Record<string, string | number>,
    opts: ChangeOptions & { companyId?: string; contactIds?: string[] } = {},
  ): Promise<{ dealId: string; delivery?: DeliveryResult }> {
    const source = { ...this.sourceFor(portalId), ...opts };
    const [dealId] = this.seed(portalId, { deals: [{ properties }] }).deals;
    const portal = this.state.requirePortal(portalId);
    if (opts.companyId) this.state.associate(portal, 'deals', dealId!, opts.companyId, 5);
    for (const contactId of opts.contactIds ?? [])
      this.state.associate(portal, 'deals', dealId!, contactId, 3);
    if (!this.subscribed('creation')) return { dealId: dealId! };
    const delivery = await this.sendWebhookBatch([
      this.dealCreationEvent(portalId, dealId!, this.eventOpts(source)),
    ]);
    return { dealId: dealId!, delivery };
  }

  /** Archives a deal as a HubSpot user would and delivers `deal.deletion` if subscribed. */
  async deleteDeal(
    portalId: number,
    dealId: string | number,
    opts: ChangeOptions = {},
  ): Promise<DeliveryResult | undefined> {
    const portal = this.state.requirePortal(portalId);
    const record = this.state.getRecord(portal, 'deals', String(dealId));
    if (!record || record.archived)
      throw new Error(`HubSpot sandbox: deal ${dealId} not found in portal ${portalId}`);
    this.state.archiveRecord(record);
    if (!this.subscribed('deletion')) return undefined;
    return this.sendWebhookBatch([
      this.dealDeletionEvent(portalId, record.id, this.eventOpts({ ...this.sourceFor(portalId), ...opts })),
    ]);
  }

  private sourceFor(portalId: number): { changeSource: string; sourceId: string } {
    const portal = this.state.portals.get(portalId);
    return { changeSource: 'CRM_UI', sourceId: `userId:${portal?.userId ?? 45678}` };
  }

  private eventOpts(source: ChangeOptions): EventOptions {
    return { ...source, generic: this.webhookConfig.current?.generic ?? false };
  }

  private subscribed(kind: 'creation' | 'deletion' | 'propertyChange', propertyName?: string): boolean {
    const config = this.webhookConfig.current;
    if (!config) return false;
    const subs = config.subscriptions ?? DEFAULT_SUBSCRIPTIONS;
    return subs.some(
      (s) =>
        (s.subscriptionType === `deal.${kind}` || s.subscriptionType === `object.${kind}`) &&
        (kind !== 'propertyChange' || s.propertyName === propertyName),
    );
  }

  private echoApiChange(portal: Portal, record: CrmRecord, change: ApiChange): void {
    const config = this.webhookConfig.current;
    if (!config?.emitOnApiChanges || record.type !== 'deals') return;
    const source = this.eventOpts({ changeSource: 'INTEGRATION', sourceId: String(this.appId) });
    let events: HubSpotWebhookEvent[] = [];
    if (change.kind === 'created' && this.subscribed('creation'))
      events = [this.dealCreationEvent(portal.id, record.id, source)];
    if (change.kind === 'archived' && this.subscribed('deletion'))
      events = [this.dealDeletionEvent(portal.id, record.id, source)];
    if (change.kind === 'updated') {
      events = Object.entries(change.changed)
        .filter(([name]) => this.subscribed('propertyChange', name))
        .map(([name, value]) => this.dealPropertyChangeEvent(portal.id, record.id, name, value, source));
    }
    // HubSpot delivers asynchronously, after the API call has been answered.
    if (events.length > 0) setImmediate(() => void this.sendWebhookBatch(events).catch(() => undefined));
  }

  private track<T>(promise: Promise<T>): Promise<T> {
    this.pending.add(promise);
    void promise.finally(() => this.pending.delete(promise)).catch(() => undefined);
    return promise;
  }
}

export const DEFAULT_CLIENT_ID = '5e0d7a8c-3b1f-4c2a-9d6e-7f8a9b0c1d2e';
export const DEFAULT_CLIENT_SECRET = 'a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d';
export const DEFAULT_APP_ID = 1160452;

export async function startHubSpotSandbox(options: HubSpotSandboxOptions = {}): Promise<HubSpotSandbox> {
  const state = new SandboxState();
  if (options.portal !== undefined) state.addPortal(options.portal);
  const config: SandboxConfig = {
    clientId: options.clientId ?? DEFAULT_CLIENT_ID,
    clientSecret: options.clientSecret ?? DEFAULT_CLIENT_SECRET,
    appId: options.appId ?? DEFAULT_APP_ID,
    redirectUris: options.redirectUris,
    accessTokenTtlSeconds: options.accessTokenTtlSeconds ?? 1800,
    autoApprove: options.autoApprove ?? true,
    defaultPortalId: options.portal,
    enforceScopes: options.enforceScopes ?? true,
  };
  const rate = options.rateLimit ?? { max: 110, windowMs: 10_000 };
  const searchRate = options.searchRateLimit ?? { max: 5, windowMs: 1000 };
  const ctx: SandboxContext = {
    state,
    config,
    limiter: new RollingWindowLimiter(rate.max, rate.windowMs),
    searchLimiter: new RollingWindowLimiter(searchRate.max, searchRate.windowMs),
    faults: [],
    holds: new Holds(),
    latencyMs: 0,
  };
  const dispatcher = new WebhookDispatcher(
    () => config.clientSecret,
    options.webhookRetryDelaysMs ?? [100, 200, 400],
    options.webhookTimeoutMs ?? 5000,
  );
  const app = createApp(ctx);
  const server = await new Promise<Server>((resolve, reject) => {
    const s = app.listen(options.port ?? 0, options.host ?? '127.0.0.1', (err?: Error) =>
      err ? reject(err) : resolve(s),
    );
  });
  return new HubSpotSandbox(server, ctx, dispatcher);
}
