import { randomBytes } from 'node:crypto';

/**
 * QBO stamps MetaData and `time` in the company's zone (Pacific for sandbox companies). A fixed
 * -07:00 offset keeps the format faithful without pulling in a time-zone library.
 */
const COMPANY_OFFSET_MINUTES = -7 * 60;
const OFFSET_SUFFIX = '-07:00';

function shifted(date: Date): string {
  return new Date(date.getTime() + COMPANY_OFFSET_MINUTES * 60_000).toISOString();
}

/** `2025-06-02T09:20:16-07:00`, the MetaData format. */
export function qboDateTime(date: Date = new Date()): string {
  return `${shifted(date).slice(0, 19)}${OFFSET_SUFFIX}`;
}

/** `2025-06-02T09:20:16.123-07:00`, the envelope `time` format. */
export function qboTime(date: Date = new Date()): string {
  return `${shifted(date).slice(0, 23)}${OFFSET_SUFFIX}`;
}

/** Company-local calendar date, used for TxnDate defaults. */
export function companyDate(date: Date = new Date()): string {
  return shifted(date).slice(0, 10);
}

export function addDays(isoDate: string, days: number): string {
  const d = new Date(`${isoDate}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + days);
  return d.toISOString().slice(0, 10);
}

export function isIsoDate(value: string): boolean {
  return /^\d{4}-\d{2}-\d{2}$/.test(value) && !Number.isNaN(Date.parse(`${value}T00:00:00Z`));
}

/** Intuit transaction ids look like `1-6823a0b1-3c2f5e7d0a9b8c7d6e5f4a3b`. */
export function intuitTid(): string {
  const seconds = Math.floor(Date.now() / 1000).toString(16);
  return `1-${seconds}-${randomBytes(12).toString('hex')}`;
}

export function randomToken(prefix: string, bytes = 32): string {
  return `${prefix}${randomBytes(bytes).toString('base64url')}`;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

const ZERO_DECIMAL = new Set(['JPY', 'KRW', 'VND', 'CLP', 'ISK', 'HUF', 'TWD', 'UGX', 'XAF', 'XOF']);

export function currencyDecimals(currency: string): number {
  return ZERO_DECIMAL.has(currency.toUpperCase()) ? 0 : 2;
}

/** Rounds half away from zero in the currency's minor unit, tolerant of binary float noise. */
export function roundMoney(amount: number, currency: string): number {
  const factor = 10 ** currencyDecimals(currency);
  const scaled = Number((Math.abs(amount) * factor).toPrecision(15));
  return (Math.sign(amount) * Math.round(scaled)) / factor || 0;
}

export function toMinorUnits(amount: number, currency: string): number {
  return Math.round(Number((amount * 10 ** currencyDecimals(currency)).toPrecision(15)));
}

const CURRENCY_NAMES: Record<string, string> = {
  USD: 'United States Dollar',
  GBP: 'British Pound Sterling',
  EUR: 'Euro',
  CAD: 'Canadian Dollar',
  AUD: 'Australian Dollar',
  NZD: 'New Zealand Dollar',
  JPY: 'Japanese Yen',
  CHF: 'Swiss Franc',
  INR: 'Indian Rupee',
  MXN: 'Mexican Peso',
  SEK: 'Swedish Krona',
  DKK: 'Danish Krone',
  NOK: 'Norwegian Krone',
  SGD: 'Singapore Dollar',
  HKD: 'Hong Kong Dollar',
  ZAR: 'South African Rand',
  BRL: 'Brazilian Real',
  CNY: 'Chinese Yuan Renminbi',
  PLN: 'Polish Zloty',
};

export function currencyName(code: string): string {
  return CURRENCY_NAMES[code.toUpperCase()] ?? code.toUpperCase();
}

export function escapeHtml(value: unknown): string {
  return String(value ?? '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function clone<T>(value: T): T {
  return structuredClone(value);
}
