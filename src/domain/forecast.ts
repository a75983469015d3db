import { addDays, type CalendarDate } from './dates.ts';

/** Weeks start on Monday (ISO 8601), as QuickBooks' and most bookkeepers' weekly reports do. */
export function weekOf(date: CalendarDate): CalendarDate {
  const day = new Date(`${date}T00:00:00Z`).getUTCDay();
  return addDays(date, -((day + 6) % 7));
}

export const weeksFrom = (start: CalendarDate, count: number): CalendarDate[] =>
  Array.from({ length: count }, (_, i) => addDays(start, 7 * i));

/** A week is a cluster when it expects at least this many times the median of the weeks expecting anything. */
export const CLUSTER_FACTOR = 2;
/** With fewer weeks expecting cash there is no pattern to stand out from. */
const MIN_WEEKS_FOR_CLUSTERS = 3;

export type WeekMark = 'cluster' | 'gap' | null;

/**
 * Where cash bunches up and where none comes: a cluster is a week far above the median of the
 * weeks expecting cash; a gap is a week expecting nothing. Staggering milestones or terms moves
 * cash from the first to the second.
 */
export function markWeeks(amounts: readonly number[]): { median: number; marks: WeekMark[] } {
  const filled = amounts.filter((a) => a > 0).sort((a, b) => a - b);
  const mid = Math.floor(filled.length / 2);
  const median =
    filled.length === 0 ? 0 : filled.length % 2 ? filled[mid]! : (filled[mid - 1]! + filled[mid]!) / 2;
  const clusters = filled.length >= MIN_WEEKS_FOR_CLUSTERS;
  return {
    median,
    marks: amounts.map((a) =>
      a === 0 ? 'gap' : clusters && a >= CLUSTER_FACTOR * median ? 'cluster' : null,
    ),
  };
}

export type AgingBucket = 'current' | 'days_1_30' | 'days_31_60' | 'days_61_90' | 'days_over_90';

export const AGING_BUCKETS: readonly AgingBucket[] = [
  'current',
  'days_1_30',
  'days_31_60',
  'days_61_90',
  'days_over_90',
];

/** The standard receivables aging buckets, by days past the due date. */
export function agingBucket(daysPastDue: number): AgingBucket {
  if (daysPastDue <= 0) return 'current';
  if (daysPastDue <= 30) return 'days_1_30';
  if (daysPastDue <= 60) return 'days_31_60';
  if (daysPastDue <= 90) return 'days_61_90';
  return 'days_over_90';
}
