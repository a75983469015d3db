import { z } from 'zod';
import { isCurrency } from '../domain/currencies.ts';
import { parseAmount } from '../domain/money.ts';
import { portalCurrency } from './account.ts';
import { type Connection, type Portal, request, withHubSpot } from './client.ts';

const DEAL_PROPERTIES = [
  'dealname',
  'amount',
  'deal_currency_code',
  'dealstage',
  'pipeline',
  'closedate',
  'hubspot_owner_id',
];

const nullableString = z
  .string()
  .nullish()
  .transform((v) => (v === '' ? null : (v ?? null)));

const DealResponse = z.object({
  id: z.string(),
  properties: z.object(Object.fromEntries(DEAL_PROPERTIES.map((p) => [p, nullableString]))),
  associations: z
    .record(z.string(), z.object({ results: z.array(z.object({ id: z.string(), type: z.string() })) }))
    .nullish(),
});

const CompanyResponse = z.object({
  id: z.string(),
  properties: z.object({
    name: nullableString,
    domain: nullableString,
    address: nullableString,
    city: nullableString,
    state: nullableString,
    zip: nullableString,
    country: nullableString,
  }),
});

const ContactResponse = z.object({
  id: z.string(),
  properties: z.object({ firstname: nullableString, lastname: nullableString, email: nullableString }),
});

/** Who the deal is with: its primary company and its contacts. */
export interface DealParties {
  company: { id: string; name: string; domain: string | null; address: Record<string, string | null> } | null;
  contacts: { id: string; name: string; email: string | null }[];
}

export interface Deal extends DealParties {
  id: string;
  name: string;
  /** Minor units of `currency`; null when the deal has no amount. */
  amount: number | null;
  currency: string;
  stage: string | null;
  pipeline: string | null;
  closeDate: string | null;
  ownerId: string | null;
}

const CompanyProperties = ['name', 'domain', 'address', 'city', 'state', 'zip', 'country'];

/**
 * A deal with its primary company and contacts. A deal without its own currency is in the
 * portal's company currency, as HubSpot shows it. `deadline`: see withHubSpot.
 */
export async function fetchDeal(
  conn: Connection,
  portal: Portal,
  dealId: string,
  opts: { deadline?: number | undefined } = {},
): Promise<Deal> {
  const READ = { safeToRepeat: true, deadline: opts.deadline };
  const deal = await withHubSpot(
    conn,
    portal,
    (client) =>
      request(
        client,
        {
          method: 'GET',
          path: `/crm/objects/2026-03/0-3/${encodeURIComponent(dealId)}`,
          qs: { properties: DEAL_PROPERTIES.join(','), associations: 'companies,contacts' },
        },
        DealResponse,
      ),
    READ,
  );
  const p = deal.properties;
  const code = p.deal_currency_code?.toUpperCase();
  const currency = code && isCurrency(code) ? code : await portalCurrency(conn, portal);
  const parties = await partiesOf(conn, portal, deal.associations ?? {}, READ);
  return {
    id: deal.id,
    name: p.dealname ?? `Deal ${deal.id}`,
    // HubSpot amounts may carry more decimals than the currency: rounded half-up, exactly.
    amount: p.amount ? parseAmount(p.amount, currency, { round: true }) : null,
    currency,
    stage: p.dealstage ?? null,
    pipeline: p.pipeline ?? null,
    closeDate: p.closedate ? p.closedate.slice(0, 10) : null,
    ownerId: p.hubspot_owner_id ?? null,
    ...parties,
  };
}

async function partiesOf(
  conn: Connection,
  portal: Portal,
  associations: Record<string, { results: { id: string; type: string }[] }>,
  READ: { safeToRepeat: boolean; deadline?: number | undefined },
): Promise<DealParties> {
  const companies = associations.companies?.results ?? [];
  // Each company is listed twice (labelled primary and unlabelled): the primary label wins.
  const primary = companies.find((c) => c.type === 'deal_to_company') ?? companies[0];
  const contactIds = [...new Set((associations.contacts?.results ?? []).map((c) => c.id))].slice(0, 100);
  const [company, contacts] = await Promise.all([
    primary
      ? withHubSpot(
          conn,
          portal,
          (client) =>
            request(
              client,
              {
                method: 'GET',
                path: `/crm/objects/2026-03/0-2/${encodeURIComponent(primary.id)}`,
                qs: { properties: CompanyProperties.join(',') },
              },
              CompanyResponse,
            ),
          READ,
        )
      : null,
    contactIds.length
      ? withHubSpot(
          conn,
          portal,
          (client) =>
            request(
              client,
              {
                method: 'POST',
                path: '/crm/objects/2026-03/0-1/batch/read',
                body: {
                  inputs: contactIds.map((id) => ({ id })),
                  properties: ['firstname', 'lastname', 'email'],
                  propertiesWithHistory: [],
                },
              },
              z.object({ results: z.array(ContactResponse) }),
            ),
          READ,
        ).then((r) => r.results)
      : [],
  ]);
  return {
    company: company && {
      id: company.id,
      name: company.properties.name ?? company.properties.domain ?? `Company ${company.id}`,
      domain: company.properties.domain,
      address: {
        line1: company.properties.address,
        city: company.properties.city,
        state: company.properties.state,
        postalCode: company.properties.zip,
        country: company.properties.country,
      },
    },
    contacts: contacts.map((c) => ({
      id: c.id,
      name:
        [c.properties.firstname, c.properties.lastname].filter(Boolean).join(' ') ||
        (c.properties.email ?? c.id),
      email: c.properties.email,
    })),
  };
}

const RECENT_DEAL_S = 300;

/**
 * The deal as HubSpot had it at most five minutes ago, shared by every process through Redis.
 * Invoice pushes read the billing party through this: three HubSpot calls per invoice would make
 * HubSpot's 110 requests per 10 s, not Intuit's 500 a minute, the limit of a backlog.
 */
export async function recentDeal(conn: Connection, portal: Portal, dealId: string): Promise<Deal> {
  const key = `hubspot:deal:${portal.tenantId}:${dealId}`;
  const hit = await conn.redis.get(key);
  if (hit) return JSON.parse(hit) as Deal;
  const deal = await fetchDeal(conn, portal, dealId);
  await conn.redis.set(key, JSON.stringify(deal), 'EX', RECENT_DEAL_S);
  return deal;
}
