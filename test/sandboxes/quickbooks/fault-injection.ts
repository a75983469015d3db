import { randomInt } from 'node:crypto';
import { faults, serviceUnavailableHtml, throttleXml } from './faults.ts';

export interface FaultSettings {
  /** Share (0..1) of API calls answered with a random 429 XML / 500 JSON Fault / 503 HTML page. */
  errorRate?: number;
  /** Extra latency per API call: fixed, or uniformly random in [min, max]. */
  latencyMs?: number | [number, number];
  /** Share (0..1) of invoice creates that succeed but whose response never arrives. */
  timeoutAfterCreateRate?: number;
  /**
   * Share (0..1) of invoice creates QuickBooks carries out only after `lateCreateMs` (default
   * 2 s): a client whose request timeout is shorter gives up before the invoice exists.
   */
  lateCreateRate?: number;
  lateCreateMs?: number;
  /**
   * Share (0..1) of invoice creates answered at once with a 504 gateway page while QuickBooks
   * carries the create out `lateCreateMs` later: a 5xx says nothing of whether the work was done
   * (Intuit's error guide: 500 "resubmit once", 503 unavailable; a gateway answers for the server
   * behind it).
   */
  gatewayTimeoutRate?: number;
  /**
   * Share (0..1) of API calls refused as a throttle answered HTTP 403 with Fault code 3001
   * (ThrottleExceeded), as seen by python-quickbooks#43 and quickbooks-ruby#338.
   */
  throttle403Rate?: number;
  /** Every access token is treated as expired (401) while set. */
  expireTokens?: boolean;
  /** Every refresh answers invalid_grant while set. */
  invalidGrant?: boolean;
}

export interface InjectedReply {
  status: number;
  contentType: string;
  body: string;
}

/** Uniform in [0, 1). */
export type Random = () => number;

/** mulberry32: a small seeded generator, so the draws of a run can be made again. */
export function seededRandom(seed: number): Random {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = Math.imul(state ^ (state >>> 15), state | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** FAULT_SEED when set, to replay a run's draws; else a new seed. */
export function faultSeed(env: NodeJS.ProcessEnv = process.env): number {
  const given = env.FAULT_SEED;
  if (!given) return randomInt(2 ** 31);
  if (!/^\d+$/.test(given)) throw new Error(`FAULT_SEED must be a non-negative integer, not ${given}`);
  return Number(given);
}

export function shouldInject(random: Random, rate: number | undefined): boolean {
  return rate !== undefined && rate > 0 && random() < rate;
}

export function injectedError(random: Random): InjectedReply {
  const pick = Math.floor(random() * 3);
  if (pick === 0) return { status: 429, contentType: 'application/xml', body: throttleXml() };
  if (pick === 1) {
    return {
      status: 500,
      contentType: 'application/json;charset=UTF-8',
      body: JSON.stringify(faults.systemFailure().toBody()),
    };
  }
  return { status: 503, contentType: 'text/html', body: serviceUnavailableHtml() };
}

export function latencyFor(
  random: Random,
  base: number | undefined,
  extra: FaultSettings['latencyMs'],
): number {
  let ms = base ?? 0;
  if (typeof extra === 'number') ms += extra;
  else if (Array.isArray(extra)) ms += extra[0] + random() * Math.max(0, extra[1] - extra[0]);
  return ms;
}
