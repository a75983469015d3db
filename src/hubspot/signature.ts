import { createHmac } from 'node:crypto';
import { safeEqual } from '../security/crypto.ts';

const MAX_AGE_MS = 5 * 60_000;
/** Clocks differ a little; a timestamp further ahead than this was not made now. */
const MAX_SKEW_MS = 30_000;

/** HubSpot decodes these before hashing the URI (request-validation docs). */
const DECODE: Record<string, string> = {
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

export function signatureUri(url: string): string {
  return url.replace(/%(3A|2F|3F|40|21|24|27|28|29|2A|2C|3B)/gi, (m) => DECODE[m.toUpperCase()] ?? m);
}

export type SignatureCheck = { ok: true } | { ok: false; reason: string };

/**
 * HubSpot's v3 signature: base64 HMAC-SHA256 with the app's client secret over
 * method + full URL + raw body + timestamp; at most five minutes old; compared in constant time.
 */
export function verifyV3(input: {
  clientSecret: string;
  method: string;
  url: string;
  rawBody: Buffer;
  signature: string | undefined;
  timestamp: string | undefined;
  now?: number;
}): SignatureCheck {
  if (!input.signature || !input.timestamp)
    return { ok: false, reason: 'the v3 signature headers are missing' };
  const sent = Number(input.timestamp);
  if (!Number.isFinite(sent)) return { ok: false, reason: 'X-HubSpot-Request-Timestamp is not a number' };
  const now = input.now ?? Date.now();
  if (now - sent > MAX_AGE_MS) return { ok: false, reason: 'the request is more than 5 minutes old' };
  if (sent - now > MAX_SKEW_MS) return { ok: false, reason: 'the request timestamp lies in the future' };
  // Over the body's bytes as sent: decoding them as text first would let two bodies share a signature.
  const expected = createHmac('sha256', input.clientSecret)
    .update(`${input.method}${signatureUri(input.url)}`)
    .update(input.rawBody)
    .update(input.timestamp)
    .digest('base64');
  return safeEqual(expected, input.signature)
    ? { ok: true }
    : { ok: false, reason: 'the signature does not match' };
}
