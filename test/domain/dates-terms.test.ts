import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { addDays, isCalendarDate, parseCalendarDate, today } from '../../src/domain/dates.ts';
import { dueDate, STANDARD_TERMS, termDays, termName } from '../../src/domain/terms.ts';
import { domainError } from './helpers.ts';

/** Calendar dates between 1970 and 2199. */
const dateArb = fc
  .integer({ min: 0, max: 83_000 })
  .map((days) => new Date(days * 86_400_000).toISOString().slice(0, 10));

const dayNumber = (date: string) => Date.parse(`${date}T00:00:00Z`) / 86_400_000;

describe('isCalendarDate / parseCalendarDate', () => {
  it('accepts real dates, including leap days', () => {
    for (const date of ['2026-01-01', '2026-12-31', '2028-02-29', '2000-02-29', '2026-02-28', '2026-04-30'])
      expect(isCalendarDate(date), date).toBe(true);
  });

  it('refuses impossible dates and other shapes', () => {
    for (const date of [
      '2026-02-30',
      '2026-02-29',
      '2100-02-29',
      '2026-04-31',
      '2026-13-01',
      '2026-00-10',
      '2026-01-00',
      '2026-1-01',
      '26-01-01',
      '2026/01/01',
      '2026-01-01T00:00:00Z',
      ' 2026-01-01',
      '',
    ])
      expect(isCalendarDate(date), date).toBe(false);
  });

  it('parseCalendarDate returns valid dates and names the bad ones', () => {
    expect(parseCalendarDate('2028-02-29')).toBe('2028-02-29');
    const error = domainError(() => parseCalendarDate('2026-02-30'));
    expect(error.code).toBe('invalid_date');
    expect(error.message).toBe('"2026-02-30" is not a calendar date (YYYY-MM-DD)');
  });

  it('every ISO date string of a day is a calendar date', () => {
    fc.assert(
      fc.property(dateArb, (date) => {
        expect(isCalendarDate(date)).toBe(true);
      }),
    );
  });
});

describe('addDays / today', () => {
  it('crosses month, year and leap-day boundaries in UTC', () => {
    expect(addDays('2026-01-31', 1)).toBe('2026-02-01');
    expect(addDays('2026-12-31', 1)).toBe('2027-01-01');
    expect(addDays('2026-03-01', -1)).toBe('2026-02-28');
    expect(addDays('2028-03-01', -1)).toBe('2028-02-29');
    expect(addDays('2026-03-08', 1)).toBe('2026-03-09'); // US DST start: no shift in UTC
    expect(addDays('2026-05-05', 0)).toBe('2026-05-05');
  });

  it('moves exactly n days and back again', () => {
    fc.assert(
      fc.property(dateArb, fc.integer({ min: -3_650, max: 3_650 }), (date, n) => {
        const later = addDays(date, n);
        expect(isCalendarDate(later)).toBe(true);
        expect(dayNumber(later) - dayNumber(date)).toBe(n);
        expect(addDays(later, -n)).toBe(date);
      }),
    );
  });

  it('today is the UTC calendar date of the instant', () => {
    expect(today(new Date('2026-03-05T23:59:59Z'))).toBe('2026-03-05');
    expect(today(new Date('2026-03-05T00:00:00Z'))).toBe('2026-03-05');
    expect(today(new Date('2026-03-05T23:30:00-05:00'))).toBe('2026-03-06');
    expect(isCalendarDate(today())).toBe(true);
  });
});

describe('payment terms', () => {
  it('knows the standard terms and their days', () => {
    expect(STANDARD_TERMS).toEqual(['due_on_receipt', 'net_7', 'net_15', 'net_30', 'net_60']);
    expect(STANDARD_TERMS.map((t) => termDays(t))).toEqual([0, 7, 15, 30, 60]);
    expect(termDays({ customDays: 45 })).toBe(45);
    expect(termDays({ customDays: 0 })).toBe(0);
    expect(termDays({ customDays: 365 })).toBe(365);
  });

  it('names the terms as QuickBooks does', () => {
    expect(termName('due_on_receipt')).toBe('Due on receipt');
    expect(termName('net_7')).toBe('Net 7');
    expect(termName('net_15')).toBe('Net 15');
    expect(termName('net_30')).toBe('Net 30');
    expect(termName('net_60')).toBe('Net 60');
    expect(termName({ customDays: 45 })).toBe('Net 45');
    expect(termName({ customDays: 0 })).toBe('Due on receipt');
  });

  it('refuses custom days outside 0–365 or not whole', () => {
    for (const customDays of [-1, 366, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) {
      const error = domainError(() => termDays({ customDays }));
      expect(error.code, String(customDays)).toBe('invalid_terms');
      expect(error.message).toBe('custom payment terms must be 0 to 365 days');
    }
    expect(() => dueDate('2026-01-01', { customDays: 400 })).toThrow('custom payment terms must be 0 to 365');
  });

  it('sets the due date from the invoice date for each term', () => {
    expect(dueDate('2026-01-15', 'due_on_receipt')).toBe('2026-01-15');
    expect(dueDate('2026-12-28', 'net_7')).toBe('2027-01-04');
    expect(dueDate('2026-02-20', 'net_15')).toBe('2026-03-07');
    expect(dueDate('2026-01-31', 'net_30')).toBe('2026-03-02'); // across a short February
    expect(dueDate('2026-03-31', 'net_30')).toBe('2026-04-30');
    expect(dueDate('2028-02-15', 'net_30')).toBe('2028-03-16'); // leap year
    expect(dueDate('2026-11-15', 'net_60')).toBe('2027-01-14');
    expect(dueDate('2026-01-31', { customDays: 45 })).toBe('2026-03-17');
    expect(dueDate('2026-06-30', { customDays: 1 })).toBe('2026-07-01');
    expect(dueDate('2026-06-30', { customDays: 0 })).toBe('2026-06-30');
  });

  it('the due date is never before the invoice date and exactly the term days later', () => {
    const termsArb = fc.oneof(
      fc.constantFrom(...STANDARD_TERMS),
      fc.integer({ min: 0, max: 365 }).map((customDays) => ({ customDays })),
    );
    fc.assert(
      fc.property(dateArb, termsArb, (date, terms) => {
        const due = dueDate(date, terms);
        expect(due >= date).toBe(true);
        expect(dayNumber(due) - dayNumber(date)).toBe(termDays(terms));
      }),
    );
  });
});
