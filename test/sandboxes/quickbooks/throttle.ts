export interface ThrottleLimits {
  concurrent: number;
  perMinute: number;
  /** Default 10. */
  perSecond?: number;
}

interface RealmCounters {
  inFlight: number;
  /** Admission times within the last rolling minute. */
  window: number[];
  maxConcurrent: number;
  maxPerMinute: number;
  maxPerSecond: number;
  throttled429: number;
}

const MINUTE_MS = 60_000;
const SECOND_MS = 1_000;

/**
 * Intuit's per-realm limits: 10 concurrent requests, 500 per rolling minute and 10 per rolling
 * second (quickbooks.md §4.3); excess gets 429. Windows count arrivals that were admitted.
 */
export class Throttle {
  private readonly realms = new Map<string, RealmCounters>();

  constructor(private readonly limits: ThrottleLimits) {}

  private counters(realmId: string): RealmCounters {
    let c = this.realms.get(realmId);
    if (!c) {
      c = { inFlight: 0, window: [], maxConcurrent: 0, maxPerMinute: 0, maxPerSecond: 0, throttled429: 0 };
      this.realms.set(realmId, c);
    }
    return c;
  }

  /** Admits the request (true) or counts a 429 (false). Admitted requests must be released once. */
  tryAcquire(realmId: string): boolean {
    const c = this.counters(realmId);
    const now = Date.now();
    while (c.window.length > 0 && (c.window[0] as number) <= now - MINUTE_MS) c.window.shift();
    const lastSecond = this.since(c.window, now - SECOND_MS);
    if (
      c.inFlight >= this.limits.concurrent ||
      c.window.length >= this.limits.perMinute ||
      lastSecond >= (this.limits.perSecond ?? 10)
    ) {
      c.throttled429++;
      return false;
    }
    c.inFlight++;
    c.window.push(now);
    c.maxConcurrent = Math.max(c.maxConcurrent, c.inFlight);
    c.maxPerMinute = Math.max(c.maxPerMinute, c.window.length);
    c.maxPerSecond = Math.max(c.maxPerSecond, lastSecond + 1);
    return true;
  }

  /** How many admissions of the (sorted) window came after `after`. */
  private since(window: number[], after: number): number {
    let n = 0;
    for (let i = window.length - 1; i >= 0 && (window[i] as number) > after; i--) n++;
    return n;
  }

  release(realmId: string): void {
    const c = this.counters(realmId);
    c.inFlight = Math.max(0, c.inFlight - 1);
  }

  snapshot(realmId: string): Omit<RealmCounters, 'window'> & { lastMinute: number } {
    const { window, ...rest } = this.counters(realmId);
    const now = Date.now();
    return { ...rest, lastMinute: window.filter((t) => t > now - MINUTE_MS).length };
  }
}
