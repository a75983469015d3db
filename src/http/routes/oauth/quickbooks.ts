import { Router } from 'express';
import { z } from 'zod';
import { resumeWaiting, WAITING_FOR } from '../../../billing/retry.ts';
import type { AppContext } from '../../../context.ts';
import { QuickBooksOAuthError } from '../../../quickbooks/index.ts';
import { isUniqueViolation } from '../../../store/db.ts';
import { findSignInLink, redeemSignInLink } from '../../../tenants/sign-in-links.ts';
import { confirmationRoute, confirmed, confirmedLink, portalName } from '../../link-confirmation.ts';
import { authorizeWithState, consumeState } from '../../oauth-state.ts';
import { page } from '../../pages.ts';
import { HttpProblem } from '../../problem.ts';
import { sameOriginOnly } from '../../security.ts';
import { requireSession, requireWritableSession, sessionOf, startSession } from '../../session.ts';

const Callback = z.object({
  code: z.string().min(1).max(512).optional(),
  state: z.string().min(1).max(128).optional(),
  realmId: z
    .string()
    .regex(/^\d{1,32}$/, 'must be a QuickBooks company id')
    .optional(),
  error: z.string().max(200).optional(),
  error_description: z.string().max(500).optional(),
});

const companyInUse = (realmId: string) =>
  new HttpProblem(
    'quickbooks_realm_in_use',
    `QuickBooks company ${realmId} is already connected to another HubSpot portal; disconnect it there first`,
  );

/** Connecting a tenant's QuickBooks company: a single-use state bound to the tenant, the code exchange, the realm. */
export function quickbooksOAuthRoutes(ctx: AppContext): Router {
  const router = Router();
  const session = requireSession(ctx.db);
  // A bookkeeper's read-only share-link session may look at the portfolio, not change the connection.
  const writable = requireWritableSession;
  const secure = { secure: ctx.config.publicUrl.startsWith('https:') };

  const expired = () =>
    new HttpProblem(
      'forbidden',
      'this link expired or was already used; open the app settings in HubSpot and choose "Connect QuickBooks" again',
    );

  /**
   * Where the settings page in HubSpot sends a new window: the single-use link it minted. It first
   * names the HubSpot portal the QuickBooks company chosen next will be bound to; only the page's
   * own POST signs the window in for that tenant and goes on to Intuit (a link someone else minted
   * would otherwise bind the opener's books to the minter's portal).
   */
  router.get(
    '/oauth/quickbooks/start',
    confirmationRoute(ctx, {
      find: (token) => findSignInLink(ctx.db, token, 'quickbooks_connect'),
      expired,
      page: (tenant) => ({
        heading: `Connect QuickBooks to ${tenant.name}`,
        explain: [
          `This link connects a QuickBooks Online company to ${portalName(tenant)}.`,
          `The company you choose on Intuit's page next will be bound to that HubSpot portal: the app will read its customers and items, and create invoices in its books for that portal's deals.`,
        ],
        submit: `Continue to QuickBooks for ${tenant.name}`,
      }),
    }),
  );
  router.post('/oauth/quickbooks/start', ...confirmed(ctx), async (req, res) => {
    const token = confirmedLink(req);
    const link = token ? await redeemSignInLink(ctx.db, token, 'quickbooks_connect') : undefined;
    if (!link) throw expired();
    await startSession(ctx.db, res, { tenantId: link.tenantId, userEmail: link.userEmail }, secure);
    res.redirect(
      303,
      await authorizeWithState(ctx.db, res, 'quickbooks', link.tenantId, ctx.quickbooks.authorizeUrl, secure),
    );
  });

  router.get('/oauth/quickbooks/connect', session, writable, async (_req, res) => {
    const tenantId = sessionOf(res).tenantId;
    res.redirect(
      302,
      await authorizeWithState(ctx.db, res, 'quickbooks', tenantId, ctx.quickbooks.authorizeUrl, secure),
    );
  });

  // The session is checked here too: a state bound to someone else's tenant, completed in this
  // browser, would otherwise attach this admin's company to a stranger's portal.
  router.get('/oauth/quickbooks/callback', session, writable, async (req, res) => {
    const query = Callback.parse(req.query);
    if (query.error) {
      if (query.state) await consumeState(ctx.db, req, res, 'quickbooks', query.state);
      const declined = query.error === 'access_denied';
      throw new HttpProblem(
        'forbidden',
        declined
          ? 'QuickBooks was not connected: access was declined on the Intuit page. Use "Connect QuickBooks" to try again.'
          : `QuickBooks did not authorise the connection: ${query.error_description ?? query.error}`,
      );
    }
    if (!query.code || !query.state || !query.realmId)
      throw new HttpProblem('invalid_request', 'the callback needs code, state and realmId');
    const state = await consumeState(ctx.db, req, res, 'quickbooks', query.state);
    const tenantId = sessionOf(res).tenantId;
    if ('refused' in state || state.row.tenantId !== tenantId) {
      throw new HttpProblem(
        'forbidden',
        'this connect link expired, was already used or belongs to another sign-in; start again from "Connect QuickBooks"',
      );
    }
    const realmId = query.realmId;
    // Checked before the exchange so that no grant is created for a company we would refuse.
    const holder = await ctx.quickbooks.realmHolder(realmId);
    if (holder && holder !== tenantId) throw companyInUse(realmId);

    const tokens = await ctx.quickbooks.exchangeCode(query.code).catch((error: unknown) => {
      if (!(error instanceof QuickBooksOAuthError)) throw error;
      if (error.invalidGrant) {
        throw new HttpProblem(
          'forbidden',
          'QuickBooks did not accept the authorisation (it expired or was already used); connect QuickBooks again',
        );
      }
      throw new HttpProblem('quickbooks_error', `QuickBooks could not be connected: ${error.message}`);
    });
    if (!(await ctx.quickbooks.confirmRealm(realmId, tokens))) {
      await ctx.quickbooks.revoke({ tenantId, realmId }, tokens.refresh_token);
      throw new HttpProblem(
        'forbidden',
        `QuickBooks did not authorise company ${realmId}: the callback named another company than the one approved; connect QuickBooks again`,
      );
    }
    try {
      await ctx.quickbooks.connect(tenantId, realmId, tokens);
    } catch (error) {
      if (!isUniqueViolation(error)) throw error;
      // Another tenant took the company between the check and the save: the new grant is ours to end.
      await ctx.quickbooks.revoke({ tenantId, realmId }, tokens.refresh_token);
      throw companyInUse(realmId);
    }
    ctx.logger.info({ tenantId, realmId }, 'QuickBooks company connected');
    // The company's name, currency and numbering as they are now; a failure here waits for the first invoice.
    await ctx.quickbooks
      .connectionFacts(tenantId)
      .catch((error: Error) =>
        ctx.logger.warn({ tenantId, err: error.message }, 'company facts not read yet'),
      );
    await resumeWaiting(ctx, WAITING_FOR.quickbooks, {
      tenantId,
      actor: `quickbooks:connected:${realmId}`,
      reason: 'QuickBooks is connected again',
    });
    res.type('html').send(
      page({
        title: 'QuickBooks connected',
        heading: `QuickBooks company ${realmId} connected`,
        body: [
          'Accepted milestones of your HubSpot deals are now invoiced in this QuickBooks Online company. You can close this window.',
        ],
      }),
    );
  });

  /**
   * Intuit's "disconnect URL": where a user lands after disconnecting the app inside QuickBooks.
   * It changes nothing (anyone can open it); the app learns of it when the refresh is refused.
   */
  router.get('/oauth/quickbooks/disconnected', (_req, res) => {
    res.type('html').send(
      page({
        title: 'QuickBooks disconnected',
        heading: 'QuickBooks is disconnected from Milestone Billing',
        body: [
          'Accepted milestones are kept, and are invoiced once an admin reconnects QuickBooks from the app’s settings page in HubSpot (Settings → Integrations → Connected apps → Milestone Billing).',
          'Until then the deal cards and the portfolio show that QuickBooks needs to be reconnected.',
        ],
      }),
    );
  });

  router.post(
    '/oauth/quickbooks/disconnect',
    sameOriginOnly(ctx.config.publicUrl),
    session,
    writable,
    async (_req, res) => {
      const { realmId } = await ctx.quickbooks.disconnect(sessionOf(res).tenantId);
      res.json({ disconnected: true, realmId });
    },
  );

  return router;
}
