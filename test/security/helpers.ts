import { sql } from 'drizzle-orm';
import type { AppContext } from '../../src/context.ts';
import { JOBS } from '../../src/jobs/index.ts';
import type { Db } from '../../src/store/db.ts';
import { rowsOf } from '../../src/store/db.ts';
import { type HubSpotSandbox, startHubSpotSandbox } from '../sandboxes/hubspot/index.ts';
import { signedHeaders } from '../sandboxes/hubspot/webhooks.ts';
import type { TestApp, TestTenant } from '../support/app.ts';

/** The secrets the security tests configure the app with (each file its own app). */
export const HUBSPOT_SECRET = 'security-suite-hubspot-client-secret';
export const QBO_VERIFIER_TOKEN = 'security-suite-intuit-verifier';
export const PUBLIC_URL = 'http://localhost:3000';

/** What startTestApp needs to verify HubSpot (webhooks, card API) and Intuit signatures. */
export const signingEnv = {
  PUBLIC_URL,
  HUBSPOT_CLIENT_ID: 'security-suite-client',
  HUBSPOT_CLIENT_SECRET: HUBSPOT_SECRET,
  QBO_WEBHOOK_VERIFIER_TOKEN: QBO_VERIFIER_TOKEN,
};

/** `intuit-signature`, as the QuickBooks sandbox signs its own deliveries. */
export { webhookSignature as intuitSignature } from '../sandboxes/quickbooks/index.ts';

/** A USD schedule of two milestones, Design and Build, half each. */
export const twoMilestoneSchedule = (amount: string) => ({
  contractValue: { amount, currency: 'USD' },
  milestones: ['Design', 'Build'].map((name) => ({
    name,
    key: name.toLowerCase(),
    deliverable: `${name} deliverable`,
    acceptanceCriteria: `${name} approved`,
    percent: '50',
    plannedDate: '2026-12-01',
  })),
});

/**
 * What HubSpot's proxy appends to a card's URL (README, "How card requests are authenticated"):
 * who asks, by default Sam, a user without admin rights.
 */
export const cardQuery = (portalId: string, opts: { userId?: string } = {}) =>
  `userId=${opts.userId ?? '4242'}&portalId=${portalId}&userEmail=sam%40agency.example`;

/**
 * The HubSpot sandbox the security suite's apps ask who may manage them (user provisioning); it
 * signs with the suite's secret. Start the app with `hubspotEnv(hs)`.
 */
export const startUsersSandbox = () =>
  startHubSpotSandbox({ clientId: signingEnv.HUBSPOT_CLIENT_ID, clientSecret: HUBSPOT_SECRET });

export const hubspotEnv = (hs: HubSpotSandbox) => ({ ...signingEnv, HUBSPOT_API_BASE_URL: hs.url });

/** The tenant's portal installed in the sandbox; answers its installer's user id, a super admin. */
export async function installIn(hs: HubSpotSandbox, t: TestApp, tenant: TestTenant): Promise<string> {
  const portal = Number(tenant.portalId);
  hs.addPortal(portal);
  const issued = hs.issueTokens(portal);
  await t.ctx.hubspot.saveInstall(tenant.tenant.id, {
    portalId: tenant.portalId,
    hubDomain: null,
    installedBy: null,
    tokens: {
      access_token: issued.accessToken,
      refresh_token: issued.refreshToken,
      expires_in: issued.expiresIn,
    },
  });
  return String(hs.portalUserId(portal));
}

/**
 * A card request as `hubspot.fetch` sends it: the path (with its query) on PUBLIC_URL, the raw
 * body, and the v3 headers over method + full URL + body + timestamp.
 */
export function signedCard(
  method: string,
  pathAndQuery: string,
  body: string | Buffer = '',
  opts: { timestamp?: number; secret?: string; publicUrl?: string } = {},
) {
  const url = `${opts.publicUrl ?? PUBLIC_URL}${pathAndQuery}`;
  return {
    url,
    body,
    headers: {
      ...signedHeaders(opts.secret ?? HUBSPOT_SECRET, {
        method: method.toUpperCase(),
        url,
        body,
        timestamp: opts.timestamp ?? Date.now(),
      }),
      'content-type': 'application/json',
    } as Record<string, string>,
  };
}

/** Every job waiting, running, delayed, done or failed in any queue of the app. */
export async function jobCount(ctx: AppContext): Promise<number> {
  const counts = await Promise.all(JOBS.map((def) => ctx.queues.queue(def).getJobCounts()));
  return counts.reduce((n, c) => n + Object.values(c).reduce((a, b) => a + Number(b), 0), 0);
}

/** The app's tables (public schema), for dumps and fingerprints. */
export async function appTables(db: Db): Promise<string[]> {
  const rows = await rowsOf<{ name: string }>(
    db,
    sql`select table_name as name from information_schema.tables
        where table_schema = 'public' and table_type = 'BASE TABLE' order by table_name`,
  );
  return rows.map((r) => r.name);
}

/**
 * A fingerprint of every row of every table: count and a hash of the rows as text. Any insert,
 * update (an updated_at touched included) or delete changes it.
 */
export async function fingerprint(db: Db, tables?: string[]): Promise<Record<string, string>> {
  const names = tables ?? (await appTables(db));
  const parts = names.map(
    (name) =>
      `select '${name}' as name, count(*)::text || ':' || md5(coalesce(string_agg(t::text, '|' order by t::text), '')) as print from "${name}" t`,
  );
  const rows = await rowsOf<{ name: string; print: string }>(db, sql.raw(parts.join(' union all ')));
  return Object.fromEntries(rows.map((r) => [r.name, r.print]));
}

/** Every row of every table as text, the way a database dump or a leaked backup shows it. */
export async function dumpAsText(db: Db): Promise<string> {
  const out: string[] = [];
  for (const name of await appTables(db)) {
    const rows = await rowsOf<{ row: string }>(db, sql.raw(`select t::text as row from "${name}" t`));
    out.push(`-- ${name}`, ...rows.map((r) => r.row));
  }
  return out.join('\n');
}

/**
 * A fingerprint of one tenant's rows: its tenants row and every row of every table with a
 * tenant_id column that names it (including sessions, links, keys, grants, inbox events).
 */
export async function tenantFingerprint(db: Db, tenantId: string): Promise<Record<string, string>> {
  const tables = await rowsOf<{ name: string }>(
    db,
    sql`select table_name as name from information_schema.columns
        where table_schema = 'public' and column_name = 'tenant_id' order by table_name`,
  );
  const quoted = tenantId.replace(/'/g, "''");
  const parts = [
    `select 'tenants' as name, count(*)::text || ':' || md5(coalesce(string_agg(t::text, '|' order by t::text), '')) as print from tenants t where t.id = '${quoted}'`,
    ...tables.map(
      ({ name }) =>
        `select '${name}' as name, count(*)::text || ':' || md5(coalesce(string_agg(t::text, '|' order by t::text), '')) as print from "${name}" t where t.tenant_id = '${quoted}'`,
    ),
  ];
  const rows = await rowsOf<{ name: string; print: string }>(db, sql.raw(parts.join(' union all ')));
  return Object.fromEntries(rows.map((r) => [r.name, r.print]));
}
