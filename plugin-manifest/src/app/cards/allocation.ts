/** What is allocated while typing: hundredths of a percent, exactly. */
function allocated(rows: readonly { percent: string }[]): number {
  return rows.reduce((sum, r) => sum + Math.round(Number(r.percent || 0) * 100), 0);
}

/** The live total of a schedule or template being built: what is left, or how much is over. */
export function allocationMessage(rows: readonly { percent: string }[]): { text: string; over: boolean } {
  const total = allocated(rows);
  const pct = (hundredths: number) => `${(hundredths / 100).toFixed(2).replace(/\.00$/, '')} %`;
  if (total > 10_000)
    return { text: `${pct(total)} allocated: ${pct(total - 10_000)} over the contract`, over: true };
  if (total < 10_000)
    return { text: `${pct(total)} allocated: ${pct(10_000 - total)} left to schedule`, over: false };
  return { text: '100 % allocated', over: false };
}
