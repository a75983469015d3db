/**
 * Splits `total` minor units in proportion to `weights` with the largest-remainder rule:
 * everyone gets the floor of their exact share, then the units left over go one each to the
 * largest fractional remainders (earlier positions win ties). The parts always sum to `total`.
 */
export function allocate(total: number, weights: readonly number[]): number[] {
  const sum = weights.reduce((a, w) => a + BigInt(w), 0n);
  if (weights.length === 0) return [];
  if (sum === 0n) throw new Error('allocate: weights sum to zero');
  const big = BigInt(total);
  const shares = weights.map((w, index) => {
    const exact = big * BigInt(w);
    return { index, floor: exact / sum, remainder: exact % sum };
  });
  let left = big - shares.reduce((a, s) => a + s.floor, 0n);
  const byRemainder = [...shares].sort((a, b) =>
    a.remainder === b.remainder ? a.index - b.index : a.remainder > b.remainder ? -1 : 1,
  );
  const parts = shares.map((s) => s.floor);
  for (const share of byRemainder) {
    if (left <= 0n) break;
    parts[share.index]! += 1n;
    left -= 1n;
  }
  return parts.map(Number);
}
