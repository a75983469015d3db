/**
 * The figures table every benchmark prints: `measure / value / target / value/target ok|MISSED`.
 * Targets are ratios or counts measured in the same run; a benchmark prints, it asserts nothing.
 */

export interface Row {
  what: string;
  value: number;
  /** 'ms' prints the value and target in milliseconds; any other unit prints bare numbers. */
  unit: string;
  target: number;
  /** 'max': the value should stay at or under the target; 'min': at or over it. */
  kind: 'max' | 'min';
}

/** The rows as an aligned table, then each note indented under it. */
export function printTable(rows: Row[], notes: string[] = [], log: (line?: string) => void = console.log) {
  const fmt = (r: Row) =>
    !Number.isFinite(r.value)
      ? 'n/a'
      : r.unit === 'ms'
        ? `${r.value.toFixed(0)} ms`
        : Number.isInteger(r.value)
          ? String(r.value)
          : r.value.toFixed(2);
  const target = (r: Row) =>
    `${r.kind === 'max' ? '≤' : '≥'} ${r.unit === 'ms' ? `${r.target} ms` : r.target}`;
  const ratio = (r: Row) => {
    if (!Number.isFinite(r.value)) return 'MISSED';
    if (r.target === 0) return r.value === 0 ? 'ok' : 'MISSED';
    const x = r.value / r.target;
    const ok = r.kind === 'max' ? r.value <= r.target : r.value >= r.target;
    return `${x.toFixed(2)} ${ok ? 'ok' : 'MISSED'}`;
  };
  const cols = [
    ['measure', ...rows.map((r) => r.what)],
    ['value', ...rows.map(fmt)],
    ['target', ...rows.map(target)],
    ['value/target', ...rows.map(ratio)],
  ];
  const widths = cols.map((c) => Math.max(...c.map((s) => s.length)));
  const line = (i: number) =>
    cols.map((c, k) => (k === 0 ? c[i]!.padEnd(widths[k]!) : c[i]!.padStart(widths[k]!))).join('  ');
  log();
  log(line(0));
  log(widths.map((w) => '─'.repeat(w)).join('  '));
  for (let i = 1; i <= rows.length; i++) log(line(i));
  log();
  for (const n of notes) log(`  ${n}`);
}
