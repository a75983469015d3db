import { JOBS } from './jobs/index.ts';
import { sweepInbox, sweepPushes } from './jobs/sweep.ts';
import { startRuntime } from './runtime.ts';

const runtime = await startRuntime();
const { logger } = runtime;
runtime.queues.process(JOBS, runtime);
const sweeper = setInterval(() => {
  Promise.all([sweepInbox(runtime), sweepPushes(runtime)]).catch((error: Error) =>
    logger.warn({ err: error.message }, 'sweep failed'),
  );
}, 30_000);
logger.info({ database: runtime.database.kind, jobs: JOBS.map((j) => j.id) }, 'worker started');

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    logger.info({ signal }, 'worker draining');
    clearInterval(sweeper);
    // Bull's close waits for active jobs; Heroku allows 30 s after SIGTERM.
    const deadline = setTimeout(() => process.exit(1), 25_000);
    void runtime.close().then(() => {
      clearTimeout(deadline);
      process.exit(0);
    });
  });
}
