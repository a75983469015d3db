import type { Request, Response } from 'express';
import { filterChoices, type PortfolioFilters } from '../../../billing/portfolio.ts';
import type { AppContext } from '../../../context.ts';
import type { DealDirectory } from '../../../hubspot/index.ts';
import { escapeHtml as h } from '../../../security/html.ts';
import { findTenant, portalOf, type Tenant } from '../../../tenants/repository.ts';
import { csrfToken } from '../../csrf.ts';
import { HttpProblem } from '../../problem.ts';
import { type Session, sessionOf } from '../../session.ts';
import { portfolioFilters } from '../api/portfolio.ts';

export { h };

export interface PageContext {
  tenant: Tenant;
  session: Session;
  /** The session's form token (Sign out, Retry). */
  csrf: string;
  filters: PortfolioFilters;
  choices: Awaited<ReturnType<typeof filterChoices>>;
  directory: DealDirectory;
}

export async function tenantOf(ctx: AppContext, res: Response): Promise<Tenant> {
  const tenant = await findTenant(ctx.db, sessionOf(res).tenantId);
  if (!tenant) throw new HttpProblem('unauthorized', 'sign in again from HubSpot');
  return tenant;
}

/** Owner and pipeline names from HubSpot; the ids alone when HubSpot cannot say right now. */
export async function directoryOf(ctx: AppContext, tenant: Tenant): Promise<DealDirectory> {
  try {
    return await ctx.hubspot.dealDirectory(portalOf(tenant), { waitMs: 2000 });
  } catch (error) {
    ctx.logger.warn({ tenantId: tenant.id, err: error }, 'HubSpot owners and pipelines unavailable');
    return { owners: [], pipelines: [] };
  }
}

export const dealUrl = (tenant: Tenant, dealId: string) =>
  `https://app.hubspot.com/contacts/${encodeURIComponent(tenant.portalId)}/record/0-3/${encodeURIComponent(dealId)}`;

/** The filter values as a query string, so links and exports keep what the user chose. */
export function filterQuery(filters: PortfolioFilters): string {
  const q = new URLSearchParams(
    Object.entries(filters).filter((e): e is [string, string] => typeof e[1] === 'string'),
  ).toString();
  return q ? `?${q}` : '';
}

const NAV = [
  { href: '/app/portfolio', label: 'Portfolio' },
  { href: '/app/forecast', label: 'Cash-flow forecast' },
  { href: '/app/aging', label: 'Receivables aging' },
] as const;

function filterForm(page: PageContext, action: string): string {
  const { filters, choices, directory } = page;
  const select = (name: keyof PortfolioFilters, label: string, options: { value: string; text: string }[]) =>
    `<label>${h(label)} <select name="${name}"><option value="">All</option>${options
      .map(
        (o) =>
          `<option value="${h(o.value)}"${filters[name] === o.value ? ' selected' : ''}>${h(o.text)}</option>`,
      )
      .join('')}</select></label>`;
  const named = (ids: string[], names: { id: string; name: string }[], what: string) =>
    ids.map((id) => ({ value: id, text: names.find((n) => n.id === id)?.name ?? `${what} ${id}` }));
  return `<form class="filters" method="get" action="${h(action)}" aria-label="Filters">
${select('ownerId', 'Owner', named(choices.ownerIds, directory.owners, 'Owner'))}
${select(
  'pipelineId',
  'Pipeline',
  named(
    choices.pipelineIds,
    directory.pipelines.map((p) => ({ id: p.id, name: p.label })),
    'Pipeline',
  ),
)}
${select(
  'customerId',
  'Customer',
  choices.customers.map((c) => ({ value: c.id, text: c.name })),
)}
${select(
  'currency',
  'Currency',
  choices.currencies.map((c) => ({ value: c, text: c })),
)}
<button type="submit">Apply</button> <a href="${h(action)}">Clear filters</a></form>`;
}

const STYLE = `body{font:15px/1.5 system-ui,sans-serif;margin:0;color:#213343;background:#f5f8fa}
header{background:#213343;color:#fff;padding:.75rem 1.5rem}header a{color:#fff}
header nav ul{list-style:none;display:flex;gap:1.5rem;margin:.25rem 0 0;padding:0}
header nav a[aria-current=page]{font-weight:700;text-decoration-thickness:3px}
main{max-width:72rem;margin:0 auto;padding:1rem 1.5rem 3rem}h1{font-size:1.5rem;margin:.5rem 0}
h2{font-size:1.2rem;margin:2rem 0 .5rem}section{background:#fff;border:1px solid #cbd6e2;border-radius:4px;padding:.5rem 1rem 1rem;margin:1rem 0}
table{border-collapse:collapse;width:100%;margin:.5rem 0}caption{text-align:left;font-weight:600;padding:.25rem 0}
th,td{border-bottom:1px solid #cbd6e2;padding:.4rem .6rem;text-align:left;vertical-align:top}td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}
tfoot th,tfoot td{font-weight:700;border-top:2px solid #213343}
a{color:#0b5e86}button{font:inherit;padding:.25rem .8rem;border:1px solid #0b5e86;background:#0b5e86;color:#fff;border-radius:3px;cursor:pointer}
button:focus-visible,a:focus-visible,select:focus-visible{outline:3px solid #b85c00;outline-offset:2px}
.filters{display:flex;flex-wrap:wrap;gap:.75rem 1.25rem;align-items:end;background:#fff;border:1px solid #cbd6e2;padding:.75rem 1rem;border-radius:4px}
.filters label{display:flex;flex-direction:column;font-size:.85rem;font-weight:600}.filters select{font:inherit;min-width:10rem}
.done{background:#e5f5f8;padding:.5rem 1rem;border-left:4px solid #00a4bd}.readonly{background:#fef8f0;padding:.5rem 1rem;border-left:4px solid #b85c00}
.export{font-size:.9rem}.tag{display:inline-block;padding:0 .4rem;border-radius:3px;font-size:.8rem;font-weight:600}
.tag.cluster{background:#fde8e7;color:#8a1c14}.tag.gap{background:#eaf0f6;color:#33475b}
.signout{display:inline;margin-left:1rem}.signout button{background:transparent;border-color:#fff;padding:0 .6rem}
.sr{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}`;

/** The app's pages share one frame: who is signed in, the navigation, the filters, the content. */
export function appPage(
  page: PageContext,
  opts: { title: string; path: string; body: string; notice?: string | undefined; filters?: boolean },
): string {
  const nav = NAV.map(
    (n) =>
      `<li><a href="${n.href}${filterQuery(page.filters)}"${n.href === opts.path ? ' aria-current="page"' : ''}>${n.label}</a></li>`,
  ).join('');
  const who = page.session.shareLinkId
    ? '<p class="readonly" role="note">Shared read-only: you can look and export; changes are made by the team in HubSpot.</p>'
    : '';
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><title>${h(opts.title)} · Milestone Billing</title>
<style>${STYLE}</style></head><body>
<header><div>Milestone Billing · ${h(page.tenant.name)} <form method="post" action="/app/sign-out" class="signout"><input type="hidden" name="_csrf" value="${h(page.csrf)}"><button type="submit">Sign out</button></form></div><nav aria-label="Pages"><ul>${nav}</ul></nav></header>
<main><h1>${h(opts.title)}</h1>${who}
${opts.notice ? `<p class="done" role="status">${h(opts.notice)}</p>` : ''}
${opts.filters === false ? '' : filterForm(page, opts.path)}
${opts.body}
</main></body></html>`;
}

/** A link to the CSV of one table, with the page's filters. */
export const exportLink = (table: string, filters: PortfolioFilters, what: string) =>
  `<p class="export"><a href="/app/export/${table}.csv${filterQuery(filters)}" download>Download ${h(what)} as CSV</a></p>`;

/** The pages' own query parameters: a notice after Retry, the forecast week picked. */
const PAGE_PARAMS = ['done', 'milestone', 'week', 'weekCurrency'];

/** What every page needs: the signed-in tenant, the filters chosen, and what they can be. */
export async function pageContext(ctx: AppContext, req: Request, res: Response): Promise<PageContext> {
  const tenant = await tenantOf(ctx, res);
  const [choices, directory] = await Promise.all([
    filterChoices(ctx.db, tenant.id),
    directoryOf(ctx, tenant),
  ]);
  return {
    tenant,
    session: sessionOf(res),
    csrf: csrfToken(ctx.encryptionKey, req.header('cookie')),
    filters: portfolioFilters(req, PAGE_PARAMS),
    choices,
    directory,
  };
}

/** "12,000.00" from the wire's "12000.00", for people. */
export const grouped = (amount: string) => {
  const [whole, fraction] = amount.split('.');
  return `${whole!.replace(/\B(?=(\d{3})+(?!\d))/g, ',')}${fraction === undefined ? '' : `.${fraction}`}`;
};

/** A money view as people read it: "USD 12,000.00". */
export const shown = (m: { amount: string; currency: string }) => `${h(m.currency)} ${h(grouped(m.amount))}`;
