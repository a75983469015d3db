import express, { type Request, type RequestHandler, type Response } from 'express';
import { z } from 'zod';
import type { AppContext } from '../context.ts';
import { findTenant, type Tenant } from '../tenants/repository.ts';
import { confirmationToken, requireConfirmation } from './csrf.ts';
import { page } from './pages.ts';
import { sameOriginOnly } from './security.ts';
import { signedInTenant } from './session.ts';

/** A link's token, in its URL and in the form its page posts. */
const LinkToken = z.object({ link: z.string().regex(/^[A-Za-z0-9_-]{16,128}$/) });

/** How a link's page names where it leads: the portal, as the tenant was installed. */
export const portalName = (tenant: Tenant) => `${tenant.name} (HubSpot portal ${tenant.portalId})`;

/**
 * A link that signs a browser in never does so on opening: it shows whose portal it leads to, and
 * what becomes of a session this browser already has, and only the page's own same-origin POST
 * (with its token) goes on. So a link someone else minted cannot silently swap a user's session.
 */
async function confirmationPage(
  ctx: AppContext,
  req: Request,
  res: Response,
  opts: { tenant: Tenant; action: string; link: string; heading: string; explain: string[]; submit: string },
): Promise<void> {
  const current = await signedInTenant(ctx.db, req);
  const other = current && current !== opts.tenant.id ? await findTenant(ctx.db, current) : undefined;
  const secure = ctx.config.publicUrl.startsWith('https:');
  res.type('html').send(
    page({
      title: opts.heading,
      heading: opts.heading,
      body: [
        ...opts.explain,
        ...(other
          ? [`This browser is signed in to ${portalName(other)}. Continuing signs it out of that portal.`]
          : []),
        'If you did not expect this link, close this page: nothing happens until you continue.',
      ],
      form: {
        action: opts.action,
        fields: { link: opts.link, _csrf: confirmationToken(ctx.encryptionKey, req, res, secure) },
        submit: opts.submit,
      },
    }),
  );
}

/**
 * The GET of a link that signs in: its page, naming the portal the link's tenant is, with a form
 * that posts back to the same path; `expired` when the link is no good.
 */
export function confirmationRoute(
  ctx: AppContext,
  opts: {
    find: (token: string) => Promise<{ tenantId: string } | undefined>;
    expired: () => Error;
    page: (tenant: Tenant) => { heading: string; explain: string[]; submit: string };
  },
): RequestHandler {
  return async (req, res) => {
    const query = LinkToken.safeParse(req.query);
    const link = query.success ? await opts.find(query.data.link) : undefined;
    const tenant = link && (await findTenant(ctx.db, link.tenantId));
    if (!query.success || !tenant) throw opts.expired();
    await confirmationPage(ctx, req, res, {
      tenant,
      action: `${req.baseUrl}${req.path}`,
      link: query.data.link,
      ...opts.page(tenant),
    });
  };
}

/** What the POST of a confirmation page must be: same origin, its form, the token its page set. */
export const confirmed = (ctx: AppContext): RequestHandler[] => [
  sameOriginOnly(ctx.config.publicUrl),
  express.urlencoded({ extended: false, limit: '2kb' }),
  requireConfirmation(ctx.encryptionKey),
];

/** The link token a confirmed form carries. */
export const confirmedLink = (req: Request) => LinkToken.safeParse(req.body).data?.link;
