import { and, eq } from 'drizzle-orm';
import { decrypt, encrypt } from '../security/crypto.ts';
import type { Db } from '../store/db.ts';
import { oauthGrants, tenants } from '../store/schema.ts';

/**
 * Re-seals every stored secret with the current key (step 3 of rotating ENCRYPTION_KEY): the
 * platforms' tokens and the acceptance signing secrets. Each row is written only if it is still
 * what was read, so a token refreshed meanwhile is never put back to its older value.
 */
export async function rekey(db: Db, key: Buffer): Promise<{ resealed: number; changedMeanwhile: number }> {
  let resealed = 0;
  let changedMeanwhile = 0;
  const count = (rows: unknown[]) => (rows.length ? resealed++ : changedMeanwhile++);

  for (const g of await db.select().from(oauthGrants)) {
    const rows = await db
      .update(oauthGrants)
      .set({
        accessToken: encrypt(key, decrypt(key, g.accessToken)),
        refreshToken: encrypt(key, decrypt(key, g.refreshToken)),
      })
      .where(
        and(
          eq(oauthGrants.tenantId, g.tenantId),
          eq(oauthGrants.provider, g.provider),
          eq(oauthGrants.accessToken, g.accessToken),
          eq(oauthGrants.refreshToken, g.refreshToken),
        ),
      )
      .returning({ tenantId: oauthGrants.tenantId });
    count(rows);
  }
  for (const t of await db.select({ id: tenants.id, secret: tenants.acceptanceSecret }).from(tenants)) {
    const rows = await db
      .update(tenants)
      .set({ acceptanceSecret: encrypt(key, decrypt(key, t.secret)) })
      .where(and(eq(tenants.id, t.id), eq(tenants.acceptanceSecret, t.secret)))
      .returning({ id: tenants.id });
    count(rows);
  }
  return { resealed, changedMeanwhile };
}
