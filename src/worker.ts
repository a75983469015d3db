import { hubspotEvents } from './jobs/hubspot-events.ts';
import { sweepInbox } from './jobs/sweep.ts';
import { startRuntime } from './runtime.ts';

/** Every job the worker runs; web processes only enqueue. */
export const JOBS = [hubspotEvents];

const runtime = await startRuntime();
const { logger } = runtime;
runtime.queues.process(JOBS, runtime);
const sweeper = setInterval(() => {
  sweepInbox(runtime).catch((error: Error) => logger.warn({ err: error.message }, 'inbox sweep failed'));
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
