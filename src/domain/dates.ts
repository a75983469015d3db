import { DomainError } from './errors.ts';

/** Calendar dates are `YYYY-MM-DD` strings; arithmetic happens in UTC so no time zone shifts them. */
export type CalendarDate = string;

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

export function isCalendarDate(text: string): boolean {
  const match = DATE.exec(text);
  if (!match) return false;
  const [y, m, d] = [Number(match[1]), Number(match[2]), Number(match[3])];
  const date = new Date(Date.UTC(y, m - 1, d));
  return date.getUTCFullYear() === y && date.getUTCMonth() === m - 1 && date.getUTCDate() === d;
}

export function parseCalendarDate(text: string): CalendarDate {
  if (!isCalendarDate(text)) {
    throw new DomainError('invalid_date', `"${text}" is not a calendar date (YYYY-MM-DD)`);
  }
  return text;
}

export function addDays(date: CalendarDate, days: number): CalendarDate {
  const [y, m, d] = date.split('-').map(Number) as [number, number, number];
  return new Date(Date.UTC(y, m - 1, d + days)).toISOString().slice(0, 10);
}

export function today(now: Date = new Date()): CalendarDate {
  return now.toISOString().slice(0, 10);
}

/**
 * Where "now" comes from for business dates (overdue, invoice dates, forecasts): the system's in
 * production, a fixed one in tests so a fixture's due date means the same on every day it runs.
 */
export interface Clock {
  now(): Date;
  today(): CalendarDate;
}

const clockOf = (now: () => Date): Clock => ({ now, today: () => today(now()) });

export const systemClock = clockOf(() => new Date());

/** A clock stopped at `instant` (an ISO date or date-time). */
export const fixedClock = (instant: string) => clockOf(() => new Date(instant));
