import { createCipheriv, createDecipheriv, createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * AES-256-GCM with a random 96-bit nonce: `v1.<nonce>.<tag>.<ciphertext>` in base64url. The
 * version prefix leaves room for key rotation.
 */
export function encrypt(key: Buffer, plaintext: string): string {
  const nonce = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, nonce);
  const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return ['v1', nonce, cipher.getAuthTag(), body]
    .map((p) => (typeof p === 'string' ? p : p.toString('base64url')))
    .join('.');
}

/**
 * Keys being rotated out (ENCRYPTION_KEY_PREVIOUS): they still open what they sealed, they seal
 * nothing. Set once when a process starts; see README "Rotating ENCRYPTION_KEY".
 */
let retired: readonly Buffer[] = [];
export function retireKeys(keys: readonly Buffer[]): void {
  retired = keys;
}

export function decrypt(key: Buffer, sealed: string): string {
  const [version, nonce, tag, body] = sealed.split('.');
  if (version !== 'v1' || !nonce || !tag || body === undefined) throw new Error('not a sealed secret');
  const open = (k: Buffer) => {
    const decipher = createDecipheriv('aes-256-gcm', k, Buffer.from(nonce, 'base64url'));
    decipher.setAuthTag(Buffer.from(tag, 'base64url'));
    return Buffer.concat([decipher.update(Buffer.from(body, 'base64url')), decipher.final()]).toString(
      'utf8',
    );
  };
  // GCM's tag tells a wrong key for certain: the first key the tag verifies under is the one.
  let failure: unknown;
  for (const k of [key, ...retired.filter((r) => !r.equals(key))]) {
    try {
      return open(k);
    } catch (error) {
      failure ??= error;
    }
  }
  throw failure;
}

export function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

export function randomSecret(prefix: string, bytes = 32): string {
  return `${prefix}${randomBytes(bytes).toString('base64url')}`;
}

/** Constant-time comparison that does not leak the length through an exception. */
export function safeEqual(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}
