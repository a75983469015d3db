import { isCurrency, minorDigits } from './currencies.ts';
import { DomainError } from './errors.ts';

/** Amounts are integer minor units (cents, yen, fils) of an ISO 4217 currency, never floats. */
const DECIMAL = /^(-)?(\d+)(?:\.(\d+))?$/;

export function assertCurrency(code: string): void {
  if (!isCurrency(code))
    throw new DomainError('unknown_currency', `${code} is not an ISO 4217 currency code`);
}

/**
 * Parses a decimal string such as HubSpot's "12000.50" exactly. More decimals than the currency
 * has are refused, unless `round` is set (HubSpot amounts can carry extra digits): then half-up.
 */
export function parseAmount(text: string, currency: string, opts: { round?: boolean } = {}): number {
  assertCurrency(currency);
  const match = DECIMAL.exec(text.trim());
  if (!match) throw new DomainError('invalid_amount', `"${text}" is not a decimal amount like "1500.00"`);
  const [, sign, whole, fraction = ''] = match;
  const digits = minorDigits(currency);
  if (fraction.length > digits && !opts.round) {
    throw new DomainError(
      'invalid_amount',
      `"${text}" has ${fraction.length} decimal places but ${currency} has ${digits}`,
    );
  }
  let minor = BigInt(whole! + fraction.slice(0, digits).padEnd(digits, '0'));
  const dropped = fraction.slice(digits);
  if (dropped && Number(dropped[0]) >= 5) minor += 1n;
  if (sign) minor = -minor;
  return toSafe(minor, text);
}

export function toSafe(minor: bigint, what: string): number {
  if (minor > BigInt(Number.MAX_SAFE_INTEGER) || minor < -BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new DomainError('amount_too_large', `${what} is too large`);
  }
  return Number(minor);
}

/** "100000.00": the plain decimal string used on the wire. */
export function formatAmount(minor: number, currency: string): string {
  const digits = minorDigits(currency);
  const negative = minor < 0;
  const text = Math.abs(minor)
    .toString()
    .padStart(digits + 1, '0');
  const whole = text.slice(0, text.length - digits);
  const fraction = text.slice(text.length - digits);
  return `${negative ? '-' : ''}${whole}${digits ? `.${fraction}` : ''}`;
}

/** "USD 100,000.00": for people, in messages and notes. */
export function displayMoney(minor: number, currency: string): string {
  const [whole, fraction] = formatAmount(minor, currency).split('.');
  const grouped = whole!.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return `${currency} ${grouped}${fraction === undefined ? '' : `.${fraction}`}`;
}
