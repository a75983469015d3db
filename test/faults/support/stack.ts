import { randomInt } from 'node:crypto';
import { eq, inArray } from 'drizzle-orm';
import { expect } from 'vitest';
import { signAcceptance } from '../../../src/acceptance/signature.ts';
import { invoicePushes, milestones, qboConnections } from '../../../src/store/schema.ts';
import { acceptanceSecret } from '../../../src/tenants/repository.ts';
import { startBilling } from '../../support/billing.ts';
import { startProxy, withoutRequestId } from './proxy.ts';

/**
 * The product on real HTTP (startBilling: web, database, Redis, both sandboxes) with a holding
 * proxy in front of each platform, so a test can stop the app at an exact step of its work.
 *
 * `strict` (default on) takes away the two safety nets QuickBooks may or may not give: the
 * proxy drops `requestid` (Intuit documents no retention and duplicates were reported despite
 * it) and the companies do not refuse a duplicate DocNumber (a company setting, often off).
 * What keeps an invoice single is then the app's own ledger and lookup, which is what is tested.
 */
export async function startStack(
  opts: {
    env?: Record<string, string>;
    server?: boolean;
    worker?: boolean;
    listen?: boolean;
    strict?: boolean;
  } = {},
) {
  const strict = opts.strict ?? true;
  const qboProxy = await startProxy(strict ? { rewriteUrl: withoutRequestId } : {});
  const hsProxy = await startProxy();
  const b = await startBilling({
    ...opts,
    env: { QBO_API_BASE_URL: qboProxy.url, HUBSPOT_API_BASE_URL: hsProxy.url, ...opts.env },
  });
  qboProxy.target = b.qbo.url;
  hsProxy.target = b.hs.url;

  /** A tenant in a seeded HubSpot portal, connected to a new QuickBooks company of its own. */
  async function tenant(company: { customTxnNumbers?: boolean } = {}) {
    const made = await b.t.tenant();
    const portal = Number(made.portalId);
    b.hs.seedRealistic(portal);
    const h = b.hs.issueTokens(portal);
    await b.t.ctx.hubspot.saveInstall(made.tenant.id, {
      portalId: made.portalId,
      hubDomain: null,
      installedBy: null,
      tokens: { access_token: h.accessToken, refresh_token: h.refreshToken, expires_in: h.expiresIn },
    });
    const realmId = String(9_150_000_000_000 + randomInt(1_000_000_000));
    b.qbo.addRealm(realmId, {
      companyName: `Books of ${made.portalId}`,
      country: 'US',
      homeCurrency: 'USD',
      multiCurrency: true,
      duplicateDocNumberCheck: !strict,
      ...(company.customTxnNumbers === undefined ? {} : { customTxnNumbers: company.customTxnNumbers }),
    });
    await b.t.ctx.quickbooks.connect(made.tenant.id, realmId, b.qbo.issueTokens(realmId));
    const secret = acceptanceSecret(b.t.encryptionKey, made.tenant);

    /** A signed acceptance webhook body and its signature header, as a client's tool sends it. */
    const signed = (body: Record<string, unknown>) => {
      const raw = JSON.stringify({
        acceptedAt: new Date().toISOString(),
        acceptedBy: { name: 'Dana Client' },
        portalId: made.portalId,
        ...body,
      });
      return { raw, signature: signAcceptance(secret, raw) };
    };
    const postAcceptance = ({ raw, signature }: { raw: string; signature: string }) =>
      b.t.http
        .post('/webhooks/acceptance')
        .set('Content-Type', 'application/json')
        .set('X-Acceptance-Signature', signature)
        .send(raw);

    /**
     * Schedules (software template: four milestones) on as many seeded deals as `count` needs and
     * answers the first `count` milestones; nothing is accepted yet.
     */
    async function portions(count: number, template = 'software') {
      const deals = b.hs.listDeals(portal).filter((d) => d.properties.deal_currency_code === 'USD');
      const found: Portion[] = [];
      for (const deal of deals) {
        if (found.length >= count) break;
        const res = await made.post(`/deals/${deal.id}/schedule/template`, {
          template,
          startDate: '2026-12-01',
        });
        expect(res.status, JSON.stringify(res.body)).toBe(201);
        for (const m of res.body.milestones as { id: string; key: string }[])
          if (found.length < count) found.push({ dealId: deal.id, milestoneId: m.id, key: m.key });
      }
      expect(found.length, 'enough USD deals in the seeded portal').toBe(count);
      return found;
    }

    /** Each portion's acceptance webhook (once each, in order). */
    async function acceptAll(list: Portion[], extra: Record<string, unknown> = {}) {
      for (const p of list) {
        const res = await postAcceptance(
          signed({ id: acceptanceId(p), dealId: p.dealId, milestone: { id: p.milestoneId }, ...extra }),
        );
        expect(res.status, JSON.stringify(res.body)).toBe(200);
      }
    }

    const pushes = () =>
      b.t.database.db
        .select({ push: invoicePushes, milestone: milestones })
        .from(invoicePushes)
        .innerJoin(milestones, eq(milestones.id, invoicePushes.milestoneId))
        .where(eq(invoicePushes.tenantId, made.tenant.id));

    const connection = async () =>
      (await b.t.database.db.select().from(qboConnections).where(eq(qboConnections.tenantId, made.tenant.id)))[0];

    return {
      ...made,
      portal,
      realmId,
      signed,
      postAcceptance,
      portions,
      acceptAll,
      pushes,
      connection,
    };
  }

  return {
    ...b,
    qboProxy,
    hsProxy,
    strict,
    tenant,
    async close() {
      await b.close();
      await Promise.all([qboProxy.close(), hsProxy.close()]);
    },
  };
}

export type Stack = Awaited<ReturnType<typeof startStack>>;
export type FaultTenant = Awaited<ReturnType<Stack['tenant']>>;
export interface Portion {
  dealId: string;
  milestoneId: string;
  key: string;
}

export const acceptanceId = (p: Portion) => `acc-${p.milestoneId}`;

/** The pushes of the given milestones. */
export async function pushesOf(s: Stack, milestoneIds: string[]) {
  return s.t.database.db.select().from(invoicePushes).where(inArray(invoicePushes.milestoneId, milestoneIds));
}
