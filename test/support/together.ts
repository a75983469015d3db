import { createInterface } from 'node:readline';
import { spawnNode } from './processes.ts';

/**
 * Starts `count` copies of a script that calls `readyThenGo` and, once every copy has said it is
 * ready, lets them all go in the same instant: a race between processes with no guess of how
 * long starting takes. Answers each copy's output after its `ready` line.
 */
export async function raceProcesses(script: string, env: NodeJS.ProcessEnv, count = 2): Promise<string[]> {
  const runs = Array.from({ length: count }, () => {
    const child = spawnNode(script, [], { env });
    let out = '';
    let err = '';
    child.stderr!.on('data', (d) => (err += d));
    const ready = new Promise<void>((resolve, reject) => {
      child.stdout!.on('data', (d) => {
        out += d;
        if (out.startsWith('ready\n')) resolve();
      });
      child.once('exit', (code) =>
        reject(new Error(`${script} exited with ${code} before it was ready:\n${err}`)),
      );
    });
    const done = new Promise<string>((resolve, reject) =>
      child.once('exit', (code) =>
        code === 0
          ? resolve(out.slice('ready\n'.length))
          : reject(new Error(`${script} exited with ${code}:\n${err}`)),
      ),
    );
    // Awaited below, or moot when another copy fails first (its sibling is killed by killStarted).
    done.catch(() => {});
    return { child, ready, done };
  });
  await Promise.all(runs.map((r) => r.ready));
  for (const { child } of runs) child.stdin!.end('go\n');
  return Promise.all(runs.map((r) => r.done));
}

/** The other side: says `ready` and waits for the parent's `go`. */
export async function readyThenGo(): Promise<void> {
  process.stdout.write('ready\n');
  for await (const line of createInterface({ input: process.stdin })) if (line === 'go') return;
  throw new Error('stdin closed before go');
}
