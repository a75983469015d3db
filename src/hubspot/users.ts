import { z } from 'zod';
import { type Connection, type Portal, request, withHubSpot } from './client.ts';

/**
 * A user's record in HubSpot's user-provisioning API, dated 2026-03: PublicUserMarch2026 requires
 * `id`, `email`, `roleIds` and `superAdmin`, every id a string (HubSpot-public-api-spec-collection,
 * Settings/User Provisioning/…/2026-03/userProvisioning.json). Needs `settings.users.read`.
 */
const PublicUser = z.looseObject({
  id: z.string(),
  email: z.string(),
  roleIds: z.array(z.string()),
  superAdmin: z.boolean(),
});

const Roles = z.looseObject({ results: z.array(z.looseObject({ id: z.string(), name: z.string() })) });

export interface PortalUser {
  id: string;
  email: string;
  superAdmin: boolean;
  roleIds: string[];
}

/** Rights change seldom and are asked on every settings call: five minutes in Redis, shared. */
const USER_TTL_S = 5 * 60;

/** The user's rights as HubSpot has them, at most five minutes old. */
export async function portalUser(
  conn: Connection,
  portal: Portal,
  userId: string,
  deadline?: number,
): Promise<PortalUser> {
  const key = `hubspot:user:${portal.portalId}:${userId}`;
  const hit = await conn.redis.get(key);
  if (hit) return JSON.parse(hit) as PortalUser;
  const user = await withHubSpot(
    conn,
    portal,
    (client) =>
      request(
        client,
        {
          method: 'GET',
          path: `/settings/users/2026-03/${encodeURIComponent(userId)}`,
          qs: { idProperty: 'USER_ID' },
        },
        PublicUser,
      ),
    { safeToRepeat: true, deadline },
  );
  const found: PortalUser = {
    id: user.id,
    email: user.email,
    superAdmin: user.superAdmin,
    roleIds: user.roleIds,
  };
  await conn.redis.set(key, JSON.stringify(found), 'EX', USER_TTL_S);
  return found;
}

/** The portal's roles (Settings > Users & Teams > Roles), for naming who may manage the app. */
export async function portalRoles(conn: Connection, portal: Portal, deadline?: number) {
  const { results } = await withHubSpot(
    conn,
    portal,
    (client) => request(client, { method: 'GET', path: '/settings/users/2026-03/roles' }, Roles),
    { safeToRepeat: true, deadline },
  );
  return results.map((r) => ({ id: r.id, name: r.name }));
}
