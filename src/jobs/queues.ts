import Bull from 'bull';
import { z } from 'zod';
import type { Logger } from '../log.ts';
import type { JobContext, JobDefinition } from './define.ts';

const Envelope = z.object({ v: z.number().int(), payload: z.unknown() });

/*
 * Bull 4 names the worker's connection (CLIENT SETNAME, cosmetic) in a promise nobody awaits; when
 * the queue closes while still connecting (a SIGTERM right at start), that promise rejects and its
 * own catch throws on the undefined reason: an unhandled rejection that kills the process.
 */
const setWorkerName = Bull.prototype.setWorkerName;
Bull.prototype.setWorkerName = function (this: Bull.Queue) {
  return setWorkerName.call(this).catch(() => {});
};

/** One bull queue per job definition, sharing a Redis; web enqueues, the worker processes. */
export function createQueues(
  redis: { url: string; prefix: string },
  logger: Logger,
  opts: { lockMs?: number; backoffMs?: number } = {},
) {
  const { lockMs = 30_000, backoffMs = 1000 } = opts;
  // Bull makes its own connections: its keys go under the deployment's prefix by its own option.
  const prefix = `${redis.prefix}:bull`;
  const queues = new Map<string, Bull.Queue>();
  let closing = false;
  const queueFor = (def: JobDefinition) => {
    let queue = queues.get(def.id);
    if (!queue) {
      // A job whose worker died is taken up again once its lock lapses (bull's stalled-job check).
      queue = new Bull(def.id, redis.url, {
        prefix,
        settings: { lockDuration: lockMs, stalledInterval: Math.max(1000, lockMs / 2), maxStalledCount: 100 },
      });
      queue.on('error', (error) => logger.warn({ queue: def.id, err: error.message }, 'queue error'));
      queues.set(def.id, queue);
    }
    return queue;
  };

  return {
    /**
     * Adds a job under the id its definition gives the payload (a second add with the id is a
     * no-op while the job is kept). Gives up after `timeoutMs` so a missing Redis cannot hold a
     * webhook answer; callers keep the work in the inbox and the sweeper enqueues it later.
     */
    async enqueue<S extends z.ZodType>(def: JobDefinition<S>, payload: z.input<S>, timeoutMs = 2000) {
      const parsed = def.schema.parse(payload);
      const added = queueFor(def).add(
        { v: def.version, payload },
        {
          jobId: def.jobId(parsed),
          ...(def.delayMs ? { delay: def.delayMs(parsed) } : {}),
          attempts: def.attempts ?? 10,
          backoff: { type: 'exponential', delay: backoffMs },
          removeOnComplete: 10_000,
          removeOnFail: false,
        },
      );
      let timer: NodeJS.Timeout | undefined;
      try {
        await Promise.race([
          added,
          new Promise((_, reject) => {
            timer = setTimeout(() => reject(new Error(`enqueue of ${def.id} timed out`)), timeoutMs);
          }),
        ]);
      } finally {
        clearTimeout(timer);
      }
    },

    /** The worker side: every payload is parsed again before its handler sees it. */
    process(defs: readonly JobDefinition[], ctx: JobContext, concurrency = 5) {
      for (const def of defs) {
        queueFor(def)
          .process(def.concurrency ?? concurrency, async (job) => {
            const envelope = Envelope.parse(job.data);
            if (envelope.v !== def.version)
              throw new Error(`${def.id} payload v${envelope.v} is not v${def.version}`);
            // Every line a job logs names its queue and job id, as every request's names its id.
            const logger = ctx.logger.child({ queue: def.id, jobId: String(job.id) });
            await def.handler(def.schema.parse(envelope.payload), { ...ctx, logger });
          })
          // Rejects when the queue closes while still connecting (a SIGTERM right at start).
          .catch((error: unknown) => {
            if (!closing) logger.warn({ queue: def.id, err: String(error) }, 'queue stopped processing');
          });
      }
    },

    queue: queueFor,

    /** Waits for active jobs to finish (bull's graceful close), then disconnects. */
    async close() {
      closing = true;
      await Promise.all([...queues.values()].map((q) => q.close()));
    },
  };
}

export type Queues = ReturnType<typeof createQueues>;
