import { z } from 'zod';
import { isCurrency } from '../domain/currencies.ts';
import { DomainError } from '../domain/errors.ts';
import { type Connection, type Portal, request, withHubSpot } from './client.ts';

const AccountDetails = z.looseObject({ companyCurrency: z.string() });

/** A portal's company currency is set once and seldom changed: a day in Redis spares the reads. */
const CURRENCY_TTL_S = 24 * 3600;

/**
 * The portal's company currency (account-info details): what HubSpot shows a deal's amount in
 * when the deal has no currency of its own. Never guessed: a portal that does not say is an error.
 */
export async function portalCurrency(conn: Connection, portal: Portal): Promise<string> {
  const key = `hubspot:portal-currency:${portal.portalId}`;
  const hit = await conn.redis.get(key);
  if (hit) return hit;
  const details = await withHubSpot(
    conn,
    portal,
    (client) => request(client, { method: 'GET', path: '/account-info/2026-03/details' }, AccountDetails),
    { safeToRepeat: true },
  );
  const currency = details.companyCurrency.toUpperCase();
  if (!isCurrency(currency)) {
    throw new DomainError(
      'hubspot_error',
      `HubSpot gives the portal's company currency as "${details.companyCurrency}", which is not an ISO 4217 currency`,
    );
  }
  await conn.redis.set(key, currency, 'EX', CURRENCY_TTL_S);
  return currency;
}
