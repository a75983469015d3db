import type { BillingSummary } from '../domain/billing-summary.ts';
import { hubspotInstalls } from '../store/schema.ts';
import { type HubSpotDeps, hubspotLimiter, type Portal } from './client.ts';
import { type Deal, fetchDeal, recentDeal } from './deals.ts';
import { type DealDirectory, dealDirectory } from './directory.ts';
import { addNotes, addNotesOnce, type NoteRequest } from './notes.ts';
import { authorizeUrl, exchangeCode, introspect, type TokenResponse } from './oauth.ts';
import { type DealStage, dealStages } from './pipelines.ts';
import { ensureBillingProperties, writeBillingSummaries } from './properties.ts';
import { createTask, type TaskRequest } from './tasks.ts';
import { hubspotTokens, issued } from './tokens.ts';
import { type PortalUser, portalRoles, portalUser } from './users.ts';

export type { HubSpotDeps, Portal } from './client.ts';
export { HUBSPOT_PACE } from './client.ts';
export type { Deal, DealParties } from './deals.ts';
export type { DealDirectory } from './directory.ts';
export { type DealChange, dealChange, dedupeKey, HubSpotEvent } from './events.ts';
export type { NoteRequest } from './notes.ts';
export { HubSpotOAuthError, hubspotApp, SCOPES } from './oauth.ts';
export type { DealStage } from './pipelines.ts';
export { BILLING_PROPERTIES, billingPropertyValues } from './properties.ts';
export { verifyV3 } from './signature.ts';
export type { TaskRequest } from './tasks.ts';
export type { PortalUser } from './users.ts';

/** What the HubSpot install's code exchange learned: the portal, who installed, their grant. */
export interface Installation {
  portalId: string;
  hubDomain: string | null;
  installedBy: string | null;
  tokens: TokenResponse;
}

/** The app's view of HubSpot: install, deals, and what it writes back to them. */
export interface HubSpot {
  authorizeUrl(state: string): string;
  /** Exchanges an authorization code and learns which portal it is for. */
  exchangeCode(code: string): Promise<Installation>;
  saveInstall(tenantId: string, installation: Installation): Promise<void>;
  accessToken(tenantId: string, opts?: { force?: boolean }): Promise<string>;
  /** `waitMs`: how long a person's request may wait for HubSpot budget; past it, hubspot_busy. */
  deal(portal: Portal, dealId: string, opts?: { waitMs?: number }): Promise<Deal>;
  /** The deal as HubSpot had it at most five minutes ago (shared cache). */
  recentDeal(portal: Portal, dealId: string): Promise<Deal>;
  /** The stages of a deal pipeline, in their order (cached five minutes). */
  dealStages(portal: Portal, pipelineId: string, opts?: { waitMs?: number }): Promise<DealStage[]>;
  /** The portal's deal pipelines and owners by name (cached five minutes). */
  dealDirectory(portal: Portal, opts?: { waitMs?: number }): Promise<DealDirectory>;
  /** Creates the deal properties the summary is written to, once per portal. */
  ensureBillingProperties(portal: Portal): Promise<void>;
  /** Many deals' roll-ups, 100 per call; answers the deals HubSpot no longer has. */
  writeBillingSummaries(
    portal: Portal,
    deals: { dealId: string; summary: BillingSummary }[],
  ): Promise<{ written: string[]; notFound: string[] }>;
  /** Notes that must each exist once (after a lost answer, found by their marker), 100 per call. */
  addNotesOnce(portal: Portal, notes: NoteRequest[]): Promise<string[]>;
  /** Notes on many deals, 100 per call; `null` where HubSpot's answer was lost. */
  addNotes(portal: Portal, notes: { dealId: string; body: string }[]): Promise<{ ids: (string | null)[] }>;
  /** A task on the deal for its owner; not repeated when its outcome is unknown. */
  createTask(portal: Portal, task: TaskRequest): Promise<string>;
  /** A user of the portal with their rights, as HubSpot's user provisioning has them (cached five minutes). */
  user(portal: Portal, userId: string, opts?: { waitMs?: number }): Promise<PortalUser>;
  /** The portal's roles. */
  roles(portal: Portal, opts?: { waitMs?: number }): Promise<{ id: string; name: string }[]>;
}

export function createHubSpot(deps: HubSpotDeps): HubSpot {
  const tokens = hubspotTokens(deps);
  const conn = {
    ...deps,
    limiter: hubspotLimiter(deps.redis),
    accessToken: (tenantId: string, opts?: { force?: boolean }) => tokens.accessToken(tenantId, opts),
  };
  return {
    authorizeUrl: (state) => authorizeUrl(deps.config, state),
    async exchangeCode(code) {
      const granted = await exchangeCode(deps.config, code);
      const info = await introspect(deps.config, granted.access_token);
      return {
        portalId: String(granted.hub_id ?? info.hub_id),
        hubDomain: info.hub_domain ?? null,
        installedBy: info.user ?? null,
        tokens: granted,
      };
    },
    async saveInstall(tenantId, installation) {
      const { portalId, installedBy } = installation;
      await deps.db
        .insert(hubspotInstalls)
        .values({ tenantId, portalId, installedBy })
        .onConflictDoUpdate({ target: hubspotInstalls.tenantId, set: { portalId, updatedAt: new Date() } });
      await tokens.save(tenantId, issued(installation.tokens));
    },
    accessToken: conn.accessToken,
    deal: (portal, dealId, opts) =>
      fetchDeal(conn, portal, dealId, {
        deadline: deadlineOf(opts),
      }),
    recentDeal: (portal, dealId) => recentDeal(conn, portal, dealId),
    dealStages: (portal, pipelineId, opts) =>
      dealStages(conn, portal, pipelineId, {
        deadline: deadlineOf(opts),
      }),
    dealDirectory: (portal, opts) =>
      dealDirectory(conn, portal, {
        deadline: deadlineOf(opts),
      }),
    ensureBillingProperties: (portal) => ensureBillingProperties(conn, portal),
    writeBillingSummaries: (portal, deals) => writeBillingSummaries(conn, portal, deals),
    addNotesOnce: (portal, notes) => addNotesOnce(conn, portal, notes),
    addNotes: (portal, notes) => addNotes(conn, portal, notes),
    createTask: (portal, task) => createTask(conn, portal, task),
    user: (portal, userId, opts) => portalUser(conn, portal, userId, deadlineOf(opts)),
    roles: (portal, opts) => portalRoles(conn, portal, deadlineOf(opts)),
  };
}

const deadlineOf = (opts?: { waitMs?: number }) =>
  opts?.waitMs === undefined ? undefined : Date.now() + opts.waitMs;
