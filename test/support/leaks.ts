import { readdirSync, readFileSync } from 'node:fs';

interface Leftover {
  pid: number;
  command: string;
}

/** Processes whose environment holds `entry` (NAME=value), read from /proc: children and theirs alike. */
function marked(entry: string): Leftover[] {
  const found: Leftover[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name) || Number(name) === process.pid) continue;
    try {
      // A zombie's environment reads as empty: it has exited and holds nothing.
      if (!readFileSync(`/proc/${name}/environ`, 'latin1').split('\0').includes(entry)) continue;
      const command = readFileSync(`/proc/${name}/cmdline`, 'latin1').replaceAll('\0', ' ').trim();
      found.push({ pid: Number(name), command });
    } catch {
      // Exited while we looked.
    }
  }
  return found;
}

/**
 * Gives marked processes `graceMs` to finish exiting, then SIGKILLs those still there and
 * answers them: a test that left one running has a cleanup bug, even if the kill tidies up now.
 */
export async function killLeftovers(entry: string, graceMs = 5000): Promise<Leftover[]> {
  const deadline = Date.now() + graceMs;
  let left = marked(entry);
  while (left.length > 0 && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 100));
    left = marked(entry);
  }
  for (const { pid } of left) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // Gone at last.
    }
  }
  return left;
}
