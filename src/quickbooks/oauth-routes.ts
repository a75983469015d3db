import { randomBytes } from 'node:crypto';
import { and, eq, gt, ne } from 'drizzle-orm';
import { Router } from 'express';
import { z } from 'zod';
import type { AppContext } from '../context.ts';
import { HttpProblem } from '../http/problem.ts';
import { requireSession, sessionOf } from '../http/session.ts';
import { decrypt } from '../security/crypto.ts';
import { isUniqueViolation } from '../store/db.ts';
import { oauthStates, qboConnections } from '../store/schema.ts';
import { authorizeUrl, exchangeCode, QuickBooksOAuthError } from './oauth.ts';
import { connectionOf, disconnect, revokeQuietly, saveConnection } from './tokens.ts';

const STATE_TTL_MS = 10 * 60_000;

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

/** Connecting a tenant's QuickBooks company: a single-use state bound to the tenant, the code exchange, the realm. */
export function quickbooksOAuthRoutes(ctx: AppContext): Router {
  const router = Router();
  const { db } = ctx.database;
  const deps = { ...ctx, db };
  const session = requireSession(db);

  const companyInUse = (realmId: string) =>
    new HttpProblem(
      'quickbooks_realm_in_use',
      `QuickBooks company ${realmId} is already connected to another HubSpot portal; disconnect it there first`,
    );

  router.get('/oauth/quickbooks/connect', session, async (_req, res) => {
    const state = randomBytes(24).toString('base64url');
    const url = authorizeUrl(ctx.config, state);
    await db.insert(oauthStates).values({
      state,
      provider: 'quickbooks',
      tenantId: sessionOf(res).tenantId,
      expiresAt: new Date(Date.now() + STATE_TTL_MS),
    });
    res.redirect(302, url);
  });

  // The session is checked here too: a state bound to someone else's tenant, completed in this
  // browser, would otherwise attach this admin's company to a stranger's portal.
  router.get('/oauth/quickbooks/callback', session, async (req, res) => {
    const query = Callback.parse(req.query);
    // Deleting the state is what makes it single-use: a replay finds nothing.
    const consume = async (state: string) => {
      const [row] = await db
        .delete(oauthStates)
        .where(
          and(
            eq(oauthStates.state, state),
            eq(oauthStates.provider, 'quickbooks'),
            gt(oauthStates.expiresAt, new Date()),
          ),
        )
        .returning();
      return row;
    };
    if (query.error) {
      if (query.state) await consume(query.state);
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
    const state = await consume(query.state);
    const tenantId = sessionOf(res).tenantId;
    if (!state?.tenantId || state.tenantId !== tenantId) {
      throw new HttpProblem(
        'forbidden',
        'this connect link expired, was already used or belongs to another sign-in; start again from "Connect QuickBooks"',
      );
    }
    const realmId = query.realmId;
    // Checked before the exchange so that no grant is created for a company we would refuse.
    const [taken] = await db
      .select({ tenantId: qboConnections.tenantId })
      .from(qboConnections)
      .where(and(eq(qboConnections.realmId, realmId), ne(qboConnections.tenantId, tenantId)));
    if (taken) throw companyInUse(realmId);

    const tokens = await exchangeCode(ctx.config, query.code).catch((error: unknown) => {
      if (!(error instanceof QuickBooksOAuthError)) throw error;
      if (error.invalidGrant) {
        throw new HttpProblem(
          'forbidden',
          'QuickBooks did not accept the authorisation (it expired or was already used); connect QuickBooks again',
        );
      }
      throw new HttpProblem('quickbooks_error', `QuickBooks could not be connected: ${error.message}`);
    });
    const previous = await connectionOf(db, tenantId);
    try {
      await saveConnection(deps, tenantId, realmId, tokens);
    } catch (error) {
      if (!isUniqueViolation(error)) throw error;
      // Another tenant took the company between the check and the save: the new grant is ours to end.
      await revokeQuietly(deps, { tenantId, realmId }, tokens.refresh_token);
      throw companyInUse(realmId);
    }
    // Switching companies: the old company's grant would otherwise stay alive with no one holding it.
    if (previous && previous.realmId !== realmId) {
      await revokeQuietly(deps, previous, decrypt(ctx.encryptionKey, previous.refreshToken));
    }
    ctx.logger.info({ tenantId, realmId }, 'QuickBooks company connected');
    res.type('html').send(connectedPage(realmId));
  });

  router.post('/oauth/quickbooks/disconnect', session, async (_req, res) => {
    const { realmId } = await disconnect(deps, sessionOf(res).tenantId);
    res.json({ disconnected: true, realmId });
  });

  return router;
}

function connectedPage(realmId: string): string {
  const safe = realmId.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>QuickBooks connected</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:36rem;margin:4rem auto;padding:0 1rem;color:#213343}
h1{font-size:1.5rem}</style></head><body>
<h1>QuickBooks company ${safe} connected</h1>
<p>Accepted milestones of your HubSpot deals are now invoiced in this QuickBooks Online company.
You can close this window.</p></body></html>`;
}
