import { DomainError } from './errors.ts';

/**
 * Percentages are integers in ten-thousandths of a percent so that "33.3333" is exact:
 * 100 % = 1_000_000 units.
 */
export const PERCENT_SCALE = 10_000;
export const HUNDRED_PERCENT = 100 * PERCENT_SCALE;

const PERCENT = /^(\d{1,3})(?:\.(\d{1,4}))?$/;

export function parsePercent(value: string | number): number {
  const text = typeof value === 'number' ? String(value) : value.trim();
  const match = PERCENT.exec(text);
  if (!match) {
    throw new DomainError('invalid_percent', `"${text}" is not a percentage with at most 4 decimals`);
  }
  return Number(match[1]) * PERCENT_SCALE + Number((match[2] ?? '').padEnd(4, '0'));
}

export function formatPercent(units: number): string {
  const whole = Math.trunc(units / PERCENT_SCALE);
  const fraction = (units % PERCENT_SCALE).toString().padStart(4, '0').replace(/0+$/, '');
  return fraction ? `${whole}.${fraction}` : `${whole}`;
}

/** Share of `minor` at `units` percent, rounded half-up, computed exactly. */
export function percentOf(minor: number, units: number): number {
  const scaled = BigInt(minor) * BigInt(units);
  const divisor = BigInt(HUNDRED_PERCENT);
  return Number((scaled * 2n + divisor) / (divisor * 2n));
}
