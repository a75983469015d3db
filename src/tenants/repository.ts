import { and, eq, isNull } from 'drizzle-orm';
import { DomainError } from '../domain/errors.ts';
import { newId } from '../ids.ts';
import { decrypt, encrypt, randomSecret, sha256 } from '../security/crypto.ts';
import type { Queryable } from '../store/db.ts';
import { apiKeys, tenants } from '../store/schema.ts';

export type Tenant = typeof tenants.$inferSelect;

/** Creates the tenant of a HubSpot portal, or returns the one it already has. */
export async function ensureTenant(
  db: Queryable,
  key: Buffer,
  portalId: string,
  name: string,
): Promise<{ tenant: Tenant; created: boolean }> {
  const existing = await findTenantByPortal(db, portalId);
  if (existing) return { tenant: existing, created: false };
  const [tenant] = await db
    .insert(tenants)
    .values({ id: newId('ten'), portalId, name, acceptanceSecret: encrypt(key, randomSecret('whsec_')) })
    .onConflictDoNothing({ target: tenants.portalId })
    .returning();
  if (tenant) return { tenant, created: true };
  return { tenant: (await findTenantByPortal(db, portalId))!, created: false };
}

export async function findTenantByPortal(db: Queryable, portalId: string): Promise<Tenant | undefined> {
  const [tenant] = await db.select().from(tenants).where(eq(tenants.portalId, portalId));
  return tenant;
}

export async function findTenant(db: Queryable, tenantId: string): Promise<Tenant | undefined> {
  const [tenant] = await db.select().from(tenants).where(eq(tenants.id, tenantId));
  return tenant;
}

export async function requireTenant(db: Queryable, tenantId: string): Promise<Tenant> {
  const tenant = await findTenant(db, tenantId);
  if (!tenant) throw new DomainError('not_found', `no tenant ${tenantId}`);
  return tenant;
}

/** The tenant's HubSpot portal, as the HubSpot adapter addresses it. */
export const portalOf = (tenant: Tenant) => ({ tenantId: tenant.id, portalId: tenant.portalId });

export async function requireTenantByPortal(db: Queryable, portalId: string): Promise<Tenant> {
  const tenant = await findTenantByPortal(db, portalId);
  if (!tenant) throw new DomainError('not_found', `no tenant for HubSpot portal ${portalId}`);
  return tenant;
}

export function acceptanceSecret(key: Buffer, tenant: Tenant): string {
  return decrypt(key, tenant.acceptanceSecret);
}

/** A new signing secret for the acceptance webhook; the old one stops working at once. */
export async function rotateAcceptanceSecret(db: Queryable, key: Buffer, tenant: Tenant): Promise<string> {
  const secret = randomSecret('whsec_');
  await db
    .update(tenants)
    .set({ acceptanceSecret: encrypt(key, secret) })
    .where(eq(tenants.id, tenant.id));
  return secret;
}

/** Issues an API key; only its hash is kept, so this is the one time it can be shown. */
export async function createApiKey(
  db: Queryable,
  tenantId: string,
  name: string,
): Promise<{ id: string; key: string }> {
  const key = randomSecret('mbk_');
  const id = newId('key');
  await db.insert(apiKeys).values({ id, tenantId, name, prefix: key.slice(0, 10), hash: sha256(key) });
  return { id, key };
}

export async function authenticateApiKey(
  db: Queryable,
  key: string,
): Promise<{ tenant: Tenant; keyId: string } | undefined> {
  const [row] = await db
    .select({ tenant: tenants, keyId: apiKeys.id })
    .from(apiKeys)
    .innerJoin(tenants, eq(tenants.id, apiKeys.tenantId))
    .where(and(eq(apiKeys.hash, sha256(key)), isNull(apiKeys.revokedAt)));
  return row;
}

export async function listApiKeys(db: Queryable, tenantId: string) {
  return db
    .select({
      id: apiKeys.id,
      name: apiKeys.name,
      prefix: apiKeys.prefix,
      createdAt: apiKeys.createdAt,
      revokedAt: apiKeys.revokedAt,
    })
    .from(apiKeys)
    .where(eq(apiKeys.tenantId, tenantId))
    .orderBy(apiKeys.createdAt);
}

/** Revoked keys stop authenticating at once; the row stays, so the listing shows when. */
export async function revokeApiKey(db: Queryable, tenantId: string, keyId: string): Promise<void> {
  const [row] = await db
    .update(apiKeys)
    .set({ revokedAt: new Date() })
    .where(and(eq(apiKeys.id, keyId), eq(apiKeys.tenantId, tenantId), isNull(apiKeys.revokedAt)))
    .returning({ id: apiKeys.id });
  if (!row) throw new DomainError('not_found', `no active API key ${keyId}`);
}
