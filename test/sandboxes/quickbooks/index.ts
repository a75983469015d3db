/**
 * Local QuickBooks Online sandbox speaking Intuit's wire formats, for tests, benchmarks and the demo.
 *
 *   const qbo = await startQuickBooksSandbox({ clientId, clientSecret });
 *   qbo.addRealm('123', { companyName: 'Demo', country: 'US', homeCurrency: 'USD', multiCurrency: true });
 *   QuickBooks.V3_ENDPOINT_BASE_URL = qbo.v3EndpointBaseUrl; // before `new QuickBooks(...)`
 *   QuickBooks.TOKEN_URL = qbo.tokenUrl; QuickBooks.REVOKE_URL = qbo.revokeUrl;
 *   const { access_token, refresh_token } = qbo.issueTokens('123'); // or run the OAuth code flow
 *
 * A separate process drives the same switches through `${qbo.url}/__sandbox/…` (see admin.ts).
 */
export type { RequestRecord } from './api.ts';
export type { SeedCustomerInput } from './entities/customer.ts';
export type { FaultSettings } from './fault-injection.ts';
export type { ConsentMode, RevokeRecord, TokenRequestRecord, TokenResponse } from './oauth.ts';
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
