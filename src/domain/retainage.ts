import { percentOf } from './percent.ts';

/** What one invoice of `gross` bills now and what it holds back until the release milestone. */
export function withhold(
  gross: number,
  retainagePercent: number,
): { gross: number; retained: number; payable: number } {
  const retained = percentOf(gross, retainagePercent);
  return { gross, retained, payable: gross - retained };
}
