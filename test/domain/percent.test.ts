import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  formatPercent,
  HUNDRED_PERCENT,
  PERCENT_SCALE,
  parsePercent,
  percentOf,
} from '../../src/domain/percent.ts';
import { domainError } from './helpers.ts';

describe('parsePercent', () => {
  it('reads percentages into ten-thousandths of a percent', () => {
    expect(PERCENT_SCALE).toBe(10_000);
    expect(HUNDRED_PERCENT).toBe(1_000_000);
    expect(parsePercent('25')).toBe(250_000);
    expect(parsePercent('100')).toBe(1_000_000);
    expect(parsePercent('0')).toBe(0);
    expect(parsePercent('33.3333')).toBe(333_333);
    expect(parsePercent('12.5')).toBe(125_000);
    expect(parsePercent('0.0001')).toBe(1);
    expect(parsePercent(' 7.50 ')).toBe(75_000);
  });

  it('accepts numbers as well as strings', () => {
    expect(parsePercent(12.5)).toBe(125_000);
    expect(parsePercent(25)).toBe(250_000);
    expect(parsePercent(0.1)).toBe(1_000);
  });

  it('refuses more than four decimals, signs and junk', () => {
    for (const text of ['12.34567', '-5', '+5', 'abc', '', '1,5', '5%', '1000', '.5', '5.']) {
      const error = domainError(() => parsePercent(text));
      expect(error.code, text).toBe('invalid_percent');
      expect(error.message, text).toBe(`"${text.trim()}" is not a percentage with at most 4 decimals`);
    }
    expect(() => parsePercent(1e-7)).toThrow('"1e-7" is not a percentage');
  });
});

describe('formatPercent', () => {
  it('writes the shortest exact decimal', () => {
    expect(formatPercent(250_000)).toBe('25');
    expect(formatPercent(333_333)).toBe('33.3333');
    expect(formatPercent(125_000)).toBe('12.5');
    expect(formatPercent(1)).toBe('0.0001');
    expect(formatPercent(0)).toBe('0');
    expect(formatPercent(1_010_000)).toBe('101');
    expect(formatPercent(1_000_100)).toBe('100.01');
  });

  it('round-trips with parsePercent', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 9_999_999 }), (units) => {
        expect(parsePercent(formatPercent(units))).toBe(units);
      }),
    );
  });
});

describe('percentOf', () => {
  it('takes an exact share, rounded half-up', () => {
    expect(percentOf(10_000_000, 250_000)).toBe(2_500_000);
    expect(percentOf(10_000_000, HUNDRED_PERCENT)).toBe(10_000_000);
    expect(percentOf(10_000_000, 0)).toBe(0);
    expect(percentOf(1, 500_000)).toBe(1); // 0.5 → 1
    expect(percentOf(3, 500_000)).toBe(2); // 1.5 → 2
    expect(percentOf(1, 499_999)).toBe(0); // 0.499999 → 0
    expect(percentOf(100, 333_333)).toBe(33); // 33.3333 → 33
    expect(percentOf(200, 333_333)).toBe(67); // 66.6666 → 67
  });

  it('is exact for amounts where floats would drift', () => {
    // 10^12 × 33.3333 % = 333333000000 exactly
    expect(percentOf(1_000_000_000_000, 333_333)).toBe(333_333_000_000);
    expect(percentOf(Number.MAX_SAFE_INTEGER, HUNDRED_PERCENT)).toBe(Number.MAX_SAFE_INTEGER);
  });

  it('is always within half a minor unit of the exact share, ties up', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 1_000_000_000_000 }),
        fc.integer({ min: 0, max: HUNDRED_PERCENT }),
        (minor, units) => {
          const result = BigInt(percentOf(minor, units));
          const exactTimesScale = BigInt(minor) * BigInt(units);
          const scale = BigInt(HUNDRED_PERCENT);
          // exact - 1/2 <= result < exact + 1/2
          expect(2n * result * scale >= 2n * exactTimesScale - scale).toBe(true);
          expect(2n * result * scale < 2n * exactTimesScale + scale).toBe(true);
          expect(Number(result)).toBeLessThanOrEqual(minor);
        },
      ),
    );
  });
});
