/**
 * Rolling-window counter per key (portal). Only accepted requests are counted, so a client that
 * keeps hammering after a 429 recovers once its earlier requests age out of the window — as on HubSpot.
 */
export class RollingWindowLimiter {
  private readonly hits = new Map<string, number[]>();

  constructor(
    public max: number,
    public windowMs: number,
  ) {}

  /** Records a hit if allowed; returns whether it was allowed and what remains in the window. */
  take(key: string, now = Date.now()): { allowed: boolean; remaining: number } {
    const recent = this.prune(key, now);
    if (recent.length >= this.max) return { allowed: false, remaining: 0 };
    recent.push(now);
    return { allowed: true, remaining: this.max - recent.length };
  }

  remaining(key: string, now = Date.now()): number {
    return Math.max(0, this.max - this.prune(key, now).length);
  }

  reset(): void {
    this.hits.clear();
  }

  private prune(key: string, now: number): number[] {
    const cutoff = now - this.windowMs;
    const list = (this.hits.get(key) ?? []).filter((t) => t > cutoff);
    this.hits.set(key, list);
    return list;
  }
}

export const TEN_SECONDLY_BODY = {
  message: 'You have reached your ten_secondly_rolling limit.',
  policyName: 'TEN_SECONDLY_ROLLING',
};

// The SDK's RetryDecorator recognises search throttling by this exact message.
export const SECONDLY_BODY = {
  message: 'You have reached your secondly limit.',
  policyName: 'SECONDLY',
};
