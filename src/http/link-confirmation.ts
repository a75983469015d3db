import type { Request, Response } from 'express';
import type { AppContext } from '../context.ts';
import { findTenant, type Tenant } from '../tenants/repository.ts';
import { confirmationToken } from './csrf.ts';
import { page } from './pages.ts';
import { signedInTenant } from './session.ts';

/** How a link's page names where it leads: the portal, as the tenant was installed. */
export const portalName = (tenant: Tenant) => `${tenant.name} (HubSpot portal ${tenant.portalId})`;

/**
 * A link that signs a browser in never does so on opening: it shows whose portal it leads to, and
 * what becomes of a session this browser already has, and only the page's own same-origin POST
 * (with its token) goes on. So a link someone else minted cannot silently swap a user's session.
 */
export async function confirmationPage(
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
