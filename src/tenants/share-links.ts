import { and, desc, eq, gt, isNull } from 'drizzle-orm';
import { newId } from '../ids.ts';
import { randomSecret, sha256 } from '../security/crypto.ts';
import type { Queryable } from '../store/db.ts';
import { shareLinks } from '../store/schema.ts';

export const SHARE_LINK_MAX_DAYS = 90;

/** A read-only link for a bookkeeper: the token is returned once, the table keeps its hash. */
export async function createShareLink(
  db: Queryable,
  link: { tenantId: string; label: string; days: number; createdBy: string },
) {
  const token = randomSecret('', 32);
  const [row] = await db
    .insert(shareLinks)
    .values({
      id: newId('shl'),
      tenantId: link.tenantId,
      tokenHash: sha256(token),
      label: link.label,
      createdBy: link.createdBy,
      expiresAt: new Date(Date.now() + link.days * 86_400_000),
    })
    .returning();
  return { token, link: shareLinkView(row!) };
}

export async function listShareLinks(db: Queryable, tenantId: string) {
  const rows = await db
    .select()
    .from(shareLinks)
    .where(eq(shareLinks.tenantId, tenantId))
    .orderBy(desc(shareLinks.createdAt));
  return rows.map(shareLinkView);
}

/** Revoking ends the link and, through requireSession's check, every session it started. */
export async function revokeShareLink(db: Queryable, tenantId: string, id: string) {
  const [row] = await db
    .update(shareLinks)
    .set({ revokedAt: new Date() })
    .where(and(eq(shareLinks.tenantId, tenantId), eq(shareLinks.id, id), isNull(shareLinks.revokedAt)))
    .returning();
  return row && shareLinkView(row);
}

/** The live link a token opens: not expired, not revoked. */
const live = (token: string) =>
  and(
    eq(shareLinks.tokenHash, sha256(token)),
    isNull(shareLinks.revokedAt),
    gt(shareLinks.expiresAt, new Date()),
  );

/** A share link still valid, without marking it used (the page that asks to confirm). */
export async function findShareLink(db: Queryable, token: string) {
  const [row] = await db.select().from(shareLinks).where(live(token));
  return row;
}

/** The live link a token opens, noting its use. */
export async function redeemShareLink(db: Queryable, token: string) {
  const [row] = await db.update(shareLinks).set({ lastUsedAt: new Date() }).where(live(token)).returning();
  return row;
}

function shareLinkView(row: typeof shareLinks.$inferSelect) {
  const state = row.revokedAt ? 'revoked' : row.expiresAt <= new Date() ? 'expired' : 'active';
  return {
    id: row.id,
    label: row.label,
    state,
    createdBy: row.createdBy,
    createdAt: row.createdAt.toISOString(),
    expiresAt: row.expiresAt.toISOString(),
    revokedAt: row.revokedAt?.toISOString() ?? null,
    lastUsedAt: row.lastUsedAt?.toISOString() ?? null,
  };
}
