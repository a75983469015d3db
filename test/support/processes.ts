import { type ChildProcess, type SpawnOptions, spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';

/**
 * Set in the environment of every process a test starts, with the run's id: children pass their
 * environment on, so the run's teardown (services.ts) finds grandchildren by it too.
 */
export const SPAWN_MARKER = 'MB_TEST_SPAWNED_BY';

// Resolved here rather than by node: the boot tests start scripts in a temporary cwd.
const tsxLoader = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
const started = new Set<ChildProcess>();
// A detached child leads a process group that can outlive it (npm's shell and node under it).
const groups = new Set<number>();

function runId(): string {
  const id = process.env.MB_TEST_RUN;
  if (!id) throw new Error('MB_TEST_RUN is not set: run the tests through vitest (test/support/services.ts)');
  return id;
}

/** Starts a command marked with the run's id; `killStarted` ends it if the test does not. */
export function spawnTracked(command: string, args: string[], options: SpawnOptions = {}): ChildProcess {
  const env = { ...(options.env ?? process.env), [SPAWN_MARKER]: runId() };
  const child = spawn(command, args, { stdio: 'pipe', ...options, env });
  started.add(child);
  child.once('exit', () => started.delete(child));
  if (options.detached && child.pid) groups.add(child.pid);
  return child;
}

/**
 * A TypeScript script as one node process with tsx's loader in it. The tsx CLI would start a
 * second node and relay signals to it: a SIGKILL would reach only the wrapper.
 */
export function spawnNode(script: string, args: string[] = [], options: SpawnOptions = {}): ChildProcess {
  return spawnTracked(process.execPath, ['--import', tsxLoader, script, ...args], options);
}

/** Resolves once the child has exited and been reaped (its pid is free then, no zombie). */
export function exited(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}

/** Asks the OS, not the ChildProcess object; a negative pid asks about a process group. */
export function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ESRCH') return false;
    throw error;
  }
}

/** SIGKILLs whatever this test file started that still runs, and the groups of detached ones. */
export async function killStarted(): Promise<void> {
  for (const pgid of groups) {
    try {
      process.kill(-pgid, 'SIGKILL');
    } catch {
      // The whole group is gone already.
    }
  }
  const gone = [...started].map((child) => {
    child.kill('SIGKILL');
    return exited(child);
  });
  await Promise.all(gone);
  const deadline = Date.now() + 5000;
  while ([...groups].some((pgid) => isRunning(-pgid)) && Date.now() < deadline)
    await new Promise((r) => setTimeout(r, 50));
  groups.clear();
}
