import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_CARD_QUERY_KEYS } from '../../src/http/card-auth.ts';
import { type Billing, startBilling } from '../support/billing.ts';
import { tenantFingerprint } from './helpers.ts';

/**
 * Who calls the card API is what HubSpot's proxy says, never what the card's code (which runs in
 * the caller's browser and writes the URL) claims; who may manage the app is what HubSpot's user
 * provisioning says. Each request goes through the HubSpot sandbox's `hubspot.fetch`, which appends
 * the caller's portal and user and signs, as HubSpot does.
 */

let b: Billing;
let appUrl: string;
type Tenant = Awaited<ReturnType<Billing['connectedTenant']>>;
let attacker: Tenant;
let victim: Tenant;
/** A sales rep of the attacker's portal: a HubSpot user without admin rights. */
const REP = 5150;

beforeAll(async () => {
  b = await startBilling({ listen: true });
  appUrl = b.t.ctx.config.publicUrl;
  attacker = await b.connectedTenant();
  victim = await b.connectedTenant();
  b.hs.addUser(attacker.portal, { id: REP, email: 'rep@attacker.example' });
});
afterAll(() => b?.close());

/** A card call from `portal`'s user as HubSpot relays it, to a URL the card's code wrote. */
const cardCall = (
  portal: number,
  userId: number | undefined,
  pathAndQuery: string,
  method = 'GET',
  body?: unknown,
) =>
  b.hs.hubspotFetch(`${appUrl}/card/v1${pathAndQuery}`, { method, body, as: { portalId: portal, userId } });

const detail = async (res: Response) => ((await res.json()) as { detail: string }).detail;
const bothTenants = async () => ({
  attacker: await tenantFingerprint(b.t.database.db, attacker.tenant.id),
  victim: await tenantFingerprint(b.t.database.db, victim.tenant.id),
});

describe('the portal of a card request', () => {
  it("is HubSpot's: the victim's portalId first, padded past 1,000 keys, is refused and creates nothing", async () => {
    const before = await bothTenants();
    const padding = '&='.repeat(997);
    const admin = b.hs.portalUserId(attacker.portal);
    for (const [method, path, body] of [
      ['POST', '/settings/api-keys', { name: 'backdoor' }],
      ['POST', '/settings/acceptance-webhook/reveal', {}],
      ['POST', '/settings/share-links', { label: 'Mallory', days: 90 }],
      ['GET', '/settings', undefined],
    ] as const) {
      const res = await cardCall(
        attacker.portal,
        admin,
        `${path}?portalId=${victim.portal}${padding}`,
        method,
        body,
      );
      expect(res.status, path).toBe(403);
      expect(await detail(res)).toBe(
        `the query has ${997 + 1 + 4} parameters; a card request has at most ${MAX_CARD_QUERY_KEYS}`,
      );
    }
    expect(await bothTenants()).toEqual(before);
  });

  it("is HubSpot's: a portalId the card writes beside HubSpot's is refused, whichever portal it names", async () => {
    const before = await bothTenants();
    const admin = b.hs.portalUserId(attacker.portal);
    for (const named of [victim.portal, attacker.portal]) {
      const res = await cardCall(attacker.portal, admin, `/settings/api-keys?portalId=${named}`, 'POST', {
        name: 'backdoor',
      });
      expect(res.status).toBe(403);
      expect(await detail(res)).toBe('the query parameter portalId is given more than once');
    }
    // A short query naming a key the route does not take is refused as well.
    const odd = await cardCall(attacker.portal, admin, '/settings?tenant=victim');
    expect(odd.status).toBe(403);
    expect(await detail(odd)).toBe('the query parameter "tenant" is not one this route takes');
    expect(await bothTenants()).toEqual(before);
  });
});

describe('who may manage the app', () => {
  it('is not a claim: a sales rep adding permissions (plain or percent-encoded) is refused and changes nothing', async () => {
    const before = await bothTenants();
    for (const claim of ['permissions', 'perm%69ssions']) {
      for (const [method, path, body] of [
        ['POST', '/settings/acceptance-webhook/rotate', {}],
        ['POST', '/settings/api-keys', { name: 'mine' }],
        ['POST', '/settings/quickbooks/disconnect', {}],
      ] as const) {
        const res = await cardCall(
          attacker.portal,
          REP,
          `${path}?${claim}=integrations-management-write`,
          method,
          body,
        );
        expect(res.status, `${claim} ${path}`).toBe(403);
        expect(await detail(res)).toBe('the query parameter "permissions" is not one this route takes');
      }
    }
    // Without any claim, HubSpot's word is asked: the rep is no super admin.
    const plain = await cardCall(attacker.portal, REP, '/settings/api-keys', 'POST', { name: 'mine' });
    expect(plain.status).toBe(403);
    expect(await detail(plain)).toContain(`only super admins of HubSpot portal ${attacker.portal}`);
    expect(await bothTenants()).toEqual(before);
  });

  it("is HubSpot's word: the portal's super admin reaches settings with nothing in the URL", async () => {
    const res = await cardCall(attacker.portal, undefined, '/settings');
    expect(res.status).toBe(200);
    const asked = b.hs.requests.filter(
      (r) => r.path === `/settings/users/2026-03/${b.hs.portalUserId(attacker.portal)}`,
    );
    expect(asked.length).toBeGreaterThan(0);
  });

  it('includes the roles an admin names in settings, and only those', async () => {
    const tenant = await b.connectedTenant();
    const [, finance] = b.hs.rolesOf(tenant.portal);
    b.hs.addUser(tenant.portal, { id: 7001, email: 'fin@agency.example', roleIds: [finance!.id] });
    b.hs.addUser(tenant.portal, { id: 7002, email: 'rep@agency.example' });
    expect((await cardCall(tenant.portal, 7001, '/settings')).status).toBe(403);

    const unknown = await cardCall(tenant.portal, undefined, '/settings/app-managers', 'PUT', {
      roleIds: ['999'],
    });
    expect(unknown.status).toBe(422);
    expect(await detail(unknown)).toBe(`roleIds[0]: HubSpot portal ${tenant.portal} has no role 999`);
    const named = await cardCall(tenant.portal, undefined, '/settings/app-managers', 'PUT', {
      roleIds: [finance!.id],
    });
    expect(named.status).toBe(200);
    expect((await cardCall(tenant.portal, 7001, '/settings')).status).toBe(200);
    expect((await cardCall(tenant.portal, 7002, '/settings')).status).toBe(403);
  });

  it("is refused, saying why, where HubSpot does not let the app read the portal's users", async () => {
    const tenant = await b.connectedTenant();
    const granted = b.hs.issueTokens(tenant.portal, {
      scopes: ['oauth', 'crm.objects.deals.read', 'crm.objects.deals.write', 'crm.objects.contacts.read'],
    });
    await b.t.ctx.hubspot.saveInstall(tenant.tenant.id, {
      portalId: String(tenant.portal),
      hubDomain: null,
      installedBy: null,
      tokens: {
        access_token: granted.accessToken,
        refresh_token: granted.refreshToken,
        expires_in: granted.expiresIn,
      },
    });
    const res = await cardCall(tenant.portal, undefined, '/settings');
    expect(res.status).toBe(403);
    expect(await detail(res)).toContain('settings.users.read');
  });
});
