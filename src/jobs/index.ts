import type { Logger } from '../log.ts';
import { hubspotEvents } from './hubspot-events.ts';
import { hubspotWriteBack } from './hubspot-write-back.ts';
import { invoicePush } from './invoice-push.ts';
import type { Queues } from './queues.ts';

/** Every job the worker runs; web processes only enqueue. */
export const JOBS = [hubspotEvents, invoicePush, hubspotWriteBack];

const EVENTS_PER_JOB = 100;

/**
 * Enqueueing, by what the work is. The plain calls never throw: when Redis is away the work stays
 * in the ledger or inbox, the failure is logged, and the sweepers queue it later. `strict` throws,
 * for the sweepers themselves.
 */
export function createJobs(queues: Queues, logger: Logger) {
  const strict = {
    invoicePush: (pushId: string, round?: string) => queues.enqueue(invoicePush, { pushId, round }),
    writeBack: (pushId: string, round?: string) => queues.enqueue(hubspotWriteBack, { pushId, round }),
    async hubspotEvents(inboxIds: string[], round?: string) {
      for (let i = 0; i < inboxIds.length; i += EVENTS_PER_JOB)
        await queues.enqueue(hubspotEvents, { inboxIds: inboxIds.slice(i, i + EVENTS_PER_JOB), round });
    },
  };
  const quietly =
    <A extends unknown[]>(what: string, add: (...args: A) => Promise<void>) =>
    (...args: A) =>
      add(...args).catch((error: Error) =>
        logger.warn({ job: what, key: args[0], err: error.message }, 'not queued; the sweeper will'),
      );
  return {
    strict,
    invoicePush: quietly('invoice-push', strict.invoicePush),
    writeBack: quietly('hubspot-write-back', strict.writeBack),
    hubspotEvents: quietly('hubspot-events', strict.hubspotEvents),
  };
}

export type Jobs = ReturnType<typeof createJobs>;
