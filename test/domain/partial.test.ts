import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DomainError } from '../../src/domain/errors.ts';
import { splitPortion } from '../../src/domain/partial.ts';
import { HUNDRED_PERCENT, parsePercent, percentOf } from '../../src/domain/percent.ts';
import { currencyArb, domainError, splitArb } from './helpers.ts';

const ONE_UNIT = BigInt(HUNDRED_PERCENT);

/** A milestone's whole amount and what is still open of it (0 < open ≤ whole). */
const wholeOpenArb = fc
  .oneof(fc.integer({ min: 1, max: 1_000 }), fc.integer({ min: 1, max: 1_000_000_000_000 }))
  .chain((whole) =>
    fc.tuple(fc.constant(whole), fc.oneof(fc.constant(whole), fc.integer({ min: 1, max: whole }))),
  );

const percentArb = fc.oneof(
  fc.integer({ min: 1, max: HUNDRED_PERCENT }),
  fc.integer({ min: 1, max: 100 }).map((p) => p * 10_000),
);

function attempt(fn: () => { accepted: number; remainder: number }) {
  try {
    return { result: fn(), error: undefined };
  } catch (error) {
    if (!(error instanceof DomainError)) throw error;
    return { result: undefined, error };
  }
}

describe('splitPortion', () => {
  it('accepts 60 % then 40 % of USD 100,000.00 exactly', () => {
    const first = splitPortion(10_000_000, 10_000_000, { percent: parsePercent('60') }, 'USD');
    expect(first).toEqual({ accepted: 6_000_000, remainder: 4_000_000 });
    const second = splitPortion(10_000_000, first.remainder, { percent: parsePercent('40') }, 'USD', 600_000);
    expect(second).toEqual({ accepted: 4_000_000, remainder: 0 });
  });

  it('accepts 60 % then 40 % exactly when the first portion rounds up or down', () => {
    // 60 % of 0.03 is 0.018 → 0.02; 40 % takes the 0.01 left, with or without the running percentage.
    expect(splitPortion(3, 3, { percent: 600_000 }, 'USD')).toEqual({ accepted: 2, remainder: 1 });
    expect(splitPortion(3, 1, { percent: 400_000 }, 'USD', 600_000)).toEqual({ accepted: 1, remainder: 0 });
    expect(splitPortion(3, 1, { percent: 400_000 }, 'USD')).toEqual({ accepted: 1, remainder: 0 });
    // 60 % of 12,345.68 is 7,407.408 → 7,407.41; 40 % (4,938.272) takes the 4,938.27 left.
    const up = splitPortion(1_234_568, 1_234_568, { percent: 600_000 }, 'USD');
    expect(up).toEqual({ accepted: 740_741, remainder: 493_827 });
    expect(splitPortion(1_234_568, up.remainder, { percent: 400_000 }, 'USD', 600_000)).toEqual({
      accepted: 493_827,
      remainder: 0,
    });
    // 60 % of 12,345.67 is 7,407.402 → 7,407.40; 40 % (4,938.268) takes the 4,938.27 left.
    const down = splitPortion(1_234_567, 1_234_567, { percent: 600_000 }, 'USD');
    expect(down).toEqual({ accepted: 740_740, remainder: 493_827 });
    expect(splitPortion(1_234_567, down.remainder, { percent: 400_000 }, 'USD', 600_000)).toEqual({
      accepted: 493_827,
      remainder: 0,
    });
  });

  it('accumulates percentages: 3 × 33.3333 % + 0.0001 % of JPY 100 accepts 33, 34, 33 and nothing left', () => {
    const third = parsePercent('33.3333');
    // cumulative targets: 33.3333 → 33, 66.6666 → 67, 99.9999 → 100, 100 → 100
    expect(splitPortion(100, 100, { percent: third }, 'JPY', 0)).toEqual({ accepted: 33, remainder: 67 });
    expect(splitPortion(100, 67, { percent: third }, 'JPY', third)).toEqual({ accepted: 34, remainder: 33 });
    expect(splitPortion(100, 33, { percent: third }, 'JPY', 2 * third)).toEqual({
      accepted: 33,
      remainder: 0,
    });
    // the last 0.0001 % finds nothing left: 99.9999 % of JPY 100 already rounded to all of it
    expect(domainError(() => splitPortion(100, 0, { percent: 1 }, 'JPY', 3 * third)).code).toBe(
      'already_accepted',
    );
    // of USD 100,000.00 the same split leaves exactly 0.10 for the last 0.0001 %
    expect(splitPortion(10_000_000, 10, { percent: 1 }, 'USD', 3 * third)).toEqual({
      accepted: 10,
      remainder: 0,
    });
  });

  it('accepts fixed amounts as given', () => {
    expect(splitPortion(10_000_000, 10_000_000, { amount: 2_500_000 }, 'USD')).toEqual({
      accepted: 2_500_000,
      remainder: 7_500_000,
    });
    expect(splitPortion(10_000_000, 7_500_000, { amount: 7_500_000 }, 'USD')).toEqual({
      accepted: 7_500_000,
      remainder: 0,
    });
  });

  it('after an amount portion, a percentage within one minor unit of what is left takes the rest', () => {
    // 70,000.00 accepted as an amount; 30 % is exactly what is left
    expect(splitPortion(10_000_000, 3_000_000, { percent: 300_000 }, 'USD')).toEqual({
      accepted: 3_000_000,
      remainder: 0,
    });
    // 33.3333 % of 100.00 is 33.33333: the 33.34 left is within a cent, so it is all accepted
    expect(splitPortion(10_000, 3_334, { percent: 333_333 }, 'USD')).toEqual({
      accepted: 3_334,
      remainder: 0,
    });
    // 10 % of 100,000.00 is well below the 30,000.00 left
    expect(splitPortion(10_000_000, 3_000_000, { percent: 100_000 }, 'USD')).toEqual({
      accepted: 1_000_000,
      remainder: 2_000_000,
    });
  });

  it('refuses over-acceptance with over_acceptance and the amounts involved', () => {
    // running percentage: 70 % accepted, 40 % more asked
    const running = domainError(() =>
      splitPortion(10_000_000, 3_000_000, { percent: 400_000 }, 'USD', 700_000),
    );
    expect(running.code).toBe('over_acceptance');
    expect(running.message).toBe(
      '40 % of the milestone is USD 40,000.00 but only USD 30,000.00 remains to be accepted',
    );
    // after an amount portion: a percentage a cent or more beyond what is left
    const afterAmount = domainError(() => splitPortion(10_000_000, 3_000_000, { percent: 300_001 }, 'USD'));
    expect(afterAmount.code).toBe('over_acceptance');
    expect(afterAmount.message).toBe(
      '30.0001 % of the milestone is USD 30,000.10 but only USD 30,000.00 remains to be accepted',
    );
    const byAmount = domainError(() => splitPortion(10_000_000, 30_000, { amount: 40_000 }, 'USD'));
    expect(byAmount.code).toBe('over_acceptance');
    expect(byAmount.message).toBe('USD 400.00 is more than the USD 300.00 that remains to be accepted');
    const jpy = domainError(() => splitPortion(1_000_000, 1_000, { amount: 1_001 }, 'JPY'));
    expect(jpy.code).toBe('over_acceptance');
    expect(jpy.message).toBe('JPY 1,001 is more than the JPY 1,000 that remains to be accepted');
  });

  it('refuses empty, out-of-range and vanishing portions', () => {
    const done = domainError(() => splitPortion(10_000, 0, { amount: 1 }, 'USD'));
    expect(done.code).toBe('already_accepted');
    expect(done.message).toBe('the milestone is already fully accepted');
    for (const percent of [0, -1, HUNDRED_PERCENT + 1]) {
      const error = domainError(() => splitPortion(10_000, 10_000, { percent }, 'USD'));
      expect(error.code).toBe('invalid_portion');
      expect(error.message).toBe('the accepted percentage must be above 0 and at most 100');
    }
    for (const amount of [0, -5]) {
      const error = domainError(() => splitPortion(10_000, 10_000, { amount }, 'USD'));
      expect(error.code).toBe('invalid_portion');
      expect(error.message).toBe('the accepted amount must be greater than zero');
    }
    const tiny = domainError(() => splitPortion(100, 100, { percent: 1 }, 'USD'));
    expect(tiny.code).toBe('invalid_portion');
    expect(tiny.message).toBe('the portion rounds to USD 0.00; accept a larger share');
  });

  it('percentage portions: accepted + remainder = open, 0 < accepted ≤ open, or a clear refusal', () => {
    fc.assert(
      fc.property(wholeOpenArb, percentArb, currencyArb, ([whole, open], percent, currency) => {
        const { result, error } = attempt(() => splitPortion(whole, open, { percent }, currency));
        const asked = BigInt(whole) * BigInt(percent);
        const left = BigInt(open) * ONE_UNIT;
        if (error) {
          if (error.code === 'over_acceptance') {
            // refused only when the share asked for is at least one minor unit beyond what is open
            expect(open).toBeLessThan(whole);
            expect(asked >= left + ONE_UNIT).toBe(true);
          } else {
            expect(error.code).toBe('invalid_portion');
            expect(percentOf(whole, percent)).toBe(0);
          }
          return;
        }
        const { accepted, remainder } = result!;
        expect(accepted + remainder).toBe(open);
        expect(accepted).toBeGreaterThan(0);
        expect(accepted).toBeLessThanOrEqual(open);
        // the share asked for, rounded, or everything that is left
        if (accepted !== open) expect(accepted).toBe(percentOf(whole, percent));
        if (open === whole)
          expect(accepted).toBe(percent === HUNDRED_PERCENT ? whole : percentOf(whole, percent));
      }),
    );
  });

  it('amount portions: accepted is the amount, accepted + remainder = open, over-acceptance refused', () => {
    fc.assert(
      fc.property(
        wholeOpenArb,
        fc.oneof(fc.integer({ min: 1, max: 1_000 }), fc.integer({ min: 1, max: 2_000_000_000_000 })),
        currencyArb,
        ([whole, open], amount, currency) => {
          if (amount > open) {
            expect(domainError(() => splitPortion(whole, open, { amount }, currency)).code).toBe(
              'over_acceptance',
            );
            return;
          }
          const { accepted, remainder } = splitPortion(whole, open, { amount }, currency);
          expect(accepted).toBe(amount);
          expect(accepted + remainder).toBe(open);
          expect(remainder).toBeGreaterThanOrEqual(0);
        },
      ),
    );
  });

  it('random percentage portions adding to 100 % accept everything exactly', () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.integer({ min: 1, max: 1_000 }), fc.integer({ min: 1, max: 1_000_000_000_000 })),
        splitArb,
        currencyArb,
        (whole, percents, currency) => {
          let open = whole;
          let acceptedPercent = 0;
          let pending = 0; // a share too small to be a cent is folded into the next portion
          let total = 0;
          for (const [i, percent] of percents.entries()) {
            const asked = pending + percent;
            if (open === 0) {
              // everything already accepted through rounding: nothing more can be
              expect(domainError(() => splitPortion(whole, open, { percent: asked }, currency)).code).toBe(
                'already_accepted',
              );
              break;
            }
            const { result, error } = attempt(() =>
              splitPortion(whole, open, { percent: asked }, currency, acceptedPercent),
            );
            if (error) {
              expect(error.code).toBe('invalid_portion');
              expect(i).toBeLessThan(percents.length - 1); // the last portion always takes the rest
              pending = asked;
              continue;
            }
            const { accepted, remainder } = result!;
            expect(accepted).toBeGreaterThan(0);
            expect(accepted + remainder).toBe(open);
            total += accepted;
            open = remainder;
            acceptedPercent += asked;
            pending = 0;
            // what is accepted so far is the whole's share at the running percentage
            expect(total).toBe(
              acceptedPercent === HUNDRED_PERCENT ? whole : percentOf(whole, acceptedPercent),
            );
          }
          expect(total).toBe(whole);
          expect(open).toBe(0);
        },
      ),
    );
  });

  it('any percentage p then 100 % − p accepts everything, even without the running percentage', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 1_000_000_000_000 }),
        fc.integer({ min: 1, max: HUNDRED_PERCENT - 1 }),
        (whole, p) => {
          const first = attempt(() => splitPortion(whole, whole, { percent: p }, 'USD'));
          if (first.error) {
            expect(first.error.code).toBe('invalid_portion');
            expect(percentOf(whole, p)).toBe(0);
            return;
          }
          const { accepted, remainder } = first.result!;
          if (remainder === 0) {
            expect(accepted).toBe(whole);
            return;
          }
          for (const running of [p, undefined]) {
            const second = splitPortion(whole, remainder, { percent: HUNDRED_PERCENT - p }, 'USD', running);
            expect(second).toEqual({ accepted: remainder, remainder: 0 });
          }
        },
      ),
    );
  });

  it('a sequence of amount portions that adds up to the milestone accepts it all', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 1_000_000_000_000 }),
        fc.array(fc.integer({ min: 1, max: 1_000_000_000_000 }), { minLength: 1, maxLength: 10 }),
        (whole, amounts) => {
          let open = whole;
          for (const wanted of amounts) {
            const amount = Math.min(wanted, open);
            const { accepted, remainder } = splitPortion(whole, open, { amount }, 'EUR');
            expect(accepted).toBe(amount);
            expect(accepted + remainder).toBe(open);
            open = remainder;
            if (open === 0) break;
          }
          if (open > 0)
            expect(splitPortion(whole, open, { amount: open }, 'EUR')).toEqual({
              accepted: open,
              remainder: 0,
            });
          expect(domainError(() => splitPortion(whole, 0, { amount: 1 }, 'EUR')).code).toBe(
            'already_accepted',
          );
        },
      ),
    );
  });
});

describe('splitPortion after a change order re-priced the open part', () => {
  it('never returns a negative or oversized portion when the running percentage no longer fits', () => {
    // 60 % of 100,000.00 accepted, then the open 40,000.00 re-priced to 10,000.00, then 10 %.
    const { accepted, remainder } = splitPortion(7_000_000, 1_000_000, { percent: 100_000 }, 'USD', 600_000);
    expect(accepted).toBe(700_000);
    expect(remainder).toBe(300_000);
    fc.assert(
      fc.property(
        fc.integer({ min: 2, max: 10_000_000 }),
        fc.integer({ min: 1, max: 1_000_000 }),
        fc.integer({ min: 1, max: 1_000_000 }),
        fc.integer({ min: 0, max: 1_000_000 }),
        (whole, openShare, percent, prior) => {
          const open = Math.max(1, Math.floor((whole * openShare) / 1_000_000));
          try {
            const r = splitPortion(whole, open, { percent }, 'USD', prior);
            return r.accepted > 0 && r.accepted <= open && r.accepted + r.remainder === open;
          } catch (error) {
            return (
              (error as { code?: string }).code === 'over_acceptance' ||
              (error as { code?: string }).code === 'invalid_portion'
            );
          }
        },
      ),
    );
  });
});
