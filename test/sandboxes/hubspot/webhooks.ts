import { createHash, createHmac, randomInt } from 'node:crypto';
import type { DeliveryAttempt, DeliveryResult, HubSpotWebhookEvent } from './types.ts';

export const MAX_EVENTS_PER_BATCH = 100;
const USER_AGENT = 'HubSpot Connect 2.0 (http://dev.hubspot.com/) - WebhooksExecutorDaemon-executor';

// Escapes HubSpot decodes in the request URI before computing a v3 signature (reference §2.3).
const DECODED_ESCAPES: Record<string, string> = {
  '%3A': ':',
  '%2F': '/',
  '%3F': '?',
  '%40': '@',
  '%21': '!',
  '%24': '$',
  '%27': "'",
  '%28': '(',
  '%29': ')',
  '%2A': '*',
  '%2C': ',',
  '%3B': ';',
};

export function decodeSignedUri(url: string): string {
  return url.replace(
    /%(3A|2F|3F|40|21|24|27|28|29|2A|2C|3B)/gi,
    (m) => DECODED_ESCAPES[m.toUpperCase()] ?? m,
  );
}

export interface SignInput {
  method: string;
  url: string;
  body: string | Buffer;
  timestamp: number | string;
}

/** v3: base64 HMAC-SHA256 keyed with the client secret over method + URI + body + timestamp. */
/** Over the bytes HubSpot sends: a body given as text is its UTF-8 encoding. */
export function signV3(clientSecret: string, input: SignInput): string {
  return createHmac('sha256', clientSecret)
    .update(`${input.method.toUpperCase()}${decodeSignedUri(input.url)}`, 'utf8')
    .update(typeof input.body === 'string' ? Buffer.from(input.body, 'utf8') : input.body)
    .update(String(input.timestamp), 'utf8')
    .digest('base64');
}

/** v1: hex SHA-256 (plain hash, not HMAC) of client secret + body. */
export function signV1(clientSecret: string, body: string): string {
  return createHash('sha256').update(`${clientSecret}${body}`, 'utf8').digest('hex');
}

/** Headers HubSpot puts on a signed request (webhook deliveries add the v1 pair on top). */
export function signedHeaders(clientSecret: string, input: SignInput): Record<string, string> {
  return {
    'X-HubSpot-Signature-v3': signV3(clientSecret, input),
    'X-HubSpot-Request-Timestamp': String(input.timestamp),
  };
}

export interface EventOptions {
  appId?: number;
  eventId?: number;
  subscriptionId?: number;
  occurredAt?: number;
  attemptNumber?: number;
  changeSource?: string;
  sourceId?: string;
  /** send the generic `object.*` form (objectTypeId "0-3") instead of the legacy `deal.*` form */
  generic?: boolean;
}

const DEFAULT_APP_ID = 1160452;

/** Stable per-subscription ids so tests can tell subscriptions apart, like HubSpot's. */
export function subscriptionIdFor(subscriptionType: string, propertyName?: string): number {
  const digest = createHash('sha1')
    .update(`${subscriptionType}:${propertyName ?? ''}`)
    .digest();
  return 2_500_000 + (digest.readUInt32BE(0) % 100_000);
}

function baseEvent(
  portalId: number,
  dealId: string | number,
  kind: 'propertyChange' | 'creation' | 'deletion',
  opts: EventOptions,
  propertyName?: string,
): HubSpotWebhookEvent {
  const subscriptionType = opts.generic ? `object.${kind}` : `deal.${kind}`;
  return {
    // Event ids are random and not unique across deliveries, as HubSpot warns.
    eventId: opts.eventId ?? randomInt(1_000_000_000, 4_000_000_000),
    subscriptionId: opts.subscriptionId ?? subscriptionIdFor(subscriptionType, propertyName),
    portalId,
    appId: opts.appId ?? DEFAULT_APP_ID,
    occurredAt: opts.occurredAt ?? Date.now(),
    subscriptionType,
    attemptNumber: opts.attemptNumber ?? 0,
    objectId: Number(dealId),
    ...(opts.generic ? { objectTypeId: '0-3' } : {}),
  };
}

export function dealPropertyChangeEvent(
  portalId: number,
  dealId: string | number,
  propertyName: string,
  value: string,
  opts: EventOptions = {},
): HubSpotWebhookEvent {
  return {
    ...baseEvent(portalId, dealId, 'propertyChange', opts, propertyName),
    propertyName,
    propertyValue: value,
    changeSource: opts.changeSource ?? 'CRM_UI',
    sourceId: opts.sourceId ?? 'userId:45678',
    ...(opts.generic ? { isSensitive: false } : {}),
  };
}

export function dealCreationEvent(
  portalId: number,
  dealId: string | number,
  opts: EventOptions = {},
): HubSpotWebhookEvent {
  return {
    ...baseEvent(portalId, dealId, 'creation', opts),
    changeFlag: 'CREATED',
    changeSource: opts.changeSource ?? 'CRM_UI',
    sourceId: opts.sourceId ?? 'userId:45678',
  };
}

export function dealDeletionEvent(
  portalId: number,
  dealId: string | number,
  opts: EventOptions = {},
): HubSpotWebhookEvent {
  return {
    ...baseEvent(portalId, dealId, 'deletion', opts),
    changeFlag: 'DELETED',
    changeSource: opts.changeSource ?? 'CRM_UI',
    sourceId: opts.sourceId ?? 'userId:45678',
  };
}

export interface WebhookSettings {
  targetUrl: string;
  maxConcurrentRequests: number;
}

export interface SendOptions {
  /** fixed X-HubSpot-Request-Timestamp for every attempt (e.g. a stale one, to test rejection) */
  timestamp?: number;
  /** false = a single attempt */
  retry?: boolean;
}

/** Delivers signed batches with HubSpot's retry behaviour, on short test-friendly delays. */
export class WebhookDispatcher {
  settings?: WebhookSettings;
  readonly deliveries: DeliveryResult[] = [];
  private active = 0;
  private readonly waiting: Array<() => void> = [];
  private readonly sleepers = new Map<NodeJS.Timeout, () => void>();
  private closed = false;

  constructor(
    private readonly clientSecret: () => string,
    private readonly retryDelaysMs: number[],
    private readonly timeoutMs: number,
  ) {}

  async send(events: HubSpotWebhookEvent[], opts: SendOptions = {}): Promise<DeliveryResult> {
    const settings = this.settings;
    if (!settings) throw new Error('HubSpot sandbox: configureWebhooks({ targetUrl }) first');
    if (events.length === 0) throw new Error('HubSpot sandbox: a webhook batch needs at least one event');
    if (events.length > MAX_EVENTS_PER_BATCH) {
      throw new Error(
        `HubSpot sandbox: HubSpot sends at most ${MAX_EVENTS_PER_BATCH} events per request (got ${events.length})`,
      );
    }
    const result: DeliveryResult = {
      delivered: false,
      targetUrl: settings.targetUrl,
      eventCount: events.length,
      attempts: [],
    };
    this.deliveries.push(result);
    const maxAttempts = opts.retry === false ? 1 : this.retryDelaysMs.length + 1;
    for (let attemptNumber = 0; attemptNumber < maxAttempts && !this.closed; attemptNumber++) {
      if (attemptNumber > 0) await this.sleep(this.retryDelaysMs[attemptNumber - 1] ?? 0);
      if (this.closed) break;
      const attempt = await this.withSlot(() =>
        this.attempt(settings.targetUrl, events, attemptNumber, opts.timestamp),
      );
      result.attempts.push(attempt);
      if (attempt.status !== undefined && attempt.status >= 200 && attempt.status < 300) {
        result.delivered = true;
        break;
      }
    }
    return result;
  }

  private async attempt(
    targetUrl: string,
    events: HubSpotWebhookEvent[],
    attemptNumber: number,
    fixedTimestamp?: number,
  ): Promise<DeliveryAttempt> {
    const body = JSON.stringify(events.map((e) => ({ ...e, attemptNumber })));
    const timestamp = fixedTimestamp ?? Date.now();
    const secret = this.clientSecret();
    const headers = {
      'Content-Type': 'application/json',
      'User-Agent': USER_AGENT,
      'X-HubSpot-Signature': signV1(secret, body),
      'X-HubSpot-Signature-Version': 'v1',
      ...signedHeaders(secret, { method: 'POST', url: targetUrl, body, timestamp }),
    };
    const started = Date.now();
    try {
      const response = await fetch(targetUrl, {
        method: 'POST',
        headers,
        body,
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      // Drain the body so the socket is released; HubSpot ignores its content.
      await response.arrayBuffer().catch(() => undefined);
      return { attemptNumber, status: response.status, durationMs: Date.now() - started, at: started };
    } catch (err) {
      const error =
        err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError')
          ? `timeout after ${this.timeoutMs} ms`
          : err instanceof Error
            ? `${err.message}${err.cause instanceof Error ? `: ${err.cause.message}` : ''}`
            : String(err);
      return { attemptNumber, error, durationMs: Date.now() - started, at: started };
    }
  }

  private async withSlot<T>(work: () => Promise<T>): Promise<T> {
    const limit = this.settings?.maxConcurrentRequests ?? 10;
    while (this.active >= limit) await new Promise<void>((resolve) => this.waiting.push(resolve));
    this.active++;
    try {
      return await work();
    } finally {
      this.active--;
      this.waiting.shift()?.();
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.sleepers.delete(timer);
        resolve();
      }, ms);
      this.sleepers.set(timer, resolve);
    });
  }

  close(): void {
    this.closed = true;
    // Wake pending retries so their send() promises settle instead of hanging.
    for (const [timer, resolve] of this.sleepers) {
      clearTimeout(timer);
      resolve();
    }
    this.sleepers.clear();
    for (const resolve of this.waiting.splice(0)) resolve();
  }
}
