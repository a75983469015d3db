import type { Holds } from '../holds.ts';
import type { RollingWindowLimiter } from './rate-limit.ts';
import type { SandboxState } from './state.ts';
import type { CrmRecord, Portal } from './types.ts';

export interface SandboxConfig {
  clientId: string;
  clientSecret: string;
  appId: number;
  redirectUris?: string[];
  accessTokenTtlSeconds: number;
  autoApprove: boolean;
  /** portal used by auto-approve when the authorize URL carries no `portalId` hint */
  defaultPortalId?: number;
  /** when true, CRM routes answer 403 MISSING_SCOPES if the token lacks the route's scope */
  enforceScopes: boolean;
}

export interface InjectedFault {
  remaining: number;
  status: number;
  match?: string | RegExp;
  body?: unknown;
}

/** Everything the routers share; mutable knobs live here so the public API can turn them at runtime. */
export interface SandboxContext {
  state: SandboxState;
  config: SandboxConfig;
  limiter: RollingWindowLimiter;
  searchLimiter: RollingWindowLimiter;
  faults: InjectedFault[];
  /** Requests a test stops at a step (see ../holds.ts). */
  holds: Holds<{ method: string; path: string }>;
  latencyMs: number;
  /** called after the API creates, changes or archives a record (webhooks may echo API writes) */
  onApiChange?: (portal: Portal, record: CrmRecord, change: ApiChange) => void;
}

export type ApiChange =
  | { kind: 'created' }
  | { kind: 'updated'; changed: Record<string, string> }
  | { kind: 'archived' };
