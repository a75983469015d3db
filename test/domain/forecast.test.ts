import { describe, expect, it } from 'vitest';
import { agingBucket, markWeeks, weekOf } from '../../src/domain/forecast.ts';

describe('forecast and aging rules', () => {
  it('starts weeks on Monday', () => {
    expect(weekOf('2026-12-02')).toBe('2026-11-30'); // a Wednesday
    expect(weekOf('2026-11-30')).toBe('2026-11-30');
    expect(weekOf('2026-12-06')).toBe('2026-11-30'); // Sunday ends the week
    expect(weekOf('2027-01-01')).toBe('2026-12-28');
  });

  it('marks weeks far above the median of the weeks expecting cash as clusters, and empty weeks as gaps', () => {
    expect(markWeeks([5, 0, 5, 30, 5, 10, 9])).toEqual({
      median: 7,
      marks: [null, 'gap', null, 'cluster', null, null, null],
    });
    expect(markWeeks([5, 0, 5, 30, 5, 10]).marks).toEqual([null, 'gap', null, 'cluster', null, 'cluster']);
    // Too few weeks with cash to speak of a cluster; the even-count median is the mean of the middle two.
    expect(markWeeks([0, 100, 0, 1])).toEqual({ median: 50.5, marks: ['gap', null, 'gap', null] });
  });

  it('ages by days past due into the standard buckets', () => {
    expect([-5, 0, 1, 30, 31, 60, 61, 90, 91].map(agingBucket)).toEqual([
      'current',
      'current',
      'days_1_30',
      'days_1_30',
      'days_31_60',
      'days_31_60',
      'days_61_90',
      'days_61_90',
      'days_over_90',
    ]);
  });
});
