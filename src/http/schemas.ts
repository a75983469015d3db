import { z } from 'zod';
import type { MilestoneChange as DomainChange } from '../domain/change-order.ts';
import { isCurrency } from '../domain/currencies.ts';
import { isCalendarDate } from '../domain/dates.ts';
import { DomainError, type Issue } from '../domain/errors.ts';
import { parseAmount } from '../domain/money.ts';
import { HUNDRED_PERCENT, parsePercent } from '../domain/percent.ts';
import type { MilestoneSpec } from '../domain/schedule.ts';
import { STANDARD_TERMS } from '../domain/terms.ts';

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

const text = (max: number) => z.string().trim().min(1, 'must not be empty').max(max);

const MilestoneFields = z.strictObject({
  key: z
    .string()
    .regex(/^[a-z0-9][a-z0-9-]{0,59}$/, 'must be lower-case letters, digits and dashes')
    .optional(),
  name: text(200),
  deliverable: text(2000),
  acceptanceCriteria: text(2000),
  amount: Decimal.optional(),
  percent: Percent.optional(),
  plannedDate: CalendarDate,
  triggerStage: z.string().min(1).max(100).nullable().optional(),
  paymentTerms: PaymentTerms.nullable().optional(),
  kind: z.enum(['standard', 'retainage_release']).optional(),
});

export const MilestoneInput = MilestoneFields.superRefine((m, ctx) => {
  const release = m.kind === 'retainage_release';
  if (!release && (m.amount === undefined) === (m.percent === undefined)) {
    ctx.addIssue({ code: 'custom', path: ['amount'], message: 'give exactly one of amount or percent' });
  }
  if (release && (m.amount !== undefined || m.percent !== undefined)) {
    ctx.addIssue({
      code: 'custom',
      path: ['amount'],
      message: 'a retainage release is priced from what is held back; give no amount',
    });
  }
});

/** A change order's edit of one milestone: any field of a new milestone, all optional. */
export const MilestoneChange = MilestoneFields.omit({ kind: true })
  .partial()
  .extend({ id: z.string().min(1) })
  .refine((m) => m.amount === undefined || m.percent === undefined, {
    path: ['amount'],
    message: 'give at most one of amount or percent',
  });

export type MilestoneInput = z.infer<typeof MilestoneInput>;

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

export function toSpecs(
  inputs: MilestoneInput[],
  currency: string,
  prefix: string,
  issues: Issue[],
): MilestoneSpec[] {
  return inputs.map((m, i) => toSpec(m, currency, `${prefix}[${i}]`, issues));
}

export function toSpec(m: MilestoneInput, currency: string, path: string, issues: Issue[]): MilestoneSpec {
  return {
    key: m.key,
    name: m.name,
    deliverable: m.deliverable,
    acceptanceCriteria: m.acceptanceCriteria,
    amount:
      m.percent !== undefined
        ? { percent: m.percent }
        : { fixed: m.amount === undefined ? 0 : toMinor(m.amount, currency, `${path}.amount`, issues) },
    plannedDate: m.plannedDate,
    triggerStage: m.triggerStage,
    paymentTerms: m.paymentTerms,
    kind: m.kind,
  };
}

export function toChange(
  c: z.output<typeof MilestoneChange>,
  currency: string,
  path: string,
  issues: Issue[],
): DomainChange {
  const { amount, percent, ...rest } = c;
  const change: DomainChange = { ...rest };
  if (percent !== undefined) change.amount = { percent };
  if (amount !== undefined) change.amount = { fixed: toMinor(amount, currency, `${path}.amount`, issues) };
  return change;
}
