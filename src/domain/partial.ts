import { DomainError } from './errors.ts';
import { displayMoney } from './money.ts';
import { formatPercent, HUNDRED_PERCENT, percentOf } from './percent.ts';

/** How much of a milestone the client accepts: a share of the whole milestone, or an amount. */
export type Portion = { percent: number } | { amount: number };

/**
 * Splits the open part of a milestone into an accepted portion and a remainder that add up to
 * it exactly. `whole` is the milestone's full amount (all its portions), `open` what is not yet
 * accepted, `acceptedPercent` the sum of earlier percentage portions (null when some earlier
 * portion was an amount). Percentages are of the whole and accumulate, so 60 % then 40 %
 * accepts everything to the cent whatever the rounding of the first portion.
 */
export function splitPortion(
  whole: number,
  open: number,
  portion: Portion,
  currency: string,
  acceptedPercent: number | null = open === whole ? 0 : null,
): { accepted: number; remainder: number } {
  if (open <= 0) throw new DomainError('already_accepted', 'the milestone is already fully accepted');
  const money = (minor: number) => displayMoney(minor, currency);
  const accepted =
    'percent' in portion
      ? percentPortion(whole, open, portion.percent, acceptedPercent, money)
      : amountPortion(open, portion.amount, money);
  if (accepted === 0) {
    throw new DomainError('invalid_portion', `the portion rounds to ${money(0)}; accept a larger share`);
  }
  return { accepted, remainder: open - accepted };
}

function amountPortion(open: number, amount: number, money: (minor: number) => string): number {
  if (amount <= 0) throw new DomainError('invalid_portion', 'the accepted amount must be greater than zero');
  if (amount > open) {
    throw new DomainError(
      'over_acceptance',
      `${money(amount)} is more than the ${money(open)} that remains to be accepted`,
    );
  }
  return amount;
}

function percentPortion(
  whole: number,
  open: number,
  percent: number,
  acceptedPercent: number | null,
  money: (minor: number) => string,
): number {
  if (percent <= 0 || percent > HUNDRED_PERCENT) {
    throw new DomainError('invalid_portion', 'the accepted percentage must be above 0 and at most 100');
  }
  const over = () =>
    new DomainError(
      'over_acceptance',
      `${formatPercent(percent)} % of the milestone is ${money(percentOf(whole, percent))} but only ${money(open)} remains to be accepted`,
    );
  // The running percentage only describes the milestone while the earlier portions are exactly
  // its share of the whole (a change order may have re-priced the open part since).
  const consistent = acceptedPercent !== null && percentOf(whole, acceptedPercent) === whole - open;
  if (acceptedPercent !== null && consistent) {
    const total = acceptedPercent + percent;
    if (total > HUNDRED_PERCENT) throw over();
    const target = total === HUNDRED_PERCENT ? whole : percentOf(whole, total);
    return Math.min(target - (whole - open), open);
  }
  // After an amount portion only the exact share can be compared; within one minor unit of
  // what is left means "the rest".
  const asked = BigInt(whole) * BigInt(percent);
  const left = BigInt(open) * BigInt(HUNDRED_PERCENT);
  if (asked >= left + BigInt(HUNDRED_PERCENT)) throw over();
  return asked + BigInt(HUNDRED_PERCENT) > left ? open : Math.min(percentOf(whole, percent), open);
}
