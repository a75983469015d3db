import type { Redis } from 'ioredis';
import type { BillingDeps } from './billing/deps.ts';
import type { Config } from './config.ts';
import { type Clock, systemClock } from './domain/dates.ts';
import { createHubSpot } from './hubspot/index.ts';
import { createJobs } from './jobs/index.ts';
import { createQueues, type Queues } from './jobs/queues.ts';
import type { Logger } from './log.ts';
import { createQuickBooks } from './quickbooks/index.ts';
import type { Database } from './store/db.ts';

/** Everything a request handler or a job needs, built once per process. */
export interface AppContext extends BillingDeps {
  database: Database;
  encryptionKey: Buffer;
  queues: Queues;
  jobs: ReturnType<typeof createJobs>;
}

/** Wires the adapters, the queues and the jobs over one database and Redis. */
export function createContext(base: {
  config: Config;
  logger: Logger;
  database: Database;
  redis: Redis;
  encryptionKey: Buffer;
  clock?: Clock;
}): AppContext {
  const { config, logger, database, redis, encryptionKey } = base;
  const db = database.db;
  const queues = createQueues({ url: config.redisUrl, prefix: config.redisPrefix }, logger, config.jobs);
  return {
    ...base,
    clock: base.clock ?? systemClock,
    db,
    queues,
    jobs: createJobs(queues, logger),
    hubspot: createHubSpot({ config, db, redis, encryptionKey }),
    quickbooks: createQuickBooks({ config, db, redis, encryptionKey, logger }),
  };
}
