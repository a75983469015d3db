import { z } from 'zod';
import type { MilestoneChange as DomainChange } from '../domain/change-order.ts';
import type { Issue } from '../domain/errors.ts';
import type { MilestoneSpec } from '../domain/schedule.ts';
import { CalendarDate, Decimal, PaymentTerms, Percent, toMinor } from '../domain/values.ts';

export {
  CalendarDate,
  Currency,
  Decimal,
  MoneyInput,
  PaymentTerms,
  Percent,
  toMinor,
} from '../domain/values.ts';

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
