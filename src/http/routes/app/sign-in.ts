import express, { Router } from 'express';
import { z } from 'zod';
import type { AppContext } from '../../../context.ts';
import { findTenant } from '../../../tenants/repository.ts';
import { findShareLink, redeemShareLink } from '../../../tenants/share-links.ts';
import { findSignInLink, redeemSignInLink } from '../../../tenants/sign-in-links.ts';
import { requireConfirmation, requireCsrf } from '../../csrf.ts';
import { confirmationPage, portalName } from '../../link-confirmation.ts';
import { page } from '../../pages.ts';
import { HttpProblem } from '../../problem.ts';
import { sameOriginOnly } from '../../security.ts';
import { endSession, requireSession, startSession } from '../../session.ts';

const Link = z.object({ link: z.string().regex(/^[A-Za-z0-9_-]{16,128}$/) });
const Confirmed = z.object({ link: z.string().regex(/^[A-Za-z0-9_-]{16,128}$/), _csrf: z.string() });

/**
 * Where "Open portfolio" in HubSpot sends the browser (a single-use link, 5 minutes) and where a
 * bookkeeper's share link leads: a page that names the portal, then the session on confirming.
 */
export function signInRoutes(ctx: AppContext): Router {
  const router = Router();
  const secure = { secure: ctx.config.publicUrl.startsWith('https:') };
  const confirmed = [
    sameOriginOnly(ctx.config.publicUrl),
    express.urlencoded({ extended: false, limit: '2kb' }),
    requireConfirmation(ctx.encryptionKey),
  ];
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

  router.get('/app/sign-in', async (req, res) => {
    const query = Link.safeParse(req.query);
    const link = query.success ? await findSignInLink(ctx.db, query.data.link, 'portfolio') : undefined;
    const tenant = link && (await findTenant(ctx.db, link.tenantId));
    if (!query.success || !tenant) throw expiredSignIn();
    await confirmationPage(ctx, req, res, {
      tenant,
      action: '/app/sign-in',
      link: query.data.link,
      heading: 'Open the billing portfolio',
      explain: [`This link opens the milestone billing portfolio of ${portalName(tenant)}.`],
      submit: `Open the portfolio of ${tenant.name}`,
    });
  });
  router.post('/app/sign-in', ...confirmed, async (req, res) => {
    const form = Confirmed.safeParse(req.body);
    const link = form.success ? await redeemSignInLink(ctx.db, form.data.link, 'portfolio') : undefined;
    if (!link) throw expiredSignIn();
    await startSession(ctx.db, res, { tenantId: link.tenantId, userEmail: link.userEmail }, secure);
    res.redirect(303, '/app/portfolio');
  });

  /** A bookkeeper's share link: reusable until it expires or is revoked; the session only looks. */
  router.get('/app/shared', async (req, res) => {
    const query = Link.safeParse(req.query);
    const link = query.success ? await findShareLink(ctx.db, query.data.link) : undefined;
    const tenant = link && (await findTenant(ctx.db, link.tenantId));
    if (!query.success || !tenant) throw expiredShare();
    await confirmationPage(ctx, req, res, {
      tenant,
      action: '/app/shared',
      link: query.data.link,
      heading: 'Open a shared billing portfolio',
      explain: [
        `${portalName(tenant)} shared its milestone billing portfolio with you, read-only: you can look and export, not change anything.`,
      ],
      submit: `Open the portfolio of ${tenant.name}`,
    });
  });
  router.post('/app/shared', ...confirmed, async (req, res) => {
    const form = Confirmed.safeParse(req.body);
    const link = form.success ? await redeemShareLink(ctx.db, form.data.link) : undefined;
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
