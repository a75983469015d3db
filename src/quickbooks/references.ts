import { eq } from 'drizzle-orm';
import { z } from 'zod';
import { DomainError } from '../domain/errors.ts';
import { type PaymentTerms, termName } from '../domain/terms.ts';
import { withLock } from '../redis/lock.ts';
import { qboConnections } from '../store/schema.ts';
import type { Company, QuickBooksDeps } from './company.ts';
import { duplicateNameId, QboError } from './errors.ts';

type Deps = Pick<QuickBooksDeps, 'db' | 'redis'>;

/** The tenant's choices for invoice lines (its settings). */
export interface InvoiceSettings {
  /** QuickBooks Item id for invoice lines; unset: a "Milestone billing" service item is used. */
  incomeItemId?: string | undefined;
  /** Non-US companies: the TaxCode id for invoice lines. */
  taxCodeId?: string | undefined;
  /** US companies: whether milestone lines are taxable (TAX / NON). */
  taxable?: boolean | undefined;
}

const Ref = z.looseObject({ Id: z.string(), Name: z.string().optional(), Active: z.boolean().optional() });
const CACHE_TTL_S = 24 * 60 * 60;

const CompanyFacts = z.object({
  name: z.string(),
  country: z.string(),
  homeCurrency: z.string(),
  multiCurrency: z.boolean(),
  /**
   * Preferences.SalesFormsPrefs.CustomTxnNumbers: invoices keep the DocNumber the app sends. Off,
   * QuickBooks numbers them itself, and an invoice is found again by its PrivateNote.
   */
  customTxnNumbers: z.boolean(),
  /** When they were read: a company's settings change (multicurrency turned on, numbering). */
  readAt: z.iso.datetime(),
});
export type CompanyFacts = z.infer<typeof CompanyFacts>;

/** Facts older than this are read again. */
const FACTS_FOR_MS = 24 * 60 * 60_000;

/**
 * The company's country, home currency, multicurrency switch and numbering: kept with the
 * connection, and read again when a day old, on reconnecting, when `fresh` is asked (what was kept
 * would refuse an invoice), and when kept before a field existed.
 */
export async function companyFacts(
  deps: Deps,
  company: Company,
  tenantId: string,
  opts: { fresh?: boolean } = {},
): Promise<CompanyFacts> {
  const { db } = deps;
  const [row] = await db
    .select({ company: qboConnections.company })
    .from(qboConnections)
    .where(eq(qboConnections.tenantId, tenantId));
  const kept = CompanyFacts.safeParse(row?.company);
  if (kept.success && !opts.fresh && Date.now() - Date.parse(kept.data.readAt) < FACTS_FOR_MS)
    return kept.data;
  const info = z
    .looseObject({
      CompanyName: z.string().optional(),
      Country: z.string().optional(),
      LegalAddr: z.looseObject({ Country: z.string().optional() }).optional(),
    })
    .parse((await company.read((sdk, cb) => sdk.getCompanyInfo(company.realmId, cb))).data);
  const prefs = z
    .looseObject({
      CurrencyPrefs: z
        .looseObject({
          MultiCurrencyEnabled: z.boolean().optional(),
          HomeCurrency: z.looseObject({ value: z.string() }).optional(),
        })
        .optional(),
      SalesFormsPrefs: z.looseObject({ CustomTxnNumbers: z.boolean().optional() }).optional(),
    })
    .parse((await company.read((sdk, cb) => sdk.getPreferences(cb))).data);
  const facts: CompanyFacts = {
    name: info.CompanyName ?? company.realmId,
    country: (info.Country ?? info.LegalAddr?.Country ?? 'US').toUpperCase(),
    homeCurrency: prefs.CurrencyPrefs?.HomeCurrency?.value ?? 'USD',
    multiCurrency: prefs.CurrencyPrefs?.MultiCurrencyEnabled ?? false,
    // Unsaid: send our DocNumber, as the app always did.
    customTxnNumbers: prefs.SalesFormsPrefs?.CustomTxnNumbers ?? true,
    readAt: new Date().toISOString(),
  };
  await db.update(qboConnections).set({ company: facts }).where(eq(qboConnections.tenantId, tenantId));
  return facts;
}

/**
 * Ids that do not change between invoices (the service item, terms, tax codes), cached per
 * company in Redis for a day, so a push for a known customer costs one QuickBooks call.
 */
async function cached(deps: Deps, realmId: string, field: string, resolve: () => Promise<string | null>) {
  const key = `qbo:refs:${realmId}`;
  const read = async () => {
    const hit = await deps.redis.hget(key, field);
    return hit === null ? undefined : hit === '' ? null : hit;
  };
  const hit = await read();
  if (hit !== undefined) return hit;
  // One process resolves (and perhaps creates) it; the others wait and then read the cache.
  return withLock(deps.redis, `lock:${key}:${field}`, async () => {
    const again = await read();
    if (again !== undefined) return again;
    const value = await resolve();
    await deps.redis
      .multi()
      .hset(key, field, value ?? '')
      .expire(key, CACHE_TTL_S)
      .exec();
    return value;
  });
}

/** Drops the cached ids of the tenant's company (after QuickBooks called one of them invalid). */
export async function forgetReferences(deps: Deps, tenantId: string): Promise<void> {
  const [row] = await deps.db
    .select({ realmId: qboConnections.realmId })
    .from(qboConnections)
    .where(eq(qboConnections.tenantId, tenantId));
  if (row) await deps.redis.del(`qbo:refs:${row.realmId}`);
}

export const ITEM_NAME = 'Milestone billing';

/** The tenant's income item, else a "Milestone billing" service item on an income account. */
export function serviceItem(deps: Deps, company: Company, settings: InvoiceSettings): Promise<string> {
  if (settings.incomeItemId) return Promise.resolve(settings.incomeItemId);
  return cached(deps, company.realmId, 'item', async () => {
    // A person may have deleted the item (QuickBooks keeps it, inactive, under its name): then
    // the app makes one under the second name rather than bill an item QuickBooks refuses.
    for (const name of ITEM_NAMES) {
      const active = await activeItem(company, name);
      if (active) return active;
      try {
        return await createItem(company, name);
      } catch (error) {
        if (!(error instanceof QboError) || !duplicateNameId(error)) throw error;
        // Created meanwhile (by a person, or an earlier attempt whose answer was lost): use it.
        const meanwhile = await activeItem(company, name);
        if (meanwhile) return meanwhile;
      }
    }
    throw new DomainError(
      'quickbooks_setup',
      `inactive items hold the names ${ITEM_NAMES.map((n) => `"${n}"`).join(' and ')}: make one active in QuickBooks, or choose an income item in the settings`,
    );
  }) as Promise<string>;
}

const ITEM_NAMES = [ITEM_NAME, `${ITEM_NAME} (app)`];

async function activeItem(company: Company, name: string): Promise<string | undefined> {
  const found = await company.find('Item', Ref, (sdk, cb) => sdk.findItems({ Name: name }, cb));
  return found.find((i) => i.Active !== false)?.Id;
}

async function createItem(company: Company, name: string): Promise<string> {
  const [income] = await company.find('Account', Ref, (sdk, cb) =>
    sdk.findAccounts({ AccountType: 'Income' }, cb),
  );
  if (!income)
    throw new DomainError(
      'quickbooks_setup',
      'the QuickBooks company has no income account for the milestone billing item',
    );
  const created = await company.write<unknown>((sdk, cb) =>
    sdk.createItem({ Name: name, Type: 'Service', IncomeAccountRef: { value: income.Id }, UnitPrice: 0 }, cb),
  );
  return Ref.parse(created.data).Id;
}

/** The company's term of that name ("Net 30"), if it has one; the due date is set either way. */
export function salesTerm(deps: Deps, company: Company, terms: PaymentTerms): Promise<string | null> {
  const name = termName(terms);
  return cached(deps, company.realmId, `term:${name}`, async () => {
    const [found] = await company.find('Term', Ref, (sdk, cb) => sdk.findTerms({ Name: name }, cb));
    return found?.Id ?? null;
  });
}

/** US companies take TAX / NON on each line; other countries need the tax code chosen in settings. */
export function lineTaxCode(facts: CompanyFacts, settings: InvoiceSettings): string {
  if (facts.country === 'US' || facts.country === 'USA') return settings.taxable ? 'TAX' : 'NON';
  if (!settings.taxCodeId) {
    throw new DomainError(
      'quickbooks_setup',
      `QuickBooks companies in ${facts.country} need a tax code on every line: choose one in the settings (taxCodeId)`,
    );
  }
  return settings.taxCodeId;
}

/** What the settings page offers for invoice lines: the company's active items and tax codes. */
export interface InvoiceChoices {
  items: { id: string; name: string; type: string }[];
  /** Empty for US companies, whose lines take TAX or NON. */
  taxCodes: { id: string; name: string }[];
}

const Named = z.looseObject({ Id: z.string(), Name: z.string(), Type: z.string().optional() });

export async function invoiceChoices(company: Company, facts: CompanyFacts): Promise<InvoiceChoices> {
  const us = facts.country === 'US' || facts.country === 'USA';
  const [items, taxCodes] = await Promise.all([
    company.find('Item', Named, (sdk, cb) => sdk.findItems({ Active: true }, cb)),
    us ? [] : company.find('TaxCode', Named, (sdk, cb) => sdk.findTaxCodes({ Active: true }, cb)),
  ]);
  return {
    // Categories and bundles cannot stand on an invoice line by themselves.
    items: items
      .filter((i) => i.Type !== 'Category' && i.Type !== 'Group')
      .map((i) => ({ id: i.Id, name: i.Name, type: i.Type ?? 'Service' })),
    taxCodes: taxCodes.map((t) => ({ id: t.Id, name: t.Name })),
  };
}
