import { Router } from 'express';
import { z } from 'zod';
import { resumeWaiting, WAITING_FOR } from '../../../billing/retry.ts';
import type { AppContext } from '../../../context.ts';
import { HubSpotOAuthError } from '../../../hubspot/index.ts';
import { ensureTenant } from '../../../tenants/repository.ts';
import { authorizeWithState, consumeState } from '../../oauth-state.ts';
import { page } from '../../pages.ts';
import { HttpProblem } from '../../problem.ts';
import { startSession } from '../../session.ts';

const Callback = z.object({
  code: z.string().min(1).optional(),
  state: z.string().min(1).optional(),
  error: z.string().optional(),
  error_description: z.string().optional(),
});

/** The HubSpot install: a single-use server-side state, the code exchange, the tenant, a session. */
export function hubspotOAuthRoutes(ctx: AppContext): Router {
  const router = Router();
  const secure = { secure: ctx.config.publicUrl.startsWith('https:') };

  router.get('/oauth/hubspot/install', async (_req, res) => {
    res.redirect(
      302,
      await authorizeWithState(ctx.db, res, 'hubspot', null, ctx.hubspot.authorizeUrl, secure),
    );
  });

  router.get('/oauth/hubspot/callback', async (req, res) => {
    const query = Callback.parse(req.query);
    if (query.error) {
      throw new HttpProblem(
        'forbidden',
        `HubSpot did not authorise the install: ${query.error_description ?? query.error}`,
      );
    }
    if (!query.code || !query.state)
      throw new HttpProblem('invalid_request', 'the callback needs code and state');
    const state = await consumeState(ctx.db, req, res, 'hubspot', query.state);
    if ('refused' in state) {
      throw new HttpProblem(
        'forbidden',
        state.refused === 'other_browser'
          ? 'this install was started in another browser; start the install again here'
          : 'this install link expired or was already used; start the install again',
      );
    }

    const installation = await ctx.hubspot.exchangeCode(query.code).catch((error: unknown) => {
      if (!(error instanceof HubSpotOAuthError)) throw error;
      throw new HttpProblem(
        'forbidden',
        `HubSpot did not accept the authorisation (${error.error}); start the install again`,
      );
    });
    const { portalId, hubDomain } = installation;
    const { tenant } = await ensureTenant(
      ctx.db,
      ctx.encryptionKey,
      portalId,
      hubDomain ?? `HubSpot portal ${portalId}`,
    );
    await ctx.hubspot.saveInstall(tenant.id, installation);
    await resumeWaiting(ctx, WAITING_FOR.hubspot, {
      tenantId: tenant.id,
      actor: `hubspot:installed:${portalId}`,
      reason: 'the app is installed in HubSpot again',
    });
    await startSession(ctx.db, res, { tenantId: tenant.id, userEmail: installation.installedBy }, secure);
    res.type('html').send(
      page({
        title: 'Milestone Billing installed',
        heading: `Milestone Billing is installed in ${hubDomain ?? portalId}`,
        body: [
          'Open a deal in HubSpot to attach a milestone billing schedule. Next, connect the QuickBooks Online company that should receive the invoices.',
        ],
        links: [{ href: '/oauth/quickbooks/connect', text: 'Connect QuickBooks' }],
      }),
    );
  });

  return router;
}
