import { createHmac, randomUUID } from 'node:crypto';
import type { WebhookOperation } from './types.ts';
import { sleep } from './util.ts';

export type WebhookFormat = 'legacy' | 'cloudevents';

export interface WebhookConfig {
  url: string;
  verifierToken: string;
  format: WebhookFormat;
  /** Entities that notify (default Invoice, Payment, Customer). */
  entities?: string[];
  /** How long changes are collected into one POST (default 50 ms). */
  batchMs?: number;
  /** Waits before each retry of a non-200 delivery; Intuit's real schedule is 10 s, 20 s, 30 s, 5 min… */
  retryDelaysMs?: number[];
}

export interface WebhookDelivery {
  at: string;
  url: string;
  format: WebhookFormat | 'custom';
  attempt: number;
  status: number | 'network-error';
  body: string;
}

interface PendingEvent {
  realmId: string;
  entity: string;
  id: string;
  operation: WebhookOperation;
  at: Date;
}

const PAST_TENSE: Record<WebhookOperation, string> = {
  Create: 'created',
  Update: 'updated',
  Delete: 'deleted',
  Void: 'voided',
  Emailed: 'emailed',
  Merge: 'merged',
};

const EVENTS_PER_POST = 100;

/** Intuit answers within 3 s or counts the delivery as failed. */
const DELIVERY_TIMEOUT_MS = 3_000;

export function signature(verifierToken: string, rawBody: string | Buffer): string {
  return createHmac('sha256', verifierToken).update(rawBody).digest('base64');
}

export function legacyPayload(events: PendingEvent[]): unknown {
  const byRealm = new Map<string, PendingEvent[]>();
  for (const e of events) byRealm.set(e.realmId, [...(byRealm.get(e.realmId) ?? []), e]);
  return {
    eventNotifications: [...byRealm].map(([realmId, list]) => ({
      realmId,
      dataChangeEvent: {
        entities: list.map((e) => ({
          name: e.entity,
          id: e.id,
          operation: e.operation,
          lastUpdated: e.at.toISOString(),
        })),
      },
    })),
  };
}

export function cloudEventsPayload(events: PendingEvent[]): unknown[] {
  return events.map((e) => ({
    specversion: '1.0',
    id: randomUUID(),
    source: `intuit.${Buffer.from(`qbo-sandbox:${e.realmId}`).toString('base64')}`,
    type: `qbo.${e.entity.toLowerCase()}.${PAST_TENSE[e.operation]}.v1`,
    datacontenttype: 'application/json',
    time: e.at.toISOString(),
    intuitentityid: e.id,
    intuitaccountid: e.realmId,
    data: {},
  }));
}

/**
 * Outgoing notifications. Batches go out strictly in order and a failing batch holds back the
 * ones behind it while it retries, as Intuit's queue does.
 */
export class WebhookDispatcher {
  private config: WebhookConfig | undefined;
  private pending: PendingEvent[] = [];
  private timer: NodeJS.Timeout | undefined;
  private chain: Promise<void> = Promise.resolve();
  private closed = false;
  readonly deliveries: WebhookDelivery[] = [];

  constructor(private readonly defaultVerifierToken: string | undefined) {}

  configure(config: (Omit<WebhookConfig, 'verifierToken'> & { verifierToken?: string }) | null): void {
    if (!config) {
      this.config = undefined;
      return;
    }
    const verifierToken = config.verifierToken ?? this.defaultVerifierToken;
    if (!verifierToken)
      throw new Error('configureWebhooks needs a verifierToken (or the sandbox verifierToken option)');
    this.config = { ...config, verifierToken };
  }

  get current(): WebhookConfig | undefined {
    return this.config;
  }

  enqueue(realmId: string, entity: string, id: string, operation: WebhookOperation): void {
    const config = this.config;
    if (!config || this.closed) return;
    const entities = config.entities ?? ['Invoice', 'Payment', 'Customer'];
    if (!entities.includes(entity)) return;
    this.pending.push({ realmId, entity, id, operation, at: new Date() });
    this.timer ??= setTimeout(() => this.flush(), config.batchMs ?? 50);
  }

  private flush(): void {
    this.timer = undefined;
    const config = this.config;
    const events = this.pending;
    this.pending = [];
    if (!config || events.length === 0) return;
    const contentType = config.format === 'cloudevents' ? 'application/cloudevents+json' : 'application/json';
    // Intuit sends at most about 100 events in one POST, in order.
    for (let i = 0; i < events.length; i += EVENTS_PER_POST) {
      const batch = events.slice(i, i + EVENTS_PER_POST);
      const body = JSON.stringify(
        config.format === 'cloudevents' ? cloudEventsPayload(batch) : legacyPayload(batch),
      );
      this.chain = this.chain.then(() => this.deliverWithRetries(config, body, contentType));
    }
  }

  private async deliverWithRetries(config: WebhookConfig, body: string, contentType: string): Promise<void> {
    const delays = config.retryDelaysMs ?? [200, 500, 1_000];
    for (let attempt = 1; attempt <= delays.length + 1 && !this.closed; attempt++) {
      const status = await this.post(
        config.url,
        body,
        contentType,
        config.verifierToken,
        config.format,
        attempt,
      );
      if (status === 200) return;
      const delay = delays[attempt - 1];
      if (delay !== undefined) await sleep(delay);
    }
  }

  private async post(
    url: string,
    body: string,
    contentType: string,
    verifierToken: string,
    format: WebhookDelivery['format'],
    attempt: number,
  ): Promise<number | 'network-error'> {
    let status: number | 'network-error';
    try {
      const res = await fetch(url, {
        method: 'POST',
        headers: {
          'content-type': contentType,
          'intuit-signature': signature(verifierToken, body),
          'intuit-t-id': randomUUID(),
          'user-agent': 'Intuit-Webhooks/1.0 (qbo-sandbox)',
        },
        body,
        signal: AbortSignal.timeout(DELIVERY_TIMEOUT_MS),
      });
      await res.arrayBuffer().catch(() => undefined);
      status = res.status;
    } catch {
      status = 'network-error';
    }
    this.deliveries.push({ at: new Date().toISOString(), url, format, attempt, status, body });
    return status;
  }

  /** One signed POST of a caller-chosen payload (object or exact raw string). */
  async deliver(
    payload: unknown,
    options: { url?: string; verifierToken?: string; contentType?: string } = {},
  ): Promise<{ status: number | 'network-error'; body: string; signature: string }> {
    const url = options.url ?? this.config?.url;
    const verifierToken = options.verifierToken ?? this.config?.verifierToken ?? this.defaultVerifierToken;
    if (!url || !verifierToken)
      throw new Error('deliverWebhook needs a configured webhook url and verifierToken');
    const body = typeof payload === 'string' ? payload : JSON.stringify(payload);
    const contentType =
      options.contentType ?? (Array.isArray(payload) ? 'application/cloudevents+json' : 'application/json');
    const status = await this.post(url, body, contentType, verifierToken, 'custom', 1);
    return { status, body, signature: signature(verifierToken, body) };
  }

  /** Resolves once everything queued so far has been delivered (or given up on). */
  async idle(): Promise<void> {
    while (this.timer || this.pending.length > 0) {
      await sleep(10);
    }
    await this.chain;
  }

  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.pending = [];
  }
}
