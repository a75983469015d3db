import { DomainError } from './errors.ts';
import { displayMoney } from './money.ts';
import { formatPercent, HUNDRED_PERCENT, percentOf } from './percent.ts';

/** How much of a milestone the client accepts: a share of the whole milestone, or an amount. */
export type Portion = { percent: number } | { amount: number };

/**
 * Splits the open part of a milestone into an accepted portion and a remainder that add up to
 * it exactly. `whole` is the milestone's full amount (all its portions), `open` what is not yet
 * accepted. A percentage is of the whole, so 60 % then 40 % accepts everything, to the cent,
 * whatever the rounding of the first portion.
 */
export function splitPortion(
  whole: number,
  open: number,
  portion: Portion,
  currency: string,
): { accepted: number; remainder: number } {
  if (open <= 0) throw new DomainError('already_accepted', 'the milestone is already fully accepted');
  const money = (minor: number) => displayMoney(minor, currency);
  let accepted: number;
  if ('percent' in portion) {
    if (portion.percent <= 0 || portion.percent > HUNDRED_PERCENT) {
      throw new DomainError('invalid_portion', 'the accepted percentage must be above 0 and at most 100');
    }
    const asked = BigInt(whole) * BigInt(portion.percent);
    const left = BigInt(open) * BigInt(HUNDRED_PERCENT);
    if (asked > left) {
      throw new DomainError(
        'over_acceptance',
        `${formatPercent(portion.percent)} % of the milestone is ${money(percentOf(whole, portion.percent))} but only ${money(open)} remains to be accepted`,
      );
    }
    accepted = asked === left ? open : Math.min(percentOf(whole, portion.percent), open);
  } else {
    if (portion.amount <= 0)
      throw new DomainError('invalid_portion', 'the accepted amount must be greater than zero');
    if (portion.amount > open) {
      throw new DomainError(
        'over_acceptance',
        `${money(portion.amount)} is more than the ${money(open)} that remains to be accepted`,
      );
    }
    accepted = portion.amount;
  }
  if (accepted === 0) {
    throw new DomainError('invalid_portion', `the portion rounds to ${money(0)}; accept a larger share`);
  }
  return { accepted, remainder: open - accepted };
}
