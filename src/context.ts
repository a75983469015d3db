import type { Redis } from 'ioredis';
import type { Config } from './config.ts';
import type { Queues } from './jobs/queues.ts';
import type { Logger } from './log.ts';
import type { RealmLimits } from './quickbooks/limits.ts';
import type { SlidingWindowLimiter } from './security/rate-limit.ts';
import type { Database, Queryable } from './store/db.ts';

/** Everything a request handler or a job needs, built once per process (src/runtime.ts). */
export interface AppContext {
  config: Config;
  logger: Logger;
  database: Database;
  redis: Redis;
  encryptionKey: Buffer;
  queues: Queues;
  /** HubSpot's 110 requests / 10 s per portal, shared through Redis. */
  hubspotLimiter: SlidingWindowLimiter;
  /** Intuit's 10 in flight and 500 a minute per company, shared through Redis. */
  qboLimits: RealmLimits;
}

/** What token stores need: the context, with a handle that may be a transaction. */
export type TokenDeps = Pick<AppContext, 'config' | 'redis' | 'encryptionKey'> & { db: Queryable };
