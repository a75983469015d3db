export {
  type CardUser,
  type ChangeOptions,
  DEFAULT_APP_ID,
  DEFAULT_CLIENT_ID,
  DEFAULT_CLIENT_SECRET,
  type DealSnapshot,
  HubSpotSandbox,
  type HubSpotSandboxOptions,
  type NoteSnapshot,
  startHubSpotSandbox,
  type TokenRequestStats,
  type TokenSet,
  type WebhookConfig,
} from './sandbox.ts';
export type { SeedAssociation, SeedInput, SeedObject, SeedResult } from './seed.ts';
export type { AddPortalOptions } from './state.ts';
export type {
  DeliveryAttempt,
  DeliveryResult,
  HubSpotWebhookEvent,
  ObjectTypeName,
  PortalUser,
  PropertyDefinition,
  PropertyGroupDefinition,
  RequestLogEntry,
  TokenRequestEntry,
} from './types.ts';
export {
  dealCreationEvent,
  dealDeletionEvent,
  dealPropertyChangeEvent,
  decodeSignedUri,
  type EventOptions,
  MAX_EVENTS_PER_BATCH,
  type SendOptions,
  type SignInput,
  signV1,
  signV3,
} from './webhooks.ts';
