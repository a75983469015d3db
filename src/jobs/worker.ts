import type { JobContext } from './define.ts';
import { JOBS, type Jobs } from './index.ts';
import type { Queues } from './queues.ts';
import { sweepInbox, sweepPushes, sweepReconciliation, sweepReminders } from './sweep.ts';

const SWEEP_EVERY_MS = 30_000;

/**
 * The worker role: runs every job kind and, every 30 s, queues what Redis lost (pushes recorded
 * while it was away, inbox rows whose job vanished) each company's periodic reconciliation and the day's overdue reminders. Answers how to stop: bull's close waits for
 * the jobs in flight.
 */
export function startWorker(ctx: JobContext & { jobs: Jobs; queues: Queues; database: { kind: string } }) {
  ctx.queues.process(JOBS, ctx);
  const sweeper = setInterval(() => {
    Promise.all([sweepInbox(ctx), sweepPushes(ctx), sweepReconciliation(ctx), sweepReminders(ctx)]).catch(
      (error: Error) => ctx.logger.warn({ err: error.message }, 'sweep failed'),
    );
  }, SWEEP_EVERY_MS);
  ctx.logger.info({ database: ctx.database.kind, jobs: JOBS.map((j) => j.id) }, 'worker started');
  return {
    stopSweeping() {
      clearInterval(sweeper);
    },
  };
}
