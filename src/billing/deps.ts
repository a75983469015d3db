import type { Redis } from 'ioredis';
import type { Config } from '../config.ts';
import type { Clock } from '../domain/dates.ts';
import type { HubSpot } from '../hubspot/index.ts';
import type { Logger } from '../log.ts';
import type { QuickBooks } from '../quickbooks/index.ts';
import type { Db } from '../store/db.ts';

/**
 * The background work billing hands off. Implemented by jobs/ (bull); enqueueing never throws:
 * when Redis is away the work stays in the ledger or inbox and the sweepers queue it later.
 */
export interface BillingJobs {
  /** `round` tells a deliberate re-run (a manual retry, a sweep) from a duplicate of the first. */
  invoicePush(pushId: string, round?: string): Promise<void>;
  writeBack(pushId: string, round?: string): Promise<void>;
  /** Writes the tenant's pending deal roll-ups to HubSpot, collapsed with the other changes of the moment. */
  rollUp(tenantId: string): Promise<void>;
}

/** What the billing layer works with: storage, the two platforms, and its background jobs. */
export interface BillingDeps {
  config: Config;
  clock: Clock;
  db: Db;
  redis: Redis;
  logger: Logger;
  hubspot: HubSpot;
  quickbooks: QuickBooks;
  jobs: BillingJobs;
}
