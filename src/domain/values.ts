import { z } from 'zod';
import { isCurrency } from './currencies.ts';
import { isCalendarDate } from './dates.ts';
import { DomainError, type Issue } from './errors.ts';
import { parseAmount } from './money.ts';
import { HUNDRED_PERCENT, parsePercent } from './percent.ts';
import { STANDARD_TERMS } from './terms.ts';

/* The domain's values as they arrive on the wire (API bodies, webhooks), parsed exactly. */

/** A decimal amount as a string, so no float ever touches money: "1500.00". */
export const Decimal = z.string().superRefine((value, ctx) => {
  if (/^-\d/.test(value.trim())) ctx.addIssue({ code: 'custom', message: 'must not be negative' });
  else if (!/^\d+(\.\d+)?$/.test(value.trim()))
    ctx.addIssue({ code: 'custom', message: `"${value}" is not a decimal amount like "1500.00"` });
});

export const Currency = z
  .string()
  .refine(isCurrency, { error: (issue) => `"${String(issue.input)}" is not an ISO 4217 currency code` });

export const Percent = z.union([z.string(), z.number()]).transform((value, ctx) => {
  try {
    const units = parsePercent(value);
    if (units <= HUNDRED_PERCENT) return units;
  } catch {}
  ctx.addIssue({
    code: 'custom',
    message: `"${value}" is not a percentage from 0 to 100 with at most 4 decimals`,
  });
  return z.NEVER;
});

export const CalendarDate = z.string().refine(isCalendarDate, {
  error: (issue) => `"${String(issue.input)}" is not a calendar date (YYYY-MM-DD)`,
});

export const PaymentTerms = z.union([
  z.enum(STANDARD_TERMS),
  z.strictObject({ customDays: z.int().min(0).max(365) }),
]);

export const MoneyInput = z.strictObject({ amount: Decimal, currency: Currency });

/** A link people open (evidence of an acceptance): http or https, nothing a browser would run. */
export const WebUrl = z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' });

/** Amount strings become minor units of the schedule's currency; each failure names its field. */
export function toMinor(text: string, currency: string, path: string, issues: Issue[]): number {
  try {
    return parseAmount(text, currency);
  } catch (error) {
    if (!(error instanceof DomainError)) throw error;
    issues.push({ path, code: error.code, message: `${path}: ${error.message}` });
    return 0;
  }
}
