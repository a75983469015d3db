import { createHmac } from 'node:crypto';
import { safeEqual } from '../security/crypto.ts';

const MAX_AGE_MS = 5 * 60_000;

/** `X-Acceptance-Signature: t=<unix ms>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>` (DESIGN §4.4). */
export function signAcceptance(secret: string, rawBody: string | Buffer, timestamp = Date.now()): string {
  return `t=${timestamp},v1=${mac(secret, String(timestamp), rawBody)}`;
}

/** Over the bytes as sent: decoding them as text first would let two bodies share a signature. */
const mac = (secret: string, timestamp: string, rawBody: string | Buffer) =>
  createHmac('sha256', secret).update(`${timestamp}.`).update(rawBody).digest('hex');

export function verifyAcceptance(
  secret: string,
  rawBody: Buffer,
  header: string | undefined,
  now = Date.now(),
): { ok: true } | { ok: false; reason: string } {
  if (!header) return { ok: false, reason: 'the X-Acceptance-Signature header is missing' };
  const parts = Object.fromEntries(header.split(',').map((p) => p.trim().split('=', 2) as [string, string]));
  const t = Number(parts.t);
  if (!parts.t || !Number.isInteger(t) || !parts.v1) {
    return { ok: false, reason: 'X-Acceptance-Signature must look like t=<unix ms>,v1=<hex>' };
  }
  if (Math.abs(now - t) > MAX_AGE_MS)
    return { ok: false, reason: 'the signature timestamp is more than 5 minutes from now' };
  const expected = mac(secret, parts.t, rawBody);
  return safeEqual(expected, parts.v1) ? { ok: true } : { ok: false, reason: 'the signature does not match' };
}
