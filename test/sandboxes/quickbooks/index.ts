export type { RequestRecord } from './api.ts';
export type { SeedCustomerInput } from './entities/customer.ts';
export type { FaultSettings } from './fault-injection.ts';
export type { ConsentMode, TokenRequestRecord, TokenResponse } from './oauth.ts';
export { parseQuery } from './query.ts';
export {
  type QuickBooksSandbox,
  type QuickBooksSandboxOptions,
  type RealmStats,
  startQuickBooksSandbox,
} from './server.ts';
export type { Customer, Entity, EntityName, Invoice, Payment, RealmInput, SentEmail } from './types.ts';
export {
  signature as webhookSignature,
  type WebhookConfig,
  type WebhookDelivery,
  type WebhookFormat,
} from './webhooks.ts';
