import { and, eq, gt } from 'drizzle-orm';
import { randomSecret, sha256 } from '../security/crypto.ts';
import type { Queryable } from '../store/db.ts';
import { signInLinks } from '../store/schema.ts';

export type LinkPurpose = (typeof signInLinks.$inferSelect)['purpose'];

/** Long enough to open a window and sign in to Intuit's page, short enough to be useless later. */
const LINK_TTL_MS = 5 * 60_000;

/**
 * A link for one use within minutes (`ttlMs`, 5 minutes unless given); only the token's hash is
 * kept, so the table yields no link.
 */
export async function mintSignInLink(
  db: Queryable,
  link: { tenantId: string; purpose: LinkPurpose; actor: string; userEmail: string | null },
  opts: { ttlMs?: number } = {},
): Promise<{ token: string; expiresAt: Date }> {
  const token = randomSecret('', 32);
  const expiresAt = new Date(Date.now() + (opts.ttlMs ?? LINK_TTL_MS));
  await db.insert(signInLinks).values({ tokenHash: sha256(token), ...link, expiresAt });
  return { token, expiresAt };
}

const valid = (token: string, purpose: LinkPurpose) =>
  and(
    eq(signInLinks.tokenHash, sha256(token)),
    eq(signInLinks.purpose, purpose),
    gt(signInLinks.expiresAt, new Date()),
  );

/** The link's tenant while it is valid, without using it up (the page that asks to confirm). */
export async function findSignInLink(db: Queryable, token: string, purpose: LinkPurpose) {
  const [row] = await db.select().from(signInLinks).where(valid(token, purpose));
  return row;
}

/** Deleting the row is what makes the link single-use: a second click finds nothing. */
export async function redeemSignInLink(db: Queryable, token: string, purpose: LinkPurpose) {
  const [row] = await db.delete(signInLinks).where(valid(token, purpose)).returning();
  return row;
}
