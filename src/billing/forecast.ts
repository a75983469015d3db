import { type SQL, sql } from 'drizzle-orm';
import { addDays, type CalendarDate } from '../domain/dates.ts';
import { markWeeks, weekOf, weeksFrom } from '../domain/forecast.ts';
import { moneyView } from '../schedules/view.ts';
import { type Queryable, rowsOf } from '../store/db.ts';
import { invoicePushes, milestones, qboPaymentLinks, schedules } from '../store/schema.ts';
import { balanceInQuickBooks, filterConditions, type PortfolioFilters } from './portfolio-filters.ts';

export const FORECAST_WEEKS = 26;
/** Weeks before this one shown with what actually came in. */
export const PAST_WEEKS = 8;
/** Deals named for a week; the rest are counted. */
const WEEK_DEALS = 50;

/** Days from invoice to due date of the milestone's terms, else the schedule's (see domain/terms.ts). */
const termDays = sql`(case
  when jsonb_typeof(coalesce(${milestones.paymentTerms}, ${schedules.paymentTerms})) = 'object'
    then (coalesce(${milestones.paymentTerms}, ${schedules.paymentTerms}) ->> 'customDays')::int
  when coalesce(${milestones.paymentTerms}, ${schedules.paymentTerms}) #>> '{}' = 'due_on_receipt' then 0
  else substr(coalesce(${milestones.paymentTerms}, ${schedules.paymentTerms}) #>> '{}', 5)::int
end)`;

/** The Monday of a date's week, in day arithmetic (2000-01-03 was a Monday): no time zone involved. */
const monday = (date: SQL) => sql`(${date} - (((${date} - date '2000-01-03') % 7 + 7) % 7))`;

interface WeekRow {
  currency: string;
  week: string;
  amount: string;
  overdue: boolean;
}

/**
 * Where cash comes from, each a row per milestone or payment with its currency, week, deal and
 * amount: planned milestones (planned date plus terms), open invoices (due date, what is still
 * owed) in the horizon, past-due cash counted this week; payments QuickBooks recorded in the
 * weeks before.
 */
function cashSources(tenantId: string, filters: PortfolioFilters, asOf: CalendarDate): SQL[] {
  const thisWeek = weekOf(asOf);
  const end = addDays(thisWeek, 7 * FORECAST_WEEKS);
  const firstPast = addDays(thisWeek, -7 * PAST_WEEKS);
  const where = filterConditions(filters) ?? sql`true`;
  const expected = (on: SQL) => ({
    week: sql`greatest(${monday(on)}, ${thisWeek}::date)`,
    overdue: sql`${on} < ${asOf}::date`,
    horizon: sql`${on} < ${end}::date`,
  });
  const planned = expected(sql`(${milestones.plannedDate} + ${termDays})`);
  const invoiced = expected(sql`${invoicePushes.dueDate}`);
  return [
    sql`select ${schedules.currency} as currency, ${planned.week} as week, ${schedules.dealId} as deal_id,
               ${milestones.amount} as amount, ${planned.overdue} as overdue
          from ${milestones}
          join ${schedules} on ${schedules.id} = ${milestones.scheduleId}
          -- No invoice yet: the filters may name its columns (the customer), which are null here.
          left join ${invoicePushes} on false
         where ${milestones.tenantId} = ${tenantId} and ${milestones.status} = 'planned'
           and ${planned.horizon} and ${where}`,
    sql`select ${invoicePushes.currency} as currency, ${invoiced.week} as week, ${schedules.dealId} as deal_id,
               ${balanceInQuickBooks} as amount,
               ${invoiced.overdue} as overdue
          from ${invoicePushes}
          join ${milestones} on ${milestones.id} = ${invoicePushes.milestoneId}
          join ${schedules} on ${schedules.id} = ${milestones.scheduleId}
         where ${invoicePushes.tenantId} = ${tenantId}
           and ${invoicePushes.status} in ('pending', 'sending', 'created', 'failed')
           and ${balanceInQuickBooks} > 0 and ${invoiced.horizon} and ${where}`,
    sql`select ${invoicePushes.currency} as currency, ${monday(sql`${qboPaymentLinks.receivedOn}`)} as week,
               ${schedules.dealId} as deal_id, ${qboPaymentLinks.amount} as amount, false as overdue
          from ${qboPaymentLinks}
          join ${invoicePushes} on ${invoicePushes.tenantId} = ${qboPaymentLinks.tenantId}
                               and ${invoicePushes.qboInvoiceId} = ${qboPaymentLinks.qboInvoiceId}
          join ${milestones} on ${milestones.id} = ${invoicePushes.milestoneId}
          join ${schedules} on ${schedules.id} = ${milestones.scheduleId}
         where ${qboPaymentLinks.tenantId} = ${tenantId}
           and ${qboPaymentLinks.receivedOn} >= ${firstPast}::date and ${qboPaymentLinks.receivedOn} < ${thisWeek}::date
           and ${where}`,
  ];
}

/**
 * Expected cash by week for the next 26 weeks, per currency: a planned milestone is expected on
 * its planned date plus its payment terms, an accepted or invoiced one on its invoice's due date
 * (what is still open); what is past due is expected this week. The 8 weeks before show the
 * payments that came in. Each week is marked a cluster or a gap; the deals behind it are
 * `forecastWeek`, asked when a person picks the week. The sources are summed by week apart, at
 * once (each on its own connection), and added up here.
 */
export async function cashForecast(
  db: Queryable,
  tenantId: string,
  filters: PortfolioFilters,
  asOf: CalendarDate,
) {
  const thisWeek = weekOf(asOf);
  const parts = await Promise.all(
    cashSources(tenantId, filters, asOf).map((source) =>
      rowsOf<WeekRow>(
        db,
        sql`select currency, week::text as week, sum(amount)::text as amount, bool_or(overdue) as overdue
              from (${source}) cash group by 1, 2`,
      ),
    ),
  );
  const byWeek = new Map<string, { minor: number; overdue: boolean }>();
  for (const r of parts.flat()) {
    const key = `${r.currency} ${r.week}`;
    const seen = byWeek.get(key) ?? { minor: 0, overdue: false };
    byWeek.set(key, { minor: seen.minor + Number(r.amount), overdue: seen.overdue || r.overdue });
  }
  const weeks = weeksFrom(addDays(thisWeek, -7 * PAST_WEEKS), PAST_WEEKS + FORECAST_WEEKS);
  const currencies = [...new Set(parts.flat().map((r) => r.currency))].sort();
  return {
    asOf,
    thisWeek,
    currencies: currencies.map((currency) => {
      const series = weeks.map((week) => ({
        week,
        kind: week < thisWeek ? ('received' as const) : ('expected' as const),
        cash: byWeek.get(`${currency} ${week}`),
      }));
      const { median, marks } = markWeeks(
        series.filter((w) => w.kind === 'expected').map((w) => w.cash?.minor ?? 0),
      );
      return {
        currency,
        median: moneyView(Math.round(median), currency),
        weeks: series.map((w, i) => ({
          week: w.week,
          kind: w.kind,
          mark: i < PAST_WEEKS ? null : marks[i - PAST_WEEKS]!,
          amount: moneyView(w.cash?.minor ?? 0, currency),
          includesOverdue: w.cash?.overdue ?? false,
        })),
      };
    }),
  };
}

/** The deals behind one week's bar, biggest first (at most 50, and how many there are). */
export async function forecastWeek(
  db: Queryable,
  tenantId: string,
  week: CalendarDate,
  currency: string,
  filters: PortfolioFilters,
  asOf: CalendarDate,
) {
  const rows = await rowsOf<{
    deal_id: string;
    deal_name: string | null;
    amount: string;
    overdue: boolean;
    total: number;
  }>(
    db,
    sql`with cash as (${sql.join(cashSources(tenantId, { ...filters, currency }, asOf), sql` union all `)}),
    picked as (
      select deal_id, sum(amount) as amount, bool_or(overdue) as overdue, count(*) over ()::int as total
        from cash where week = ${weekOf(week)}::date group by deal_id
       order by amount desc, deal_id limit ${WEEK_DEALS}
    )
    select picked.deal_id, ${schedules.dealName} as deal_name, picked.amount::text, picked.overdue, picked.total
      from picked left join ${schedules} on ${schedules.tenantId} = ${tenantId} and ${schedules.dealId} = picked.deal_id
     order by picked.amount desc, picked.deal_id`,
  );
  return {
    week: weekOf(week),
    currency,
    dealCount: rows[0]?.total ?? 0,
    deals: rows.map((r) => ({
      dealId: r.deal_id,
      dealName: r.deal_name,
      amount: moneyView(Number(r.amount), currency),
      includesOverdue: r.overdue,
    })),
  };
}
