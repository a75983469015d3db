import { Router } from 'express';
import { z } from 'zod';
import { cashForecast, forecastWeek } from '../../../billing/forecast.ts';
import type { AppContext } from '../../../context.ts';
import { CalendarDate, Currency } from '../../../domain/values.ts';
import { requireSession } from '../../session.ts';
import {
  appPage,
  exportLink,
  filterQuery,
  grouped,
  h,
  type PageContext,
  pageContext,
  shown,
} from './layout.ts';

type Forecast = Awaited<ReturnType<typeof cashForecast>>;
type Series = Forecast['currencies'][number];
type Week = Series['weeks'][number];
type Picked = Awaited<ReturnType<typeof forecastWeek>>;

const PickedWeek = z.object({ week: CalendarDate, weekCurrency: Currency });

export function forecastPageRoutes(ctx: AppContext): Router {
  const router = Router();
  router.get('/app/forecast', requireSession(ctx.db), async (req, res) => {
    const page = await pageContext(ctx, req, res);
    const pick = PickedWeek.safeParse(req.query);
    const [data, picked] = await Promise.all([
      cashForecast(ctx.db, page.tenant.id, page.filters, ctx.clock.today()),
      pick.success
        ? forecastWeek(
            ctx.db,
            page.tenant.id,
            pick.data.week,
            pick.data.weekCurrency,
            page.filters,
            ctx.clock.today(),
          )
        : undefined,
    ]);
    res.type('html').send(
      appPage(page, {
        title: 'Cash-flow forecast',
        path: '/app/forecast',
        body: forecastBody(data, page, picked),
      }),
    );
  });
  return router;
}

function forecastBody(data: Forecast, page: PageContext, picked: Picked | undefined): string {
  if (data.currencies.length === 0) return '<p>No billing schedule yet: nothing to forecast.</p>';
  const intro = `<p>Expected receipts by week (weeks start on Monday): a planned milestone is expected on its planned date plus its payment terms, an invoice on its due date; what is past due counts this week. The 8 weeks before this one show what was received. <span class="tag cluster">Cluster</span> marks a week expecting at least twice the median week, <span class="tag gap">Gap</span> a week expecting nothing. Select a bar or a week for the deals behind it.</p>`;
  return `${intro}${picked ? pickedWeek(picked) : ''}${data.currencies
    .map((s) => currencySection(s, data.thisWeek, page))
    .join('')}${exportLink('forecast', page.filters, 'the forecast')}`;
}

const W = 22;
const GAP = 4;
const H = 180;
const TOP = 16;
const LEFT = 8;

const COLORS = { received: '#7c98b6', expected: '#0b5e86', cluster: '#c0392b' } as const;

/** The page again with this week's deals listed above the charts. */
const weekHref = (page: PageContext, currency: string, week: string) => {
  const q = filterQuery(page.filters);
  return `/app/forecast${q ? `${q}&` : '?'}week=${week}&weekCurrency=${currency}#week-deals`;
};

function barLabel(w: Week, currency: string): string {
  const what = w.kind === 'received' ? 'received' : 'expected';
  const mark = w.mark === 'cluster' ? ' (cluster)' : w.mark === 'gap' ? ' (gap: nothing expected)' : '';
  const more = Number(w.amount.amount) > 0 ? '; select for its deals' : '';
  return `Week of ${w.week}: ${currency} ${grouped(w.amount.amount)} ${what}${mark}${more}`;
}

/** One server-drawn bar chart per currency: amounts in different currencies never share an axis. */
function chart(s: Series, thisWeek: string, page: PageContext): string {
  const values = s.weeks.map((w) => Number(w.amount.amount));
  const max = Math.max(...values, 0) || 1;
  const y = (v: number) => TOP + H - (v / max) * H;
  const width = LEFT + s.weeks.length * (W + GAP) + 60;
  const bars = s.weeks
    .map((w, i) => {
      const x = LEFT + i * (W + GAP);
      const v = Number(w.amount.amount);
      const label = barLabel(w, s.currency);
      const fill = w.mark === 'cluster' ? COLORS.cluster : COLORS[w.kind];
      const bar =
        v > 0
          ? `<rect x="${x}" y="${y(v).toFixed(1)}" width="${W}" height="${(TOP + H - y(v)).toFixed(1)}" fill="${fill}"/>`
          : w.kind === 'expected'
            ? `<rect x="${x}" y="${TOP + H - 6}" width="${W}" height="6" fill="none" stroke="#33475b" stroke-dasharray="3 2"/>`
            : '';
      const tick =
        i % 4 === 0 || w.week === thisWeek
          ? `<text x="${x + W / 2}" y="${TOP + H + 16}" text-anchor="middle" font-size="10" fill="#33475b">${h(w.week.slice(5))}</text>`
          : '';
      const target = v > 0 ? ` href="${h(weekHref(page, s.currency, w.week))}"` : '';
      return `<a${target} aria-label="${h(label)}" data-week="${h(w.week)}" data-mark="${w.mark ?? ''}"><title>${h(label)}</title><rect x="${x}" y="${TOP}" width="${W}" height="${H}" fill="transparent"/>${bar}</a>${tick}`;
    })
    .join('');
  const median = Number(s.median.amount);
  const medianLine =
    median > 0
      ? `<line x1="${LEFT}" x2="${width - 60}" y1="${y(median).toFixed(1)}" y2="${y(median).toFixed(1)}" stroke="#b85c00" stroke-dasharray="4 3"/><text x="${width - 56}" y="${(y(median) + 4).toFixed(1)}" font-size="10" fill="#8a4600">median</text>`
      : '';
  const nowX = LEFT + s.weeks.findIndex((w) => w.week === thisWeek) * (W + GAP) - GAP / 2;
  return `<svg viewBox="0 0 ${width} ${TOP + H + 24}" width="100%" style="max-width:${width}px" role="group" aria-label="${h(`Cash by week in ${s.currency}`)}">
<line x1="${nowX}" x2="${nowX}" y1="0" y2="${TOP + H}" stroke="#33475b"/><text x="${nowX + 3}" y="10" font-size="10" fill="#33475b">this week</text>
${bars}${medianLine}<line x1="${LEFT}" x2="${width - 60}" y1="${TOP + H}" y2="${TOP + H}" stroke="#33475b"/></svg>`;
}

function pickedWeek(p: Picked): string {
  const rows = p.deals
    .map(
      (d) =>
        `<tr><th scope="row"><a href="/app/deals/${encodeURIComponent(d.dealId)}">${h(d.dealName ?? `Deal ${d.dealId}`)}</a></th><td class="n">${shown(d.amount)}</td><td>${d.includesOverdue ? 'includes past due' : ''}</td></tr>`,
    )
    .join('');
  const more = p.dealCount > p.deals.length ? `<p>and ${p.dealCount - p.deals.length} more deals.</p>` : '';
  return `<section id="week-deals" aria-labelledby="week-deals-h"><h2 id="week-deals-h">Deals in the week of ${h(p.week)} (${h(p.currency)})</h2>${
    rows
      ? `<table><thead><tr><th scope="col">Deal</th><th scope="col" class="n">Amount</th><th scope="col"><span class="sr">Note</span></th></tr></thead><tbody>${rows}</tbody></table>${more}`
      : '<p>No deal has cash in this week.</p>'
  }</section>`;
}

function currencySection(s: Series, thisWeek: string, page: PageContext): string {
  const clusters = s.weeks.filter((w) => w.mark === 'cluster').map((w) => w.week);
  const gaps = s.weeks.filter((w) => w.mark === 'gap').map((w) => w.week);
  const summary = `<p>Median week ${shown(s.median)}. ${
    clusters.length ? `Clusters: ${clusters.map(h).join(', ')}.` : 'No cluster.'
  } ${gaps.length ? `${gaps.length} week${gaps.length > 1 ? 's' : ''} expecting nothing.` : 'No empty week.'}</p>`;
  const rows = s.weeks
    .filter((w) => Number(w.amount.amount) > 0 || w.mark === 'gap')
    .map((w) => {
      const mark = w.mark
        ? `<span class="tag ${w.mark}">${w.mark === 'cluster' ? 'Cluster' : 'Gap'}</span>`
        : '';
      const deals =
        Number(w.amount.amount) > 0
          ? `<a href="${h(weekHref(page, s.currency, w.week))}" aria-label="${h(`Deals in the week of ${w.week}`)}">Deals</a>`
          : '—';
      return `<tr data-week="${h(w.week)}" data-mark="${w.mark ?? ''}"><th scope="row">${h(w.week)}</th><td>${w.kind === 'received' ? 'Received' : 'Expected'}${w.includesOverdue ? ' (includes past due)' : ''} ${mark}</td><td class="n">${h(grouped(w.amount.amount))}</td><td>${deals}</td></tr>`;
    })
    .join('');
  return `<section aria-labelledby="forecast-${h(s.currency)}"><h2 id="forecast-${h(s.currency)}">${h(s.currency)}</h2>${summary}${chart(s, thisWeek, page)}
<table><caption>Weeks in ${h(s.currency)} with cash, and empty weeks</caption><thead><tr><th scope="col">Week of</th><th scope="col">Kind</th><th scope="col" class="n">Amount (${h(s.currency)})</th><th scope="col">Deals</th></tr></thead><tbody>${rows}</tbody></table></section>`;
}
