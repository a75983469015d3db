/**
 * `npm run bench`: every benchmark of test/bench/ one after another, each in its own process (so
 * one's memory and connections never weigh on the next), their output shown as it comes and kept
 * in test/bench/results.md with the machine, date, commit and command. Asserts nothing.
 *
 * Env: BENCH_ONLY (comma-separated names: push, payments, load, pacing, scale, portfolio), and each
 * benchmark's own.
 */
import { execFileSync, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';

const BENCHES = [
  {
    name: 'push',
    file: 'push.bench.ts',
    what: 'acceptance → invoice latency, and a backlog against Intuit’s 500/min',
  },
  {
    name: 'payments',
    file: 'payments.bench.ts',
    what: 'QuickBooks payments → milestones and HubSpot roll-ups',
  },
  {
    name: 'load',
    file: 'load.bench.ts',
    what: 'acceptance → invoice latency at 1, 10 and 50/s over 20 companies, cost per invoice and payment, webhook ingest',
  },
  {
    name: 'pacing',
    file: 'pacing.bench.ts',
    what: 'five companies’ backlogs through two worker processes against Intuit’s 500/min',
  },
  {
    name: 'scale',
    file: 'scale.bench.ts',
    what: 'throughput from one worker process to two, and the processes’ memory',
  },
  {
    name: 'portfolio',
    file: 'portfolio.bench.ts',
    what: 'portfolio, forecast and aging APIs at 10,000 deals',
  },
] as const;

const only = process.env.BENCH_ONLY?.split(',').map((s) => s.trim());
const chosen = BENCHES.filter((b) => !only || only.includes(b.name));
const root = join(import.meta.dirname, '../..');
const git = (...args: string[]) => execFileSync('git', args, { cwd: root, encoding: 'utf8' }).trim();
const commit = `${git('rev-parse', '--short', 'HEAD')}${git('status', '--porcelain') ? ' (with uncommitted changes)' : ''}`;
const started = new Date();

function run(file: string): Promise<{ output: string; code: number | null; seconds: number }> {
  const t0 = Date.now();
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, file)], {
      cwd: root,
      env: process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    const keep = (chunk: Buffer) => {
      process.stdout.write(chunk);
      output += chunk;
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    child.on('exit', (code) => resolve({ output, code, seconds: (Date.now() - t0) / 1000 }));
  });
}

/** Terminal colour codes (ESC [ … m) have no place in a Markdown file. */
const stripColours = (text: string) =>
  text.replace(new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, 'g'), '');

const sections: string[] = [];
for (const bench of chosen) {
  console.log(`\n━━ ${bench.name}: ${bench.what}`);
  const { output, code, seconds } = await run(bench.file);
  sections.push(
    `## ${bench.name}: ${bench.what}\n\n\`node --import tsx test/bench/${bench.file}\`, ${seconds.toFixed(0)} s${code === 0 ? '' : `, exited ${code}`}\n\n\`\`\`\n${stripColours(output).trim()}\n\`\`\`\n`,
  );
}

const cpus = os.cpus();
const header = `# Benchmark results

- command: \`npm run bench\`${only ? ` (BENCH_ONLY=${only.join(',')})` : ''}
- date: ${started.toISOString()} (took ${((Date.now() - started.getTime()) / 60_000).toFixed(1)} min)
- commit: ${commit}
- machine: ${cpus[0]?.model ?? 'unknown CPU'}, ${cpus.length} cores, ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB, ${os.type()} ${os.release()}, Node ${process.version}
- database: ${process.env.DATABASE_URL ? 'DATABASE_URL' : 'a throwaway embedded PostgreSQL per benchmark'}; Redis ${process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'}
`;
writeFileSync(join(import.meta.dirname, 'results.md'), `${header}\n${sections.join('\n')}`);
console.log(`\nwritten to test/bench/results.md`);
