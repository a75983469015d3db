import type { z } from 'zod';
import type { BillingDeps } from '../billing/deps.ts';

/** What a job's handler works with. */
export type JobContext = BillingDeps;

/**
 * A background job as data: a stable id, a payload version, its payload schema, the id of the
 * job a payload makes (a second job with that id is a no-op while the first is kept), and its
 * handler.
 */
export interface JobDefinition<S extends z.ZodType = z.ZodType> {
  id: string;
  version: number;
  schema: S;
  jobId(payload: z.output<S>): string;
  /** Tries before bull gives up (exponential backoff from JOB_BACKOFF_MS). */
  attempts?: number;
  /** How long the job waits before it runs (to let a burst of the same work collapse into one). */
  delayMs?(payload: z.output<S>): number;
  /** Jobs of this kind one worker process runs at once. */
  concurrency?: number;
  handler(payload: z.output<S>, ctx: JobContext): Promise<void>;
}

export function defineJob<S extends z.ZodType>(definition: JobDefinition<S>): JobDefinition<S> {
  return definition;
}

/** `<job>:<key>`, and `:<round>` for a deliberate re-run (a manual retry, a sweep). */
export const jobKey = (id: string, key: string, round?: string) => `${id}:${key}${round ? `:${round}` : ''}`;
