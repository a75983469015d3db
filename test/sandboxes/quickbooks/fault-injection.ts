import { faults, serviceUnavailableHtml, throttleXml } from './faults.ts';

export interface FaultSettings {
  /** Share (0..1) of API calls answered with a random 429 XML / 500 JSON Fault / 503 HTML page. */
  errorRate?: number;
  /** Extra latency per API call: fixed, or uniformly random in [min, max]. */
  latencyMs?: number | [number, number];
  /** Share (0..1) of invoice creates that succeed but whose response never arrives. */
  timeoutAfterCreateRate?: number;
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

export function shouldInject(rate: number | undefined): boolean {
  return rate !== undefined && rate > 0 && Math.random() < rate;
}

export function injectedError(): InjectedReply {
  const pick = Math.floor(Math.random() * 3);
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

export function latencyFor(base: number | undefined, extra: FaultSettings['latencyMs']): number {
  let ms = base ?? 0;
  if (typeof extra === 'number') ms += extra;
  else if (Array.isArray(extra)) ms += extra[0] + Math.random() * Math.max(0, extra[1] - extra[0]);
  return ms;
}
