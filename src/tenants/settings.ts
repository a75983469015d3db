import { eq, sql } from 'drizzle-orm';
import type { Queryable } from '../store/db.ts';
import { type TenantSettings, tenants } from '../store/schema.ts';
import type { Tenant } from './repository.ts';

/** What an admin changes in the settings page; `null` clears a choice. */
export type SettingsChanges = { [K in keyof TenantSettings]?: TenantSettings[K] | null };

/** Merges the changes into the tenant's settings in one statement, so two saves never lose each other's fields. */
export async function updateSettings(
  db: Queryable,
  tenant: Tenant,
  changes: SettingsChanges,
): Promise<TenantSettings> {
  const set = Object.fromEntries(Object.entries(changes).filter(([, v]) => v !== null && v !== undefined));
  const cleared = Object.entries(changes)
    .filter(([, v]) => v === null)
    .map(([k]) => k);
  const [row] = await db
    .update(tenants)
    .set({
      settings: sql`(${tenants.settings} || ${JSON.stringify(set)}::jsonb) - ${
        cleared.length
          ? sql`ARRAY[${sql.join(
              cleared.map((k) => sql`${k}`),
              sql`, `,
            )}]`
          : sql`'{}'`
      }::text[]`,
    })
    .where(eq(tenants.id, tenant.id))
    .returning({ settings: tenants.settings });
  return row!.settings;
}
