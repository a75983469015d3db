import fc from 'fast-check';
import { DomainError } from '../../src/domain/errors.ts';
import { HUNDRED_PERCENT } from '../../src/domain/percent.ts';
import type { MilestoneSpec } from '../../src/domain/schedule.ts';

/** Runs `fn` and returns the DomainError it throws; fails the test if it throws nothing or something else. */
export function domainError(fn: () => unknown): DomainError {
  try {
    fn();
  } catch (error) {
    if (error instanceof DomainError) return error;
    throw error;
  }
  throw new Error('expected a DomainError, but nothing was thrown');
}

/** Currencies with 0, 2, 3 and 4 minor digits. */
export const CURRENCY_DIGITS: Record<string, number> = {
  JPY: 0,
  KRW: 0,
  CLP: 0,
  USD: 2,
  EUR: 2,
  GBP: 2,
  KWD: 3,
  BHD: 3,
  TND: 3,
  CLF: 4,
};

export const currencyArb = fc.constantFrom(...Object.keys(CURRENCY_DIGITS));

/** Contract values from 0 to 10^12 minor units, with small values drawn often. */
export const contractArb = fc.oneof(
  fc.integer({ min: 0, max: 1_000 }),
  fc.integer({ min: 0, max: 10_000_000 }),
  fc.integer({ min: 0, max: 1_000_000_000_000 }),
);

/** 1–20 positive weights in ten-thousandths of a percent that sum to exactly 100 %. */
export const randomSplitArb = fc
  .uniqueArray(fc.integer({ min: 1, max: HUNDRED_PERCENT - 1 }), { maxLength: 19 })
  .map((cuts) => {
    const points = [0, ...cuts.sort((a, b) => a - b), HUNDRED_PERCENT];
    return points.slice(1).map((p, i) => p - points[i]!);
  });

/**
 * Equal splits of 100 %: n parts of floor(100 % / n), the leftover either as one more tiny part
 * (3 × 33.3333 + 0.0001) or added to the last part (33.3333 + 33.3333 + 33.3334).
 */
export const equalSplitArb = fc
  .record({ n: fc.integer({ min: 1, max: 20 }), extraPart: fc.boolean() })
  .map(({ n, extraPart }) => {
    const each = Math.floor(HUNDRED_PERCENT / n);
    const parts: number[] = Array.from({ length: n }, () => each);
    const left = HUNDRED_PERCENT - each * n;
    if (left > 0) {
      if (extraPart) parts.push(left);
      else parts[n - 1]! += left;
    }
    return parts;
  });

export const splitArb = fc.oneof(randomSplitArb, equalSplitArb);

/** True when `part` is within one minor unit of the exact share total × weight / sum. */
export function withinOneUnit(part: number, total: number, weight: number, sum: number): boolean {
  const diff = BigInt(part) * BigInt(sum) - BigInt(total) * BigInt(weight);
  const abs = diff < 0n ? -diff : diff;
  return abs < BigInt(sum);
}

export function spec(name: string, amount: MilestoneSpec['amount'], extra: Partial<MilestoneSpec> = {}) {
  return {
    name,
    deliverable: `${name} deliverable`,
    acceptanceCriteria: `${name} signed off`,
    amount,
    plannedDate: '2026-03-01',
    ...extra,
  } satisfies MilestoneSpec;
}
