import { z } from 'zod';
import { isCurrency } from '../domain/currencies.ts';
import { parseAmount } from '../domain/money.ts';
import { type HubSpotDeps, type Portal, withHubSpot } from './client.ts';

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

export interface BillingParty {
  company: { id: string; name: string; domain: string | null; address: Record<string, string | null> } | null;
  contacts: { id: string; name: string; email: string | null }[];
}

export interface Deal extends BillingParty {
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

/** A deal with its primary company and contacts, the billing party of its invoices. */
export async function fetchDeal(
  deps: HubSpotDeps,
  portal: Portal,
  dealId: string,
  fallbackCurrency = 'USD',
): Promise<Deal> {
  const raw = await withHubSpot(deps, portal, (client) =>
    client.crm.deals.basicApi.getById(dealId, DEAL_PROPERTIES, undefined, ['companies', 'contacts']),
  );
  const deal = DealResponse.parse(raw);
  const p = deal.properties;
  const code = p.deal_currency_code?.toUpperCase();
  const currency = code && isCurrency(code) ? code : fallbackCurrency;
  const party = await billingParty(deps, portal, deal.associations ?? {});
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
    ...party,
  };
}

async function billingParty(
  deps: HubSpotDeps,
  portal: Portal,
  associations: Record<string, { results: { id: string; type: string }[] }>,
): Promise<BillingParty> {
  const companies = associations.companies?.results ?? [];
  // Each company is listed twice (labelled primary and unlabelled): the primary label wins.
  const primary = companies.find((c) => c.type === 'deal_to_company') ?? companies[0];
  const contactIds = [...new Set((associations.contacts?.results ?? []).map((c) => c.id))].slice(0, 100);
  const [company, contacts] = await Promise.all([
    primary
      ? withHubSpot(deps, portal, (client) =>
          client.crm.companies.basicApi.getById(primary.id, [
            'name',
            'domain',
            'address',
            'city',
            'state',
            'zip',
            'country',
          ]),
        ).then((c) => CompanyResponse.parse(c))
      : null,
    contactIds.length
      ? withHubSpot(deps, portal, (client) =>
          client.crm.contacts.batchApi.read({
            inputs: contactIds.map((id) => ({ id })),
            properties: ['firstname', 'lastname', 'email'],
            propertiesWithHistory: [],
          }),
        ).then((r) => z.array(ContactResponse).parse(r.results))
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
