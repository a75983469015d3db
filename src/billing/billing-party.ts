import { DomainError } from '../domain/errors.ts';
import type { Deal, HubSpot, Portal } from '../hubspot/index.ts';
import type { BillingParty } from '../quickbooks/index.ts';

/**
 * Whom a deal's invoices bill: its primary company (with the first contact's email), else its
 * contact; without a HubSpot install, whoever accepted the milestone.
 */
export async function billingParty(
  hubspot: HubSpot,
  portal: Portal,
  dealId: string,
  acceptedBy: { name?: string; email?: string },
): Promise<BillingParty> {
  let deal: Deal | undefined;
  try {
    deal = await hubspot.recentDeal(portal, dealId);
  } catch (error) {
    if (!(error instanceof DomainError) || error.code !== 'hubspot_not_installed') throw error;
  }
  const party = deal && partyOf(deal);
  if (party) return party;
  if (acceptedBy.email) {
    return {
      key: `email:${acceptedBy.email.toLowerCase()}`,
      name: acceptedBy.name ?? acceptedBy.email,
      companyName: null,
      email: acceptedBy.email,
      address: null,
    };
  }
  throw new DomainError('no_billing_party', `deal ${dealId} has no company or contact to bill in HubSpot`);
}

function partyOf(deal: Deal): BillingParty | undefined {
  const contact = deal.contacts.find((c) => c.email) ?? deal.contacts[0];
  if (deal.company) {
    const a = deal.company.address;
    return {
      key: `company:${deal.company.id}`,
      name: deal.company.name,
      companyName: deal.company.name,
      email: contact?.email ?? null,
      address: {
        line1: a.line1 ?? null,
        city: a.city ?? null,
        state: a.state ?? null,
        postalCode: a.postalCode ?? null,
        country: a.country ?? null,
      },
    };
  }
  if (contact)
    return {
      key: `contact:${contact.id}`,
      name: contact.name,
      companyName: null,
      email: contact.email,
      address: null,
    };
  return undefined;
}
