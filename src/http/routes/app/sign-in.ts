import express, { Router } from 'express';
import type { AppContext } from '../../../context.ts';
import { findShareLink, redeemShareLink } from '../../../tenants/share-links.ts';
import { findSignInLink, redeemSignInLink } from '../../../tenants/sign-in-links.ts';
import { requireCsrf } from '../../csrf.ts';
import { confirmationRoute, confirmed, confirmedLink, portalName } from '../../link-confirmation.ts';
import { page } from '../../pages.ts';
import { HttpProblem } from '../../problem.ts';
import { sameOriginOnly } from '../../security.ts';
import { endSession, requireSession, startSession } from '../../session.ts';

/**
 * Where "Open portfolio" in HubSpot sends the browser (a single-use link, 5 minutes) and where a
 * bookkeeper's share link leads: a page that names the portal, then the session on confirming.
 */
export function signInRoutes(ctx: AppContext): Router {
  const router = Router();
  const secure = { secure: ctx.config.publicUrl.startsWith('https:') };
  const expiredSignIn = () =>
    new HttpProblem(
      'forbidden',
      'this sign-in link expired or was already used; choose "Open portfolio" in HubSpot again',
    );
  const expiredShare = () =>
    new HttpProblem(
      'forbidden',
      'this share link expired or was revoked; ask whoever shared the portfolio for a new one',
    );

  router.get(
    '/app/sign-in',
    confirmationRoute(ctx, {
      find: (token) => findSignInLink(ctx.db, token, 'portfolio'),
      expired: expiredSignIn,
      page: (tenant) => ({
        heading: 'Open the billing portfolio',
        explain: [`This link opens the milestone billing portfolio of ${portalName(tenant)}.`],
        submit: `Open the portfolio of ${tenant.name}`,
      }),
    }),
  );
  router.post('/app/sign-in', ...confirmed(ctx), async (req, res) => {
    const token = confirmedLink(req);
    const link = token ? await redeemSignInLink(ctx.db, token, 'portfolio') : undefined;
    if (!link) throw expiredSignIn();
    await startSession(ctx.db, res, { tenantId: link.tenantId, userEmail: link.userEmail }, secure);
    res.redirect(303, '/app/portfolio');
  });

  /** A bookkeeper's share link: reusable until it expires or is revoked; the session only looks. */
  router.get(
    '/app/shared',
    confirmationRoute(ctx, {
      find: (token) => findShareLink(ctx.db, token),
      expired: expiredShare,
      page: (tenant) => ({
        heading: 'Open a shared billing portfolio',
        explain: [
          `${portalName(tenant)} shared its milestone billing portfolio with you, read-only: you can look and export, not change anything.`,
        ],
        submit: `Open the portfolio of ${tenant.name}`,
      }),
    }),
  );
  router.post('/app/shared', ...confirmed(ctx), async (req, res) => {
    const token = confirmedLink(req);
    const link = token ? await redeemShareLink(ctx.db, token) : undefined;
    if (!link) throw expiredShare();
    await startSession(
      ctx.db,
      res,
      { tenantId: link.tenantId, userEmail: null, shareLinkId: link.id },
      secure,
    );
    res.redirect(303, '/app/portfolio');
  });

  /** Signs this browser out (the pages' "Sign out"). */
  router.post(
    '/app/sign-out',
    sameOriginOnly(ctx.config.publicUrl),
    requireSession(ctx.db),
    express.urlencoded({ extended: false, limit: '2kb' }),
    requireCsrf(ctx.encryptionKey),
    async (req, res) => {
      await endSession(ctx.db, req, res);
      res.type('html').send(
        page({
          title: 'Signed out',
          heading: 'Signed out',
          body: ['This browser is signed out of the billing portfolio. Open it again from HubSpot.'],
        }),
      );
    },
  );
  return router;
}
