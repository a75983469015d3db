import { Counter, Gauge, Histogram, Registry } from 'prom-client';

/**
 * What an operator watches (Prometheus at /metrics). One registry per process: web and worker each
 * report their own, and a scrape of each adds up to the whole.
 */
export const registry = new Registry();

export const webhooksReceived = new Counter({
  name: 'mb_webhooks_received_total',
  help: 'Webhook events received with a valid signature, by source and what became of them',
  labelNames: ['source', 'outcome'] as const,
  registers: [registry],
});

export const webhooksRejected = new Counter({
  name: 'mb_webhooks_rejected_total',
  help: 'Webhook deliveries refused before anything was stored, by source and reason',
  labelNames: ['source', 'reason'] as const,
  registers: [registry],
});

export const platformCalls = new Counter({
  name: 'mb_platform_calls_total',
  help: 'Requests to HubSpot and QuickBooks, by platform and kind (read or write)',
  labelNames: ['platform', 'kind'] as const,
  registers: [registry],
});

export const platformThrottled = new Counter({
  name: 'mb_platform_throttled_total',
  help: 'Requests HubSpot or QuickBooks refused with 429 (retried after the window)',
  labelNames: ['platform'] as const,
  registers: [registry],
});

export const pushLatency = new Histogram({
  name: 'mb_push_latency_seconds',
  help: 'From the acceptance recorded to its invoice created in QuickBooks',
  buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300],
  registers: [registry],
});

export const failures = new Counter({
  name: 'mb_failures_total',
  help: 'Things that now need a person, by code (an invoice QuickBooks refused, a lost connection…)',
  labelNames: ['code'] as const,
  registers: [registry],
});

export const remindersSent = new Counter({
  name: 'mb_reminders_sent_total',
  help: 'Overdue reminders sent (QuickBooks email and HubSpot task), by outcome',
  labelNames: ['outcome'] as const,
  registers: [registry],
});

export const queueDepth = new Gauge({
  name: 'mb_queue_jobs',
  help: 'Jobs in the queues by state, read at scrape time',
  labelNames: ['queue', 'state'] as const,
  registers: [registry],
});
