/** Object types the sandbox stores; the string is the plural name HubSpot uses in URLs and association keys. */
export type ObjectTypeName = 'deals' | 'companies' | 'contacts' | 'notes' | 'tasks';

export const OBJECT_TYPE_IDS: Record<ObjectTypeName, string> = {
  contacts: '0-1',
  companies: '0-2',
  deals: '0-3',
  notes: '0-46',
  tasks: '0-27',
};

/** Singular upper-case names, as HubSpot writes them in batch error messages. */
export const OBJECT_TYPE_SINGULAR: Record<ObjectTypeName, string> = {
  contacts: 'CONTACT',
  companies: 'COMPANY',
  deals: 'DEAL',
  notes: 'NOTE',
  tasks: 'TASK',
};

export type PropertyValue = string | null;

export interface PropertyHistoryEntry {
  value: string;
  timestamp: string;
  sourceType: string;
  sourceId?: string;
  updatedByUserId?: number;
}

export interface CrmRecord {
  id: string;
  type: ObjectTypeName;
  properties: Record<string, string>;
  history: Record<string, PropertyHistoryEntry[]>;
  createdAt: string;
  updatedAt: string;
  archived: boolean;
  archivedAt?: string;
}

export interface PropertyOption {
  label: string;
  value: string;
  hidden: boolean;
  displayOrder: number;
  description?: string;
}

export interface PropertyDefinition {
  name: string;
  label: string;
  type: string;
  fieldType: string;
  groupName: string;
  description: string;
  options: PropertyOption[];
  displayOrder: number;
  calculated: boolean;
  externalOptions: boolean;
  hasUniqueValue: boolean;
  hidden: boolean;
  hubspotDefined: boolean;
  formField: boolean;
  readOnlyValue: boolean;
  showCurrencySymbol?: boolean;
  numberDisplayHint?: string;
  referencedObjectType?: string;
  calculationFormula?: string;
  createdAt: string;
  updatedAt: string;
  createdUserId?: string;
  updatedUserId?: string;
  archived: boolean;
}

export interface PropertyGroupDefinition {
  name: string;
  label: string;
  displayOrder: number;
  archived: boolean;
}

export interface PipelineStage {
  id: string;
  label: string;
  displayOrder: number;
  metadata: { isClosed: string; probability: string };
}

export interface Pipeline {
  id: string;
  label: string;
  displayOrder: number;
  stages: PipelineStage[];
}

/** One directed association edge with every type id that links the pair in that direction. */
export interface AssociationEdge {
  fromType: ObjectTypeName;
  fromId: string;
  toType: ObjectTypeName;
  toId: string;
  typeIds: Set<number>;
}

export interface Portal {
  id: number;
  hubDomain: string;
  userId: number;
  userEmail: string;
  companyCurrency: string;
  currencies: string[];
  objects: Record<ObjectTypeName, Map<string, CrmRecord>>;
  /** key: `${fromType}:${fromId}` → edges */
  associations: Map<string, AssociationEdge[]>;
  properties: Record<ObjectTypeName, Map<string, PropertyDefinition>>;
  groups: Record<ObjectTypeName, Map<string, PropertyGroupDefinition>>;
  pipelines: Pipeline[];
  /** The account's users who can own records (`hubspot_owner_id` holds an owner's id). */
  owners: Owner[];
  /** Who may sign in to the account (user provisioning); the installing user is a super admin. */
  users: PortalUser[];
  roles: { id: string; name: string }[];
}

export interface PortalUser {
  id: number;
  email: string;
  firstName: string;
  lastName: string;
  superAdmin: boolean;
  roleIds: string[];
}

export interface Owner {
  id: string;
  userId: number;
  email: string;
  firstName: string;
  lastName: string;
}

export interface AccessTokenRecord {
  token: string;
  portalId: number;
  userId: number;
  userEmail: string;
  scopes: string[];
  clientId: string;
  issuedAt: number;
  expiresAt: number;
  revoked: boolean;
  refreshToken: string;
}

export interface RefreshTokenRecord {
  token: string;
  portalId: number;
  userId: number;
  userEmail: string;
  scopes: string[];
  clientId: string;
  revoked: boolean;
}

export interface AuthCodeRecord {
  code: string;
  clientId: string;
  redirectUri: string;
  portalId: number;
  scopes: string[];
  expiresAt: number;
  used: boolean;
}

export interface RequestLogEntry {
  method: string;
  path: string;
  query: string;
  portalId?: number;
  status: number;
  at: number;
}

export interface TokenRequestEntry {
  grantType: string;
  path: string;
  status: number;
  portalId?: number;
  error?: string;
  at: number;
}

export interface HubSpotWebhookEvent {
  eventId: number;
  subscriptionId: number;
  portalId: number;
  appId: number;
  occurredAt: number;
  subscriptionType: string;
  attemptNumber: number;
  objectId: number;
  objectTypeId?: string;
  propertyName?: string;
  propertyValue?: string;
  changeSource?: string;
  sourceId?: string;
  changeFlag?: string;
  isSensitive?: boolean;
}

export interface DeliveryAttempt {
  attemptNumber: number;
  status?: number;
  error?: string;
  durationMs: number;
  at: number;
}

export interface DeliveryResult {
  delivered: boolean;
  targetUrl: string;
  eventCount: number;
  attempts: DeliveryAttempt[];
}
