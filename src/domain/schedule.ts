import { allocate } from './allocation.ts';
import type { CalendarDate } from './dates.ts';
import { assertNoIssues, type Issue } from './errors.ts';
import { isOpen, type MilestoneStatus } from './lifecycle.ts';
import { displayMoney } from './money.ts';
import { formatPercent, HUNDRED_PERCENT, percentOf } from './percent.ts';
import type { PaymentTerms } from './terms.ts';

/** How a milestone's amount is set: a fixed amount (minor units) or a share of the contract. */
export type AmountBasis = { fixed: number } | { percent: number };

export type MilestoneKind = 'standard' | 'retainage_release';

/** What a user writes when building or changing a schedule. */
export interface MilestoneSpec {
  key?: string | undefined;
  name: string;
  deliverable: string;
  acceptanceCriteria: string;
  amount: AmountBasis;
  plannedDate: CalendarDate;
  triggerStage?: string | null | undefined;
  paymentTerms?: PaymentTerms | null | undefined;
  kind?: MilestoneKind | undefined;
}

/** A milestone as a schedule holds it: priced, keyed, with its place in the lifecycle. */
export interface Milestone {
  id: string | null;
  key: string;
  name: string;
  deliverable: string;
  acceptanceCriteria: string;
  percent: number | null;
  amount: number;
  plannedDate: CalendarDate;
  triggerStage: string | null;
  paymentTerms: PaymentTerms | null;
  kind: MilestoneKind;
  status: MilestoneStatus;
  splitFromId: string | null;
}

export interface ContractTerms {
  contractValue: number;
  currency: string;
  /** Share held back from each invoice, released by the retainage-release milestone; 0 for none. */
  retainagePercent: number;
}

export function slugify(name: string): string {
  const slug = name
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/&/g, ' and ')
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 60);
  return slug || 'milestone';
}

/** Turns specs into new, planned milestones; amounts are filled in by `price`. */
export function fromSpecs(specs: readonly MilestoneSpec[], taken: Iterable<string> = []): Milestone[] {
  const used = new Set(taken);
  return specs.map((spec) => {
    let key = spec.key ?? slugify(spec.name);
    if (!spec.key) for (let n = 2; used.has(key); n++) key = `${slugify(spec.name)}-${n}`;
    used.add(key);
    return {
      id: null,
      key,
      name: spec.name.trim(),
      deliverable: spec.deliverable.trim(),
      acceptanceCriteria: spec.acceptanceCriteria.trim(),
      percent: 'percent' in spec.amount ? spec.amount.percent : null,
      amount: 'fixed' in spec.amount ? spec.amount.fixed : 0,
      plannedDate: spec.plannedDate,
      triggerStage: spec.triggerStage ?? null,
      paymentTerms: spec.paymentTerms ?? null,
      kind: spec.kind ?? 'standard',
      status: 'planned',
      splitFromId: null,
    };
  });
}

export const countsTowardContract = (m: Milestone) => m.status !== 'cancelled' && m.kind === 'standard';

/**
 * Prices the percentage milestones in `repriced` together: their pool is the contract's share
 * at their summed percentage, split by largest remainder, so a schedule of percentages that
 * total 100 % sums to the contract value exactly. Others keep their amounts. The retainage
 * release is always re-estimated from what the other milestones will hold back.
 */
export function price(
  terms: ContractTerms,
  milestones: Milestone[],
  repriced: ReadonlySet<Milestone>,
): Milestone[] {
  const group = milestones.filter((m) => repriced.has(m) && m.percent !== null && m.kind === 'standard');
  if (group.length > 0) {
    const pool = percentOf(
      terms.contractValue,
      group.reduce((sum, m) => sum + m.percent!, 0),
    );
    const weights = group.map((m) => m.percent!);
    const amounts = weights.some((w) => w > 0) ? allocate(pool, weights) : weights.map(() => 0);
    group.forEach((m, i) => {
      m.amount = amounts[i]!;
    });
  }
  const release = milestones.find((m) => m.kind === 'retainage_release' && m.status !== 'cancelled');
  if (release && isOpen(release.status)) {
    release.amount = milestones
      .filter(countsTowardContract)
      .reduce((sum, m) => sum + percentOf(m.amount, terms.retainagePercent), 0);
    release.percent = null;
  }
  return milestones;
}

export function scheduledTotal(milestones: readonly Milestone[]): number {
  return milestones.filter(countsTowardContract).reduce((sum, m) => sum + m.amount, 0);
}

/**
 * The most milestones a schedule's plan may hold (cancelled ones count, so change orders cannot
 * grow a schedule without end either); the remainders of partial acceptances come on top.
 */
export const MAX_MILESTONES = 100;
const MAX_WITH_CANCELLED = 1_000;

/** Every rule a schedule must satisfy, reported together with the path of each offender. */
export function validate(terms: ContractTerms, milestones: readonly Milestone[]): void {
  const issues: Issue[] = [];
  const money = (minor: number) => displayMoney(minor, terms.currency);
  if (terms.contractValue <= 0) {
    issues.push({
      path: 'contractValue',
      code: 'not_positive',
      message: 'the contract value must be greater than zero',
    });
  }
  const live = milestones.map((m, index) => ({ m, index })).filter(({ m }) => m.status !== 'cancelled');
  if (live.length === 0) {
    issues.push({ path: 'milestones', code: 'empty', message: 'a schedule needs at least one milestone' });
  }
  if (live.length > MAX_MILESTONES) {
    issues.push({
      path: 'milestones',
      code: 'too_many',
      message: `a schedule holds at most ${MAX_MILESTONES} milestones; this one would hold ${live.length}`,
    });
  }
  if (milestones.length > MAX_WITH_CANCELLED) {
    issues.push({
      path: 'milestones',
      code: 'too_many',
      message: `a schedule keeps at most ${MAX_WITH_CANCELLED} milestones, cancelled ones included; this one would keep ${milestones.length}`,
    });
  }
  const keys = new Map<string, number>();
  for (const { m, index } of live) {
    const at = `milestones[${index}]`;
    for (const field of ['name', 'deliverable', 'acceptanceCriteria'] as const) {
      if (!m[field]) {
        issues.push({ path: `${at}.${field}`, code: 'required', message: `${at}.${field} is required` });
      }
    }
    if (m.kind === 'standard' && m.amount <= 0) {
      issues.push({
        path: `${at}.amount`,
        code: 'not_positive',
        message: `${at} "${m.name}" must have an amount greater than zero`,
      });
    }
    if (m.splitFromId === null) {
      const seen = keys.get(m.key);
      if (seen !== undefined) {
        issues.push({
          path: `${at}.key`,
          code: 'duplicate',
          message: `${at}.key "${m.key}" is already used by milestones[${seen}]`,
        });
      }
      keys.set(m.key, index);
    }
  }
  const percentTotal = live.reduce(
    (sum, { m }) => sum + (m.kind === 'standard' && m.percent ? m.percent : 0),
    0,
  );
  if (percentTotal > HUNDRED_PERCENT) {
    issues.push({
      path: 'milestones',
      code: 'over_100_percent',
      message: `milestones total ${formatPercent(percentTotal)} %`,
    });
  }
  const excess = scheduledTotal(milestones) - terms.contractValue;
  if (excess > 0 && terms.contractValue > 0) {
    issues.push({
      path: 'milestones',
      code: 'exceeds_contract',
      message: `amounts exceed the contract by ${money(excess)}`,
    });
  }
  const releases = live.filter(({ m }) => m.kind === 'retainage_release');
  if (releases.length > 0 && terms.retainagePercent === 0) {
    issues.push({
      path: `milestones[${releases[0]!.index}].kind`,
      code: 'no_retainage',
      message: 'a retainage release milestone needs a retainage percentage on the schedule',
    });
  }
  if (releases.length === 0 && terms.retainagePercent > 0) {
    issues.push({
      path: 'milestones',
      code: 'no_release',
      message: `retainage of ${formatPercent(terms.retainagePercent)} % needs a retainage release milestone to pay it out`,
    });
  }
  if (releases.length > 1) {
    issues.push({
      path: `milestones[${releases[1]!.index}].kind`,
      code: 'duplicate',
      message: 'a schedule has at most one retainage release milestone',
    });
  }
  assertNoIssues('schedule_invalid', 'the schedule is invalid', issues);
}

/** Builds a whole new schedule from specs: priced, validated. */
export function buildSchedule(terms: ContractTerms, specs: readonly MilestoneSpec[]): Milestone[] {
  const milestones = fromSpecs(specs);
  price(terms, milestones, new Set(milestones));
  validate(terms, milestones);
  return milestones;
}
