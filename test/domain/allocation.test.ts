import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { allocate } from '../../src/domain/allocation.ts';
import { DomainError } from '../../src/domain/errors.ts';
import { HUNDRED_PERCENT, parsePercent } from '../../src/domain/percent.ts';
import { buildSchedule, scheduledTotal } from '../../src/domain/schedule.ts';
import { contractArb, currencyArb, spec, splitArb, withinOneUnit } from './helpers.ts';

const sum = (values: readonly number[]) => values.reduce((a, b) => a + b, 0);

describe('allocate', () => {
  it('splits by largest remainder, earlier positions winning ties', () => {
    expect(allocate(100, [1, 1, 1])).toEqual([34, 33, 33]);
    expect(allocate(10_000_000, [250_000, 250_000, 350_000, 150_000])).toEqual([
      2_500_000, 2_500_000, 3_500_000, 1_500_000,
    ]);
    // 3 × 33.3333 % + 0.0001 % of USD 1.00
    expect(allocate(100, [333_333, 333_333, 333_333, 1])).toEqual([34, 33, 33, 0]);
    // the largest remainder wins the spare unit, not the first position
    expect(allocate(10, [1, 2])).toEqual([3, 7]);
    expect(allocate(1, [1, 3])).toEqual([0, 1]);
    expect(allocate(2, [1, 1, 1])).toEqual([1, 1, 0]);
  });

  it('handles empty lists, zero totals, zero weights and refuses all-zero weights', () => {
    expect(allocate(100, [])).toEqual([]);
    expect(allocate(0, [1, 2, 3])).toEqual([0, 0, 0]);
    expect(allocate(100, [0, 1])).toEqual([0, 100]);
    expect(allocate(7, [5])).toEqual([7]);
    expect(() => allocate(100, [0, 0])).toThrow('allocate: weights sum to zero');
  });

  it('always sums exactly to the contract value, each part within one minor unit of its share', () => {
    fc.assert(
      fc.property(contractArb, splitArb, (total, weights) => {
        const parts = allocate(total, weights);
        expect(parts).toHaveLength(weights.length);
        expect(sum(parts)).toBe(total);
        parts.forEach((part, i) => {
          expect(Number.isSafeInteger(part)).toBe(true);
          expect(part).toBeGreaterThanOrEqual(0);
          expect(withinOneUnit(part, total, weights[i]!, HUNDRED_PERCENT)).toBe(true);
        });
      }),
    );
  });

  it('works for arbitrary positive weights that do not sum to 100 %', () => {
    fc.assert(
      fc.property(
        contractArb,
        fc.array(fc.integer({ min: 1, max: 1_000_000_000 }), { minLength: 1, maxLength: 20 }),
        (total, weights) => {
          const parts = allocate(total, weights);
          const weightSum = sum(weights);
          expect(sum(parts)).toBe(total);
          parts.forEach((part, i) => {
            expect(withinOneUnit(part, total, weights[i]!, weightSum)).toBe(true);
          });
        },
      ),
    );
  });

  it('gives spare units to the largest remainders first', () => {
    fc.assert(
      fc.property(contractArb, splitArb, (total, weights) => {
        const parts = allocate(total, weights);
        const scale = BigInt(HUNDRED_PERCENT);
        const info = weights.map((w, i) => {
          const exact = BigInt(total) * BigInt(w);
          return { bumped: BigInt(parts[i]!) > exact / scale, remainder: exact % scale };
        });
        const smallestBumped = info.filter((s) => s.bumped).map((s) => s.remainder);
        const largestUnbumped = info.filter((s) => !s.bumped).map((s) => s.remainder);
        for (const b of smallestBumped) for (const u of largestUnbumped) expect(b >= u).toBe(true);
      }),
    );
  });
});

describe('buildSchedule with percentage milestones', () => {
  it('prices a schedule of percentages that sum exactly to the contract value', () => {
    fc.assert(
      fc.property(contractArb, currencyArb, splitArb, (contractValue, currency, weights) => {
        const terms = { contractValue, currency, retainagePercent: 0 };
        const specs = weights.map((percent, i) => spec(`Milestone ${i + 1}`, { percent }));
        const expected = allocate(contractValue, weights);
        if (contractValue > 0 && expected.every((a) => a > 0)) {
          const milestones = buildSchedule(terms, specs);
          expect(milestones.map((m) => m.amount)).toEqual(expected);
          expect(scheduledTotal(milestones)).toBe(contractValue);
          expect(sum(milestones.map((m) => m.amount))).toBe(contractValue);
          milestones.forEach((m, i) => {
            expect(m.percent).toBe(weights[i]);
            expect(m.status).toBe('planned');
            expect(withinOneUnit(m.amount, contractValue, weights[i]!, HUNDRED_PERCENT)).toBe(true);
          });
        } else {
          // A share that rounds to nothing (or a zero contract) is refused, never silently kept.
          let error: unknown;
          try {
            buildSchedule(terms, specs);
          } catch (e) {
            error = e;
          }
          expect(error).toBeInstanceOf(DomainError);
          const domain = error as DomainError;
          expect(domain.code).toBe('schedule_invalid');
          expect(domain.issues.length).toBeGreaterThan(0);
          for (const issue of domain.issues) expect(issue.code).toBe('not_positive');
        }
      }),
    );
  });

  it('prices 3 × 33.3333 % + 0.0001 % of USD 100,000.00 to the cent', () => {
    const third = parsePercent('33.3333');
    const milestones = buildSchedule({ contractValue: 10_000_000, currency: 'USD', retainagePercent: 0 }, [
      spec('One', { percent: third }),
      spec('Two', { percent: third }),
      spec('Three', { percent: third }),
      spec('Rounding', { percent: parsePercent('0.0001') }),
    ]);
    expect(milestones.map((m) => m.amount)).toEqual([3_333_330, 3_333_330, 3_333_330, 10]);
    expect(scheduledTotal(milestones)).toBe(10_000_000);
  });

  it('prices percentages below 100 % as that share of the contract, split exactly', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 10_000_000, max: 1_000_000_000_000 }),
        fc.array(fc.integer({ min: 1, max: 50_000 }), { minLength: 1, maxLength: 20 }),
        (contractValue, weights) => {
          const terms = { contractValue, currency: 'EUR', retainagePercent: 0 };
          const milestones = buildSchedule(
            terms,
            weights.map((percent, i) => spec(`M${i}`, { percent })),
          );
          const pct = sum(weights);
          const exactTimesScale = BigInt(contractValue) * BigInt(pct);
          const total = BigInt(scheduledTotal(milestones)) * BigInt(HUNDRED_PERCENT);
          const diff = total - exactTimesScale;
          // the whole group is the contract's share at the summed percentage, rounded once
          expect(2n * (diff < 0n ? -diff : diff) <= BigInt(HUNDRED_PERCENT)).toBe(true);
        },
      ),
    );
  });
});
