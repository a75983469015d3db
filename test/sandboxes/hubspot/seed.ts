import { defaultAssociationType, primaryAssociationType } from './defaults.ts';
import { resolveObjectType, type SandboxState } from './state.ts';
import type { ObjectTypeName } from './types.ts';

export interface SeedObject {
  id?: string | number;
  properties: Record<string, string | number | null>;
  /** ISO time; also becomes `createdate` */
  createdAt?: string;
}

export interface SeedAssociation {
  fromType: ObjectTypeName | string;
  fromId: string | number;
  toType: ObjectTypeName | string;
  toId: string | number;
  /** primary company of a deal/contact (adds the unlabeled association too, as HubSpot does) */
  primary?: boolean;
  /** explicit HUBSPOT_DEFINED type id instead of primary/default */
  typeId?: number;
}

export interface SeedInput {
  deals?: SeedObject[];
  companies?: SeedObject[];
  contacts?: SeedObject[];
  notes?: SeedObject[];
  associations?: SeedAssociation[];
}

export interface SeedResult {
  deals: string[];
  companies: string[];
  contacts: string[];
  notes: string[];
}

/** Inserts records as if created in the HubSpot UI; throws on unknown or invalid properties. */
export function seed(state: SandboxState, portalId: number, input: SeedInput): SeedResult {
  const portal = state.requirePortal(portalId);
  const result: SeedResult = { deals: [], companies: [], contacts: [], notes: [] };
  for (const type of ['companies', 'contacts', 'deals', 'notes'] as const) {
    for (const obj of input[type] ?? []) {
      // null in a seed means "leave unset", not "clear".
      const given = Object.fromEntries(Object.entries(obj.properties).filter(([, v]) => v !== null));
      const { values, failures } = state.validateProperties(portal, type, given);
      if (failures.length > 0) {
        throw new Error(
          `HubSpot sandbox seed: invalid ${type} properties: ${failures.map((f) => `${f.name}: ${f.error} (${f.message})`).join('; ')}`,
        );
      }
      const createdAt = obj.createdAt ? new Date(obj.createdAt).toISOString() : undefined;
      const record = state.createRecord(portal, type, values, {
        id: obj.id,
        createdAt,
        sourceType: 'CRM_UI',
        sourceId: `userId:${portal.userId}`,
      });
      result[type].push(record.id);
    }
  }
  for (const a of input.associations ?? []) {
    const fromType = resolveObjectType(a.fromType);
    const toType = resolveObjectType(a.toType);
    if (!fromType || !toType)
      throw new Error(`HubSpot sandbox seed: unknown object type in association ${JSON.stringify(a)}`);
    for (const [type, id] of [
      [fromType, a.fromId],
      [toType, a.toId],
    ] as const) {
      if (!state.getRecord(portal, type, String(id)))
        throw new Error(`HubSpot sandbox seed: ${type} ${id} does not exist`);
    }
    const def =
      a.typeId !== undefined
        ? { typeId: a.typeId }
        : a.primary
          ? primaryAssociationType(fromType, toType)
          : defaultAssociationType(fromType, toType);
    if (!def) throw new Error(`HubSpot sandbox seed: no association type from ${fromType} to ${toType}`);
    state.associate(portal, fromType, String(a.fromId), String(a.toId), def.typeId);
  }
  return result;
}

const COMPANIES: Array<Record<string, string>> = [
  {
    name: "O'Brien & Sons Construction",
    domain: 'obrienandsons.ie',
    address: '14 Harbour Road',
    city: 'Dublin',
    zip: 'D02 X285',
    country: 'Ireland',
    phone: '+353 1 555 0142',
    industry: 'CONSTRUCTION',
  },
  {
    name: 'Müller & Schmidt GmbH',
    domain: 'mueller-schmidt.de',
    address: 'Friedrichstraße 123',
    address2: '3. OG',
    city: 'Berlin',
    zip: '10117',
    country: 'Germany',
    phone: '+49 30 5550 1234',
  },
  {
    name: 'Acme Widgets, Inc.',
    domain: 'acmewidgets.com',
    address: '500 Market St',
    address2: 'Suite 200',
    city: 'San Francisco',
    state: 'CA',
    zip: '94105',
    country: 'United States',
    phone: '+1 415 555 0199',
  },
  {
    name: 'Smith & Jones Architects Ltd',
    domain: 'smithjones.co.uk',
    address: '22 Baker Street',
    city: 'London',
    zip: 'W1U 3BW',
    country: 'United Kingdom',
    phone: '+44 20 7946 0321',
  },
  {
    name: 'Maple Leaf Renovations',
    domain: 'mapleleafreno.ca',
    address: '88 Queen St W',
    city: 'Toronto',
    state: 'ON',
    zip: 'M5H 2M9',
    country: 'Canada',
    phone: '+1 416 555 0175',
  },
  {
    name: 'Sakura Design K.K.',
    domain: 'sakura-design.co.jp',
    address: '1-2-3 Shibuya',
    city: 'Tokyo',
    zip: '150-0002',
    country: 'Japan',
    phone: '+81 3 5555 0123',
  },
];

// [firstname, lastname, email, company index]
const CONTACTS: Array<[string, string, string, number]> = [
  ['Siobhán', "O'Brien", 'siobhan@obrienandsons.ie', 0],
  ['Liam', "O'Brien", 'liam.obrien@obrienandsons.ie', 0],
  ['Jürgen', 'Müller', 'j.mueller@mueller-schmidt.de', 1],
  ['Anna', 'Schmidt', 'anna.schmidt@mueller-schmidt.de', 1],
  ['Jane', 'Doe', 'jane.doe@acmewidgets.com', 2],
  ['Priya', 'Patel', 'priya+billing@acmewidgets.com', 2],
  ['Oliver', 'Smith', 'oliver@smithjones.co.uk', 3],
  ['Chloé', 'Tremblay', 'chloe@mapleleafreno.ca', 4],
  ['Yuki', 'Tanaka', 'yuki.tanaka@sakura-design.co.jp', 5],
  ['Marcus', 'Jones', 'marcus.jones@gmail.com', -1],
];

interface DealSpec {
  name: string;
  amount: string;
  currency: string;
  stage: string;
  closedate: string | null;
  dealtype: string;
  company?: number;
  /** a second, non-primary company */
  otherCompany?: number;
  contacts: number[];
  createdAt: string;
}

const DEALS: DealSpec[] = [
  {
    name: "O'Brien & Sons – Office Fit-out",
    amount: '48000',
    currency: 'EUR',
    stage: 'contractsent',
    closedate: '2026-11-30',
    dealtype: 'newbusiness',
    company: 0,
    contacts: [0, 1],
    createdAt: '2026-01-12T09:15:00Z',
  },
  {
    name: 'Müller & Schmidt – Warehouse Retrofit',
    amount: '12000.50',
    currency: 'EUR',
    stage: 'decisionmakerboughtin',
    closedate: '2026-12-15',
    dealtype: 'newbusiness',
    company: 1,
    contacts: [2, 3],
    createdAt: '2026-02-03T14:00:00Z',
  },
  {
    name: 'Acme Widgets – Factory Expansion',
    amount: '100000',
    currency: 'USD',
    stage: 'closedwon',
    closedate: '2026-09-30',
    dealtype: 'newbusiness',
    company: 2,
    contacts: [4, 5],
    createdAt: '2026-03-20T16:45:00Z',
  },
  {
    name: 'Acme Widgets – Annual Maintenance',
    amount: '24000',
    currency: 'USD',
    stage: 'appointmentscheduled',
    closedate: '2027-01-31',
    dealtype: 'existingbusiness',
    company: 2,
    otherCompany: 1,
    contacts: [4],
    createdAt: '2026-04-02T08:30:00Z',
  },
  {
    name: 'Smith & Jones – Studio Refurbishment',
    amount: '35750.25',
    currency: 'GBP',
    stage: 'presentationscheduled',
    closedate: '2026-12-01',
    dealtype: 'newbusiness',
    company: 3,
    contacts: [6],
    createdAt: '2026-04-18T11:00:00Z',
  },
  {
    name: 'Maple Leaf – Kitchen & Bath Remodel',
    amount: '18500',
    currency: 'CAD',
    stage: 'qualifiedtobuy',
    closedate: '2027-02-28',
    dealtype: 'newbusiness',
    company: 4,
    contacts: [7],
    createdAt: '2026-05-06T13:20:00Z',
  },
  {
    name: 'Sakura Design – Showroom Build',
    amount: '4500000',
    currency: 'JPY',
    stage: 'contractsent',
    closedate: '2026-12-20',
    dealtype: 'newbusiness',
    company: 5,
    contacts: [8],
    createdAt: '2026-05-22T01:00:00Z',
  },
  {
    name: 'Sakura Design – Signage',
    amount: '275000',
    currency: 'JPY',
    stage: 'closedlost',
    closedate: '2026-08-15',
    dealtype: 'existingbusiness',
    company: 5,
    contacts: [8],
    createdAt: '2026-06-10T02:30:00Z',
  },
  {
    name: 'O\'Brien & Sons – Phase 2 "Harbour View"',
    amount: '9999.99',
    currency: 'EUR',
    stage: 'appointmentscheduled',
    closedate: null,
    dealtype: 'existingbusiness',
    company: 0,
    contacts: [0],
    createdAt: '2026-07-01T10:00:00Z',
  },
  {
    name: 'Website Refresh – Freelance',
    amount: '1500',
    currency: 'USD',
    stage: 'qualifiedtobuy',
    closedate: '2026-10-31',
    dealtype: 'newbusiness',
    contacts: [9],
    createdAt: '2026-07-15T15:10:00Z',
  },
];

/**
 * A believable account: companies with apostrophes/ampersands/umlauts, contacts, and ten deals in
 * USD/EUR/GBP/CAD/JPY spread over the default pipeline; one deal has no company, one has two.
 */
export function seedRealistic(state: SandboxState, portalId: number): SeedResult {
  const portal = state.addPortal(portalId);
  const ownerId = String(portal.userId);
  const companies = seed(state, portalId, {
    companies: COMPANIES.map((properties, i) => ({
      properties: { ...properties, hubspot_owner_id: ownerId },
      createdAt: `2025-1${i % 3}-0${i + 1}T09:00:00Z`,
    })),
  }).companies;
  const contacts = seed(state, portalId, {
    contacts: CONTACTS.map(([firstname, lastname, email, company], i) => ({
      properties: {
        firstname,
        lastname,
        email,
        company: company >= 0 ? (COMPANIES[company]?.name ?? null) : null,
        phone: `+1 555 010${i}`,
      },
      createdAt: `2025-12-0${(i % 9) + 1}T12:00:00Z`,
    })),
  }).contacts;
  const deals = seed(state, portalId, {
    deals: DEALS.map((d) => ({
      properties: {
        dealname: d.name,
        amount: d.amount,
        deal_currency_code: d.currency,
        dealstage: d.stage,
        pipeline: 'default',
        closedate: d.closedate ? `${d.closedate}T00:00:00Z` : null,
        dealtype: d.dealtype,
        hubspot_owner_id: ownerId,
      },
      createdAt: d.createdAt,
    })),
  }).deals;

  const associations: SeedAssociation[] = [];
  CONTACTS.forEach(([, , , company], i) => {
    const companyId = companies[company];
    if (companyId)
      associations.push({
        fromType: 'contacts',
        fromId: contacts[i]!,
        toType: 'companies',
        toId: companyId,
        primary: true,
      });
  });
  DEALS.forEach((d, i) => {
    const dealId = deals[i]!;
    if (d.company !== undefined) {
      associations.push({
        fromType: 'deals',
        fromId: dealId,
        toType: 'companies',
        toId: companies[d.company]!,
        primary: true,
      });
    }
    if (d.otherCompany !== undefined) {
      associations.push({
        fromType: 'deals',
        fromId: dealId,
        toType: 'companies',
        toId: companies[d.otherCompany]!,
      });
    }
    for (const c of d.contacts)
      associations.push({ fromType: 'deals', fromId: dealId, toType: 'contacts', toId: contacts[c]! });
  });
  seed(state, portalId, { associations });
  return { deals, companies, contacts, notes: [] };
}
