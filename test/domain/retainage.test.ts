import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { HUNDRED_PERCENT, parsePercent, percentOf } from '../../src/domain/percent.ts';
import { withhold } from '../../src/domain/retainage.ts';

describe('withhold', () => {
  it('holds back the retainage share of an invoice', () => {
    expect(withhold(10_000_000, parsePercent('10'))).toEqual({
      gross: 10_000_000,
      retained: 1_000_000,
      payable: 9_000_000,
    });
    expect(withhold(1_500_000, parsePercent('5'))).toEqual({
      gross: 1_500_000,
      retained: 75_000,
      payable: 1_425_000,
    });
    expect(withhold(12_345, 0)).toEqual({ gross: 12_345, retained: 0, payable: 12_345 });
    expect(withhold(12_345, HUNDRED_PERCENT)).toEqual({ gross: 12_345, retained: 12_345, payable: 0 });
    expect(withhold(0, parsePercent('10'))).toEqual({ gross: 0, retained: 0, payable: 0 });
  });

  it('rounds the retained share half-up', () => {
    expect(withhold(5, parsePercent('10')).retained).toBe(1); // 0.5 → 1
    expect(withhold(4, parsePercent('10')).retained).toBe(0); // 0.4 → 0
    expect(withhold(33_333, parsePercent('7.5'))).toEqual({
      gross: 33_333,
      retained: 2_500,
      payable: 30_833,
    });
  });

  it('retained + payable always equals the line, with 0 ≤ retained ≤ line', () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.integer({ min: 0, max: 1_000 }), fc.integer({ min: 0, max: 1_000_000_000_000 })),
        fc.oneof(
          fc.integer({ min: 0, max: HUNDRED_PERCENT }),
          fc.integer({ min: 0, max: 20 }).map((p) => p * 10_000),
        ),
        (gross, percent) => {
          const { gross: line, retained, payable } = withhold(gross, percent);
          expect(line).toBe(gross);
          expect(retained + payable).toBe(gross);
          expect(retained).toBeGreaterThanOrEqual(0);
          expect(payable).toBeGreaterThanOrEqual(0);
          expect(retained).toBe(percentOf(gross, percent));
          expect(Number.isSafeInteger(retained)).toBe(true);
        },
      ),
    );
  });
});
