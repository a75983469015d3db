export interface ThrottleLimits {
  concurrent: number;
  perMinute: number;
}

interface RealmCounters {
  inFlight: number;
  /** Admission times within the last rolling minute. */
  window: number[];
  maxConcurrent: number;
  maxPerMinute: number;
  throttled429: number;
}

const MINUTE_MS = 60_000;

/** Intuit's per-realm limits: 10 concurrent requests and 500 per rolling minute; excess gets 429. */
export class Throttle {
  private readonly realms = new Map<string, RealmCounters>();

  constructor(private readonly limits: ThrottleLimits) {}

  private counters(realmId: string): RealmCounters {
    let c = this.realms.get(realmId);
    if (!c) {
      c = { inFlight: 0, window: [], maxConcurrent: 0, maxPerMinute: 0, throttled429: 0 };
      this.realms.set(realmId, c);
    }
    return c;
  }

  /** Admits the request (true) or counts a 429 (false). Admitted requests must be released once. */
  tryAcquire(realmId: string): boolean {
    const c = this.counters(realmId);
    const now = Date.now();
    while (c.window.length > 0 && (c.window[0] as number) <= now - MINUTE_MS) c.window.shift();
    if (c.inFlight >= this.limits.concurrent || c.window.length >= this.limits.perMinute) {
      c.throttled429++;
      return false;
    }
    c.inFlight++;
    c.window.push(now);
    c.maxConcurrent = Math.max(c.maxConcurrent, c.inFlight);
    c.maxPerMinute = Math.max(c.maxPerMinute, c.window.length);
    return true;
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
