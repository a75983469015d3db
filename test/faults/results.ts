import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { MatrixRow } from './matrix.ts';

const root = join(import.meta.dirname, '../..');
/** Each matrix file appends its rows here, one JSON line each (gitignored). */
export const RESULTS_DIR = join(root, 'test-results/faults');
const TABLE = join(import.meta.dirname, 'results.md');

/** A run's rows start from nothing: rows of an earlier run must not reach its table. */
export function clearResults(): void {
  rmSync(RESULTS_DIR, { recursive: true, force: true });
}

const ratio = (part?: { reflected?: number; once?: number; of: number }) =>
  part ? `${part.reflected ?? part.once}/${part.of}` : '—';

function table(rows: MatrixRow[]): string {
  const lines = [
    '| fault | trials | expected | created | duplicates | lost | payments reflected | one note per invoice |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...rows.map(
      (r) =>
        `| ${r.fault} | ${r.trials} | ${r.expected} | ${r.created} | ${r.duplicates} | ${r.lost} | ` +
        `${ratio(r.payments)} | ${ratio(r.notes)} |`,
    ),
  ];
  return lines.join('\n');
}

/**
 * After the run: prints the fault matrix and, when every file of test/faults ran, keeps it in
 * test/faults/results.md (a run of some files only would otherwise replace the whole table).
 */
export function writeResults(say: (line: string) => void): void {
  if (!existsSync(RESULTS_DIR)) return;
  const files = readdirSync(RESULTS_DIR)
    .filter((f) => f.endsWith('.json'))
    .sort();
  const rows = files.flatMap((f) =>
    readFileSync(join(RESULTS_DIR, f), 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as MatrixRow)
      // Rows come in the order their concurrent tests finished: sorted, the table changes only with its figures.
      .sort((a, b) => a.fault.localeCompare(b.fault)),
  );
  if (rows.length === 0) return;
  const text = table(rows);
  console.log(`\nFault matrix (N accepted portions in, exactly N invoices out):\n${text}\n`);
  const matrixFiles = readdirSync(import.meta.dirname)
    .filter((f) => f.endsWith('.test.ts'))
    .map((f) => basename(f, '.test.ts'));
  const missing = matrixFiles.filter((f) => !files.includes(`${f}.json`));
  if (missing.length > 0) {
    say(`test/faults/results.md kept as it was: no rows from ${missing.join(', ')} in this run`);
    return;
  }
  writeFileSync(
    TABLE,
    `# Fault matrix\n\nWritten by \`npm test\` (test/faults/, ${new Date().toISOString().slice(0, 10)}). ` +
      'Each row: N accepted milestone portions under one fault; created counts the distinct invoices ' +
      "in the tenant's QuickBooks company, duplicates the invoices beyond one per DocNumber and per " +
      'ledger row, lost the accepted portions without an invoice.\n\n' +
      `${text}\n`,
  );
}
