import { and, eq, type SQL, sql } from 'drizzle-orm';
import { invoicePushes, schedules } from '../store/schema.ts';

/** What every portfolio view can be narrowed to; each applies to the deal's schedule or its invoices. */
export interface PortfolioFilters {
  currency?: string | undefined;
  /** The deal owner's HubSpot owner id. */
  ownerId?: string | undefined;
  /** The deal's HubSpot pipeline id. */
  pipelineId?: string | undefined;
  /** The QuickBooks customer billed. */
  customerId?: string | undefined;
}

/** The filters as conditions on `schedules` and `invoice_pushes` (both joined by the caller). */
export function filterConditions(f: PortfolioFilters): SQL | undefined {
  return and(
    f.currency ? eq(schedules.currency, f.currency) : undefined,
    f.ownerId ? eq(schedules.ownerId, f.ownerId) : undefined,
    f.pipelineId ? eq(schedules.pipelineId, f.pipelineId) : undefined,
    f.customerId ? eq(invoicePushes.qboCustomerId, f.customerId) : undefined,
  );
}

/** What QuickBooks says is still owed on an invoice (tax included), else billed less received. */
export const balanceInQuickBooks = sql`coalesce(${invoicePushes.qboBalance}, ${invoicePushes.amount} - least(${invoicePushes.paidAmount}, ${invoicePushes.amount}))`;

/** What an invoice bills as QuickBooks has it (tax included), else the milestone's amount. */
export const billedInQuickBooks = sql`coalesce(${invoicePushes.qboTotal}, ${invoicePushes.amount})`;

/** An invoice still owed on, in QuickBooks. */
export const openInvoice = and(eq(invoicePushes.status, 'created'), sql`${balanceInQuickBooks} > 0`);
