import { setTimeout as sleep } from 'node:timers/promises';
import pRetry from 'p-retry';

/**
 * The one retry policy for calls to HubSpot and QuickBooks. A failure is tried again only when it
 * may pass by itself (network, timeout, 429, 5xx) and repeating the call cannot do its work twice:
 * the call is safe to repeat (a read, a PATCH of the same values, a create answered 409 when the
 * thing exists), or the platform refused it before doing anything (a 429). A write whose outcome is
 * unknown is never repeated here; its caller knows how to find out (the push ledger's DocNumber
 * lookup, the note search).
 */
export interface RetryPolicy {
  /** Tries in all, the first included. */
  attempts: number;
  /** The call changes nothing when it runs twice. */
  safeToRepeat: boolean;
  /** The failure may pass by itself. */
  transient(error: unknown): boolean;
  /** The platform refused the call before running it, so even an unsafe call may go again. */
  notRun?(error: unknown): boolean;
  /** One extra try, once, whatever the rest says: e.g. a 401 after which the token was refreshed. */
  recoverOnce?(error: unknown): boolean;
  /** First backoff; it doubles, with jitter. */
  minDelayMs?: number;
  /**
   * How long the platform said to stay away after this failure (HubSpot's rate-limit window):
   * waited before the usual backoff, which a window of seconds would otherwise not outlast.
   */
  delayMs?(error: unknown): number | undefined;
  signal?: AbortSignal | undefined;
}

export function withRetries<T>(call: (attempt: number) => Promise<T>, policy: RetryPolicy): Promise<T> {
  let recovered = false;
  return pRetry(call, {
    retries: policy.attempts - 1,
    minTimeout: policy.minDelayMs ?? 200,
    maxTimeout: 10_000,
    randomize: true,
    signal: policy.signal,
    async shouldRetry({ error }) {
      if (!recovered && policy.recoverOnce?.(error)) {
        recovered = true;
        return true;
      }
      const retry = policy.transient(error) && (policy.safeToRepeat || (policy.notRun?.(error) ?? false));
      const wait = retry ? policy.delayMs?.(error) : undefined;
      if (wait) await sleep(wait, undefined, { signal: policy.signal });
      return retry;
    },
  });
}
