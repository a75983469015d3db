import { addDays, type CalendarDate } from './dates.ts';
import { DomainError } from './errors.ts';

/** Payment terms: how many days after the invoice date the invoice falls due. */
export type PaymentTerms =
  | 'due_on_receipt'
  | 'net_7'
  | 'net_15'
  | 'net_30'
  | 'net_60'
  | { customDays: number };

export const STANDARD_TERMS = ['due_on_receipt', 'net_7', 'net_15', 'net_30', 'net_60'] as const;

export function termDays(terms: PaymentTerms): number {
  if (typeof terms === 'object') {
    if (!Number.isInteger(terms.customDays) || terms.customDays < 0 || terms.customDays > 365) {
      throw new DomainError('invalid_terms', 'custom payment terms must be 0 to 365 days');
    }
    return terms.customDays;
  }
  return terms === 'due_on_receipt' ? 0 : Number(terms.slice(4));
}

/** The name QuickBooks companies use for the term, e.g. "Net 30" or "Due on receipt". */
export function termName(terms: PaymentTerms): string {
  const days = termDays(terms);
  return days === 0 ? 'Due on receipt' : `Net ${days}`;
}

export function dueDate(invoiceDate: CalendarDate, terms: PaymentTerms): CalendarDate {
  return addDays(invoiceDate, termDays(terms));
}
