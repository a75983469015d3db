import type { z } from 'zod';
import type { AppContext } from '../context.ts';

/** A background job as data: a stable id, a payload version, its payload schema and its handler. */
export interface JobDefinition<S extends z.ZodType = z.ZodType> {
  id: string;
  version: number;
  schema: S;
  /** Tries before bull gives up (exponential backoff from one second). */
  attempts?: number;
  /** Jobs of this kind one worker process runs at once. */
  concurrency?: number;
  handler(payload: z.output<S>, ctx: AppContext): Promise<void>;
}

export function defineJob<S extends z.ZodType>(definition: JobDefinition<S>): JobDefinition<S> {
  return definition;
}
