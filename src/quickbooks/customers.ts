import { and, eq } from 'drizzle-orm';
import { z } from 'zod';
import { DomainError } from '../domain/errors.ts';
import { withLock } from '../redis/lock.ts';
import { customerMappings } from '../store/schema.ts';
import type { Company, QuickBooksDeps } from './company.ts';
import { duplicateNameId, QboError } from './errors.ts';
import type { CompanyFacts } from './references.ts';

type Deps = Pick<QuickBooksDeps, 'db' | 'redis'>;

const Customer = z.looseObject({
  Id: z.string(),
  DisplayName: z.string(),
  Active: z.boolean().optional(),
  CurrencyRef: z.looseObject({ value: z.string() }).optional(),
});
type Customer = z.infer<typeof Customer>;

/** Who an invoice bills, as the deal's company and contact describe it. */
export interface BillingParty {
  /** `company:<HubSpot id>`, `contact:<id>` or `email:<address>`: what the mapping remembers. */
  key: string;
  name: string;
  companyName: string | null;
  email: string | null;
  address: {
    line1: string | null;
    city: string | null;
    state: string | null;
    postalCode: string | null;
    country: string | null;
  } | null;
}

/**
 * The QuickBooks customer for a billing party: the stored mapping, else a customer with the
 * contact's email, else one with the same DisplayName, else a new one. A name taken by a vendor
 * or employee (6240) gets a distinct customer name instead of failing or duplicating.
 */
export async function resolveCustomer(
  deps: Deps,
  company: Company,
  facts: CompanyFacts,
  tenantId: string,
  party: BillingParty,
  currency: string,
): Promise<string> {
  const mapped = await mappingOf(deps, tenantId, party.key);
  if (mapped) return checkCurrency(mapped.qboCustomerId, party.name, mapped.currency, currency);
  // Pushes for one new customer run at once: one resolves it, the others then find the mapping.
  return withLock(deps.redis, `lock:qbo-customer:${tenantId}:${party.key}`, async () => {
    const again = await mappingOf(deps, tenantId, party.key);
    if (again) return checkCurrency(again.qboCustomerId, party.name, again.currency, currency);
    const found =
      (party.email && (await one(company, { PrimaryEmailAddr: party.email }))) ||
      (await one(company, { DisplayName: displayName(party.name) }));
    const customer = found ?? (await create(company, facts, party, currency));
    const customerCurrency = customer.CurrencyRef?.value ?? facts.homeCurrency;
    await deps.db
      .insert(customerMappings)
      .values({ tenantId, partyKey: party.key, qboCustomerId: customer.Id, currency: customerCurrency })
      .onConflictDoNothing();
    return checkCurrency(customer.Id, customer.DisplayName, customerCurrency, currency);
  });
}

/** After QuickBooks called the mapped customer invalid (deleted, merged, made inactive): resolve it afresh. */
export async function forgetCustomer(deps: Deps, tenantId: string, partyKey: string): Promise<void> {
  await deps.db
    .delete(customerMappings)
    .where(and(eq(customerMappings.tenantId, tenantId), eq(customerMappings.partyKey, partyKey)));
}

async function mappingOf(deps: Deps, tenantId: string, partyKey: string) {
  const [row] = await deps.db
    .select()
    .from(customerMappings)
    .where(and(eq(customerMappings.tenantId, tenantId), eq(customerMappings.partyKey, partyKey)));
  return row;
}

function checkCurrency(id: string, name: string, customerCurrency: string, currency: string): string {
  if (customerCurrency !== currency) {
    throw new DomainError(
      'currency_mismatch',
      `the QuickBooks customer "${name}" bills in ${customerCurrency} but this deal is in ${currency}; QuickBooks allows one currency per customer`,
    );
  }
  return id;
}

/** An active customer matching the criteria: an inactive one cannot be invoiced (2500). */
async function one(company: Company, criteria: Record<string, string>): Promise<Customer | undefined> {
  const list = await company.find('Customer', Customer, (sdk, cb) => sdk.findCustomers(criteria, cb));
  return list.find((c) => c.Active !== false);
}

/** QuickBooks names cannot hold ":" and are at most 100 characters. */
function displayName(name: string): string {
  return name.replace(/:/g, '-').trim().slice(0, 100);
}

async function create(
  company: Company,
  facts: CompanyFacts,
  party: BillingParty,
  currency: string,
): Promise<Customer> {
  const body = (name: string) => ({
    DisplayName: name,
    ...(party.companyName ? { CompanyName: party.companyName.slice(0, 100) } : {}),
    ...(party.email ? { PrimaryEmailAddr: { Address: party.email } } : {}),
    ...(party.address?.line1
      ? {
          BillAddr: {
            Line1: party.address.line1,
            City: party.address.city ?? undefined,
            CountrySubDivisionCode: party.address.state ?? undefined,
            PostalCode: party.address.postalCode ?? undefined,
            Country: party.address.country ?? undefined,
          },
        }
      : {}),
    ...(facts.multiCurrency ? { CurrencyRef: { value: currency } } : {}),
  });
  const name = displayName(party.name);
  try {
    return Customer.parse((await company.write((sdk, cb) => sdk.createCustomer(body(name), cb))).data);
  } catch (error) {
    const existing = error instanceof QboError ? duplicateNameId(error) : undefined;
    if (!existing) throw error;
    // The name is taken. By an active customer: use it. By an inactive one (QuickBooks refuses
    // invoices for it), a vendor or an employee: a distinct name.
    const customer = await company
      .read((sdk, cb) => sdk.getCustomer(existing, cb))
      .then((r) => Customer.parse(r.data))
      .catch(() => undefined);
    if (customer && customer.Active !== false) return customer;
    const distinct = `${name.slice(0, 88)} (customer)`;
    return (
      (await one(company, { DisplayName: distinct })) ??
      Customer.parse((await company.write((sdk, cb) => sdk.createCustomer(body(distinct), cb))).data)
    );
  }
}
