import { sql } from 'drizzle-orm';
import { addDays, type CalendarDate, today } from '../domain/dates.ts';
import { markWeeks, weekOf, weeksFrom } from '../domain/forecast.ts';
import { moneyView } from '../schedules/view.ts';
import { type Queryable, rowsOf } from '../store/db.ts';
import { invoicePushes, milestones, qboPaymentLinks, schedules } from '../store/schema.ts';
import { filterConditions, type PortfolioFilters } from './portfolio-filters.ts';

export const FORECAST_WEEKS = 26;
/** Weeks before this one shown with what actually came in. */
export const PAST_WEEKS = 8;
/** Deals named per bar; the rest are counted. */
const DEALS_PER_WEEK = 8;

/** Days from invoice to due date of the milestone's terms, else the schedule's (see domain/terms.ts). */
const termDays = sql`(case
  when jsonb_typeof(coalesce(${milestones.paymentTerms}, ${schedules.paymentTerms})) = 'object'
    then (coalesce(${milestones.paymentTerms}, ${schedules.paymentTerms}) ->> 'customDays')::int
  when coalesce(${milestones.paymentTerms}, ${schedules.paymentTerms}) #>> '{}' = 'due_on_receipt' then 0
  else substr(coalesce(${milestones.paymentTerms}, ${schedules.paymentTerms}) #>> '{}', 5)::int
end)`;

interface WeekRow {
  currency: string;
  week: string;
  deal_id: string;
  deal_name: string | null;
  amount: string;
  overdue: boolean;
  week_total: string;
  week_deals: number;
}

/**
 * Expected cash by week for the next 26 weeks, per currency: a planned milestone is expected on
 * its planned date plus its payment terms, an accepted or invoiced one on its invoice's due date
 * (what is still open); what is past due is expected this week. The 8 weeks before show the
 * payments that came in. Each week names its biggest deals and is marked a cluster or a gap.
 */
export async function cashForecast(
  db: Queryable,
  tenantId: string,
  filters: PortfolioFilters = {},
  asOf: CalendarDate = today(),
) {
  const thisWeek = weekOf(asOf);
  const end = addDays(thisWeek, 7 * FORECAST_WEEKS);
  const firstPast = addDays(thisWeek, -7 * PAST_WEEKS);
  const where = filterConditions(filters);
  const rows = await rowsOf<WeekRow>(
    db,
    sql`
    with expected as (
      select ${schedules.currency} as currency, ${schedules.dealId} as deal_id, ${schedules.dealName} as deal_name,
             ${milestones.amount} as amount, ${milestones.plannedDate} + ${termDays} as expected_on
        from ${milestones}
        join ${schedules} on ${schedules.id} = ${milestones.scheduleId}
        left join ${invoicePushes} on false
       where ${milestones.tenantId} = ${tenantId} and ${milestones.status} = 'planned' and ${where ?? sql`true`}
      union all
      select ${invoicePushes.currency}, ${schedules.dealId}, ${schedules.dealName},
             ${invoicePushes.amount} - least(${invoicePushes.paidAmount}, ${invoicePushes.amount}), ${invoicePushes.dueDate}
        from ${invoicePushes}
        join ${milestones} on ${milestones.id} = ${invoicePushes.milestoneId}
        join ${schedules} on ${schedules.id} = ${milestones.scheduleId}
       where ${invoicePushes.tenantId} = ${tenantId}
         and ${invoicePushes.status} in ('pending', 'sending', 'created', 'failed')
         and ${invoicePushes.paidAmount} < ${invoicePushes.amount} and ${where ?? sql`true`}
    ), received as (
      select ${invoicePushes.currency} as currency, ${schedules.dealId} as deal_id, ${schedules.dealName} as deal_name,
             ${qboPaymentLinks.amount} as amount, ${qboPaymentLinks.receivedOn} as expected_on
        from ${qboPaymentLinks}
        join ${invoicePushes} on ${invoicePushes.tenantId} = ${qboPaymentLinks.tenantId}
                             and ${invoicePushes.qboInvoiceId} = ${qboPaymentLinks.qboInvoiceId}
        join ${milestones} on ${milestones.id} = ${invoicePushes.milestoneId}
        join ${schedules} on ${schedules.id} = ${milestones.scheduleId}
       where ${qboPaymentLinks.tenantId} = ${tenantId}
         and ${qboPaymentLinks.receivedOn} >= ${firstPast}::date and ${qboPaymentLinks.receivedOn} < ${thisWeek}::date
         and ${where ?? sql`true`}
    ), weekly as (
      select currency, greatest(date_trunc('week', expected_on)::date, ${thisWeek}::date)::text as week,
             deal_id, max(deal_name) as deal_name, sum(amount) as amount, bool_or(expected_on < ${asOf}::date) as overdue
        from expected where expected_on < ${end}::date group by 1, 2, 3
      union all
      select currency, date_trunc('week', expected_on)::date::text, deal_id, max(deal_name), sum(amount), false
        from received group by 1, 2, 3
    ), ranked as (
      select *, sum(amount) over w as week_total, count(*) over w as week_deals,
             row_number() over (partition by currency, week order by amount desc, deal_id) as rank
        from weekly window w as (partition by currency, week)
    )
    select currency, week, deal_id, deal_name, amount::text, overdue, week_total::text, week_deals::int
      from ranked where rank <= ${DEALS_PER_WEEK} order by currency, week, rank`,
  );
  const weeks = weeksFrom(firstPast, PAST_WEEKS + FORECAST_WEEKS);
  const currencies = [...new Set(rows.map((r) => r.currency))];
  return {
    asOf,
    thisWeek,
    currencies: currencies.map((currency) => {
      const mine = rows.filter((r) => r.currency === currency);
      const series = weeks.map((week) => {
        const deals = mine.filter((r) => r.week === week);
        return {
          week,
          kind: week < thisWeek ? ('received' as const) : ('expected' as const),
          minor: Number(deals[0]?.week_total ?? 0),
          deals,
        };
      });
      const { median, marks } = markWeeks(series.filter((w) => w.kind === 'expected').map((w) => w.minor));
      const mark = (i: number) => (i < PAST_WEEKS ? null : marks[i - PAST_WEEKS]!);
      return {
        currency,
        median: moneyView(Math.round(median), currency),
        weeks: series.map((w, i) => ({
          week: w.week,
          kind: w.kind,
          mark: mark(i),
          amount: moneyView(w.minor, currency),
          dealCount: w.deals[0]?.week_deals ?? 0,
          includesOverdue: w.deals.some((d) => d.overdue),
          deals: w.deals.map((d) => ({
            dealId: d.deal_id,
            dealName: d.deal_name,
            amount: moneyView(Number(d.amount), currency),
          })),
        })),
      };
    }),
  };
}
