import type { z } from 'zod';
import type { Logger } from '../log.ts';
import { DEAL_ROLL_UP_WINDOW, dealRollUp } from './deal-roll-up.ts';
import type { JobDefinition } from './define.ts';
import { hubspotEvents } from './hubspot-events.ts';
import { hubspotWriteBack } from './hubspot-write-back.ts';
import { invoicePush } from './invoice-push.ts';
import { overdueReminders } from './overdue-reminders.ts';
import type { Queues } from './queues.ts';
import { QBO_CHANGES_WINDOW, quickbooksChanges } from './quickbooks-changes.ts';
import { quickbooksReconcile } from './quickbooks-reconcile.ts';

/**
 * Every kind of job: the worker processes exactly these, and `createJobs` can queue only these (a
 * kind left out of this list does not compile there), so nothing is queued that no worker runs.
 */
export const JOBS = [
  hubspotEvents,
  invoicePush,
  hubspotWriteBack,
  quickbooksChanges,
  dealRollUp,
  quickbooksReconcile,
  overdueReminders,
] as const;

type Registered = (typeof JOBS)[number];

const EVENTS_PER_JOB = 100;

/**
 * Enqueueing, by what the work is. The plain calls never throw: when Redis is away the work stays
 * in the ledger or inbox, the failure is logged, and the sweepers queue it later. `strict` throws,
 * for the sweepers themselves.
 */
export function createJobs(queues: Queues, logger: Logger) {
  const enqueue = <S extends z.ZodType>(def: JobDefinition<S> & Registered, payload: z.input<S>) =>
    queues.enqueue(def, payload);
  const strict = {
    invoicePush: (pushId: string, round?: string) => enqueue(invoicePush, { pushId, round }),
    writeBack: (pushId: string, round?: string) => enqueue(hubspotWriteBack, { pushId, round }),
    async hubspotEvents(inboxIds: string[], round?: string) {
      for (let i = 0; i < inboxIds.length; i += EVENTS_PER_JOB)
        await enqueue(hubspotEvents, { inboxIds: inboxIds.slice(i, i + EVENTS_PER_JOB), round });
    },
    /** The pending events of these companies, each company's in one job per window. */
    async quickbooksChanges(realmIds: string[], round?: string) {
      const window = Math.floor(Date.now() / QBO_CHANGES_WINDOW);
      for (const realmId of new Set(realmIds)) await enqueue(quickbooksChanges, { realmId, window, round });
    },
    remind: (tenantId: string, asOf: string, round?: string) =>
      enqueue(overdueReminders, { tenantId, asOf, round }),
    reconcile: (tenantId: string, round: string) => enqueue(quickbooksReconcile, { tenantId, round }),
    rollUp: (tenantId: string) =>
      enqueue(dealRollUp, { tenantId, window: Math.floor(Date.now() / DEAL_ROLL_UP_WINDOW) }),
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
    quickbooksChanges: quietly('quickbooks-changes', strict.quickbooksChanges),
    rollUp: quietly('deal-roll-up', strict.rollUp),
  };
}

export type Jobs = ReturnType<typeof createJobs>;
