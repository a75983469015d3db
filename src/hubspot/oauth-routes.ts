import { randomBytes } from 'node:crypto';
import { and, eq, gt } from 'drizzle-orm';
import { Router } from 'express';
import { z } from 'zod';
import type { AppContext } from '../context.ts';
import { HttpProblem } from '../http/problem.ts';
import { randomSecret, sha256 } from '../security/crypto.ts';
import { oauthStates, sessions } from '../store/schema.ts';
import { ensureTenant } from '../tenants/repository.ts';
import { authorizeUrl, exchangeCode, introspect } from './oauth.ts';
import { saveInstall } from './tokens.ts';

const STATE_TTL_MS = 10 * 60_000;
const SESSION_TTL_MS = 12 * 60 * 60_000;

const Callback = z.object({
  code: z.string().min(1).optional(),
  state: z.string().min(1).optional(),
  error: z.string().optional(),
  error_description: z.string().optional(),
});

/** The HubSpot install: a single-use server-side state, the code exchange, the tenant, a session. */
export function hubspotOAuthRoutes(ctx: AppContext): Router {
  const router = Router();
  const { db } = ctx.database;

  router.get('/oauth/hubspot/install', async (_req, res) => {
    const state = randomBytes(24).toString('base64url');
    const url = authorizeUrl(ctx.config, state);
    await db
      .insert(oauthStates)
      .values({ state, provider: 'hubspot', expiresAt: new Date(Date.now() + STATE_TTL_MS) });
    res.redirect(302, url);
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
    // Deleting the state is what makes it single-use: a replay finds nothing.
    const [state] = await db
      .delete(oauthStates)
      .where(
        and(
          eq(oauthStates.state, query.state),
          eq(oauthStates.provider, 'hubspot'),
          gt(oauthStates.expiresAt, new Date()),
        ),
      )
      .returning();
    if (!state)
      throw new HttpProblem(
        'forbidden',
        'this install link expired or was already used; start the install again',
      );

    const tokens = await exchangeCode(ctx.config, query.code);
    const info = await introspect(ctx.config, tokens.access_token);
    const portalId = String(tokens.hub_id ?? info.hub_id);
    const { tenant } = await ensureTenant(
      db,
      ctx.encryptionKey,
      portalId,
      info.hub_domain ?? `HubSpot portal ${portalId}`,
    );
    await saveInstall({ ...ctx, db }, tenant.id, portalId, tokens, info.user);

    const session = randomSecret('', 32);
    await db.insert(sessions).values({
      idHash: sha256(session),
      tenantId: tenant.id,
      userEmail: info.user ?? null,
      expiresAt: new Date(Date.now() + SESSION_TTL_MS),
    });
    res.cookie('mb_session', session, {
      httpOnly: true,
      sameSite: 'lax',
      secure: ctx.config.publicUrl.startsWith('https:'),
      maxAge: SESSION_TTL_MS,
    });
    res.type('html').send(installedPage(info.hub_domain ?? portalId));
  });

  return router;
}

function installedPage(portal: string): string {
  const safe = portal.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Milestone Billing installed</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:36rem;margin:4rem auto;padding:0 1rem;color:#213343}
h1{font-size:1.5rem}a{color:#0b6e99}</style></head><body>
<h1>Milestone Billing is installed in ${safe}</h1>
<p>Open a deal in HubSpot to attach a milestone billing schedule. Next, connect the QuickBooks Online
company that should receive the invoices.</p>
<p><a href="/oauth/quickbooks/connect">Connect QuickBooks</a></p></body></html>`;
}
