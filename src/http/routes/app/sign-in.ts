import { Router } from 'express';
import { z } from 'zod';
import type { AppContext } from '../../../context.ts';
import { redeemShareLink } from '../../../tenants/share-links.ts';
import { redeemSignInLink } from '../../../tenants/sign-in-links.ts';
import { HttpProblem } from '../../problem.ts';
import { startSession } from '../../session.ts';

const Link = z.object({ link: z.string().regex(/^[A-Za-z0-9_-]{16,128}$/) });

/**
 * Where "Open portfolio" in HubSpot sends the browser: the single-use link it minted (5 minutes)
 * starts a session for that HubSpot user's tenant, with no password of the app's own.
 */
export function signInRoutes(ctx: AppContext): Router {
  const router = Router();
  const secure = { secure: ctx.config.publicUrl.startsWith('https:') };
  router.get('/app/sign-in', async (req, res) => {
    const query = Link.safeParse(req.query);
    const link = query.success ? await redeemSignInLink(ctx.db, query.data.link, 'portfolio') : undefined;
    if (!link)
      throw new HttpProblem(
        'forbidden',
        'this sign-in link expired or was already used; choose "Open portfolio" in HubSpot again',
      );
    await startSession(ctx.db, res, { tenantId: link.tenantId, userEmail: link.userEmail }, secure);
    res.redirect(303, '/app/portfolio');
  });

  /** A bookkeeper's share link: reusable until it expires or is revoked; the session only looks. */
  router.get('/app/shared', async (req, res) => {
    const query = Link.safeParse(req.query);
    const link = query.success ? await redeemShareLink(ctx.db, query.data.link) : undefined;
    if (!link)
      throw new HttpProblem(
        'forbidden',
        'this share link expired or was revoked; ask whoever shared the portfolio for a new one',
      );
    await startSession(
      ctx.db,
      res,
      { tenantId: link.tenantId, userEmail: null, shareLinkId: link.id },
      secure,
    );
    res.redirect(303, '/app/portfolio');
  });
  return router;
}
