import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isCurrency, minorDigits } from '../../src/domain/currencies.ts';
import { assertCurrency, displayMoney, formatAmount, parseAmount, toSafe } from '../../src/domain/money.ts';
import { CURRENCY_DIGITS, currencyArb, domainError } from './helpers.ts';

describe('currencies', () => {
  it('knows the minor digits of 0-, 2-, 3- and 4-decimal currencies', () => {
    for (const [code, digits] of Object.entries(CURRENCY_DIGITS)) {
      expect(isCurrency(code), code).toBe(true);
      expect(minorDigits(code), code).toBe(digits);
    }
    expect(minorDigits('IQD')).toBe(3);
    expect(minorDigits('ISK')).toBe(0);
  });

  it('refuses unknown, lower-case and malformed codes', () => {
    for (const code of ['XYZ', 'usd', 'US', 'USDD', '', 'BTC']) expect(isCurrency(code), code).toBe(false);
    expect(() => minorDigits('XYZ')).toThrow('unknown currency XYZ');
    const error = domainError(() => assertCurrency('ABC'));
    expect(error.code).toBe('unknown_currency');
    expect(error.message).toBe('ABC is not an ISO 4217 currency code');
  });
});

describe('parseAmount', () => {
  it('parses HubSpot decimal strings exactly into minor units', () => {
    expect(parseAmount('12000.50', 'USD')).toBe(1_200_050);
    expect(parseAmount('12000.5', 'USD')).toBe(1_200_050);
    expect(parseAmount('12000', 'USD')).toBe(1_200_000);
    expect(parseAmount('0.01', 'EUR')).toBe(1);
    expect(parseAmount('0', 'USD')).toBe(0);
    expect(parseAmount(' 42.10 ', 'USD')).toBe(4210);
    expect(parseAmount('0.1', 'USD') + parseAmount('0.2', 'USD')).toBe(parseAmount('0.3', 'USD'));
  });

  it('uses the currency minor digits: JPY none, KWD three, CLF four', () => {
    expect(parseAmount('100', 'JPY')).toBe(100);
    expect(parseAmount('1.234', 'KWD')).toBe(1234);
    expect(parseAmount('1.2', 'BHD')).toBe(1200);
    expect(parseAmount('1.2345', 'CLF')).toBe(12_345);
  });

  it('refuses more decimals than the currency has, saying why', () => {
    const usd = domainError(() => parseAmount('12.345', 'USD'));
    expect(usd.code).toBe('invalid_amount');
    expect(usd.message).toBe('"12.345" has 3 decimal places but USD has 2');
    const jpy = domainError(() => parseAmount('100.5', 'JPY'));
    expect(jpy.code).toBe('invalid_amount');
    expect(jpy.message).toBe('"100.5" has 1 decimal places but JPY has 0');
    expect(() => parseAmount('1.2345', 'KWD')).toThrow('"1.2345" has 4 decimal places but KWD has 3');
  });

  it('rounds extra HubSpot digits half-up when asked to', () => {
    expect(parseAmount('1.005', 'USD', { round: true })).toBe(101);
    expect(parseAmount('1.00499999', 'USD', { round: true })).toBe(100);
    expect(parseAmount('1.004', 'USD', { round: true })).toBe(100);
    expect(parseAmount('1.995', 'USD', { round: true })).toBe(200);
    expect(parseAmount('12000.5', 'JPY', { round: true })).toBe(12_001);
    expect(parseAmount('12000.49', 'JPY', { round: true })).toBe(12_000);
    expect(parseAmount('0.0005', 'KWD', { round: true })).toBe(1);
    // Amounts that already fit are untouched by the option.
    expect(parseAmount('12000.50', 'USD', { round: true })).toBe(1_200_050);
  });

  it('refuses unknown currencies before looking at the amount', () => {
    const error = domainError(() => parseAmount('10.00', 'XXY'));
    expect(error.code).toBe('unknown_currency');
    expect(error.message).toContain('XXY is not an ISO 4217 currency code');
  });

  it('parses negative amounts (credits) with the same rules', () => {
    expect(parseAmount('-250.00', 'USD')).toBe(-25_000);
    expect(parseAmount('-5', 'JPY')).toBe(-5);
    expect(parseAmount('-1.005', 'USD', { round: true })).toBe(-101);
    expect(() => parseAmount('-1.005', 'USD')).toThrow('has 3 decimal places but USD has 2');
  });

  it('refuses text that is not a plain decimal', () => {
    for (const text of ['', 'abc', '12,000.00', '1e5', '.5', '5.', '+5', '$10', '1 000', '--1', 'NaN']) {
      const error = domainError(() => parseAmount(text, 'USD'));
      expect(error.code, text).toBe('invalid_amount');
      expect(error.message, text).toBe(`"${text}" is not a decimal amount like "1500.00"`);
    }
  });

  it('refuses amounts beyond the safe integer range', () => {
    expect(parseAmount('90071992547409.91', 'USD')).toBe(Number.MAX_SAFE_INTEGER);
    const error = domainError(() => parseAmount('90071992547409.92', 'USD'));
    expect(error.code).toBe('amount_too_large');
    expect(error.message).toBe('90071992547409.92 is too large');
    expect(() => parseAmount('-90071992547409.92', 'USD')).toThrow('is too large');
    expect(() => toSafe(2n ** 60n, 'the total')).toThrow('the total is too large');
    expect(toSafe(-42n, 'x')).toBe(-42);
  });

  it('round-trips with formatAmount for any amount and currency', () => {
    fc.assert(
      fc.property(fc.maxSafeInteger(), currencyArb, (minor, currency) => {
        expect(parseAmount(formatAmount(minor, currency), currency)).toBe(minor);
      }),
    );
  });

  it('rounding is half-up to the nearest minor unit', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 1_000_000_000_000 }),
        fc.integer({ min: 0, max: 999_999 }),
        (whole, extra) => {
          // whole cents plus a 6-digit sub-cent tail: 0.xx|dddddd
          const text = `${formatAmount(whole, 'USD')}${extra.toString().padStart(6, '0')}`;
          const expected = whole + (extra >= 500_000 ? 1 : 0);
          expect(parseAmount(text, 'USD', { round: true })).toBe(expected);
        },
      ),
    );
  });
});

describe('formatAmount', () => {
  it('writes the plain wire decimal with exactly the currency digits', () => {
    expect(formatAmount(1_200_050, 'USD')).toBe('12000.50');
    expect(formatAmount(10_000_000, 'USD')).toBe('100000.00');
    expect(formatAmount(5, 'USD')).toBe('0.05');
    expect(formatAmount(0, 'EUR')).toBe('0.00');
    expect(formatAmount(-5, 'USD')).toBe('-0.05');
    expect(formatAmount(100, 'JPY')).toBe('100');
    expect(formatAmount(0, 'JPY')).toBe('0');
    expect(formatAmount(1234, 'KWD')).toBe('1.234');
    expect(formatAmount(7, 'BHD')).toBe('0.007');
    expect(formatAmount(12_345, 'CLF')).toBe('1.2345');
  });
});

describe('displayMoney', () => {
  it('prefixes the code and groups thousands', () => {
    expect(displayMoney(10_000_000, 'USD')).toBe('USD 100,000.00');
    expect(displayMoney(15_000, 'USD')).toBe('USD 150.00');
    expect(displayMoney(123_456_789, 'USD')).toBe('USD 1,234,567.89');
    expect(displayMoney(0, 'USD')).toBe('USD 0.00');
    expect(displayMoney(-123_456_789, 'EUR')).toBe('EUR -1,234,567.89');
  });

  it('shows JPY without decimals and KWD with three', () => {
    expect(displayMoney(123_456_789, 'JPY')).toBe('JPY 123,456,789');
    expect(displayMoney(100, 'JPY')).toBe('JPY 100');
    expect(displayMoney(1_234_567, 'KWD')).toBe('KWD 1,234.567');
    expect(displayMoney(1_000, 'KWD')).toBe('KWD 1.000');
    expect(displayMoney(123_456_789, 'CLF')).toBe('CLF 12,345.6789');
  });

  it('is the wire amount with thousands separators, for any amount', () => {
    fc.assert(
      fc.property(fc.maxSafeInteger(), currencyArb, (minor, currency) => {
        const shown = displayMoney(minor, currency);
        expect(shown.startsWith(`${currency} `)).toBe(true);
        const body = shown.slice(currency.length + 1);
        expect(body).toMatch(/^-?\d{1,3}(,\d{3})*(\.\d+)?$/);
        expect(body.replaceAll(',', '')).toBe(formatAmount(minor, currency));
      }),
    );
  });
});
