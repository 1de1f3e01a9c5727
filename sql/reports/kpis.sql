-- posflow report kpis: the headline figures of a period, beside those of the period before it.
--
-- One row for the period ("current": store-local sale dates $1..$2) and, when both dates are
-- given, one for the previous period of equal length ("previous": as many days, ending the day
-- before $1), in that order: the period's first and last date (null: unbounded), receipts,
-- units (Σ quantity; returns count negative), total (Σ receipt totals, tax included), the
-- average receipt (total / receipts, rounded half away from zero to the cent; null without
-- receipts), and the returns: units on lines with a negative quantity and the Σ of their line
-- totals before tax, both as positive figures. A period without sales gives zeros.
--
-- Receipts, units and total read dw.agg_daily_store_sales, as sales-by-store does (so the
-- figures agree with it); the returns read dw.fact_sales_line (no aggregate keeps them apart),
-- whose sale_date range lets PostgreSQL skip the monthly partitions outside the period. The
-- store filter covers every version of the store.
-- Parameters, each null for "no filter":
--   $1 date   first store-local sale date, inclusive
--   $2 date   last store-local sale date, inclusive
--   $3 text   store_id (S001)
-- By hand (the shell pastes this file into a prepared statement):
--   psql postgresql://127.0.0.1:5432/posflow \
--     -c "prepare report(date, date, text) as $(cat sql/reports/kpis.sql)" \
--     -c "execute report('2024-02-08', '2024-02-14', null)"
with periods as (
  select 1 as position, 'current' as period, $1::date as first_date, $2::date as last_date
  union all
  select 2, 'previous', $1::date - ($2::date - $1::date + 1), $1::date - 1
  where $1::date is not null and $2::date is not null
)
select p.period,
       to_char(p.first_date, 'YYYY-MM-DD') as first_date,
       to_char(p.last_date, 'YYYY-MM-DD') as last_date,
       coalesce(s.transactions, 0) as transactions,
       coalesce(s.items, 0) as items,
       coalesce(s.total, 0.00) as total,
       round(s.total / nullif(s.transactions, 0), 2) as average_receipt,
       coalesce(r.returned_items, 0) as returned_items,
       coalesce(r.returned_amount, 0.00) as returned_amount
from periods p
left join lateral (
  select sum(a.transactions)::bigint as transactions,
         sum(a.items)::bigint as items,
         sum(a.total) as total
  from dw.agg_daily_store_sales a
  where a.date_key between coalesce(to_char(p.first_date, 'YYYYMMDD')::integer, 0)
                       and coalesce(to_char(p.last_date, 'YYYYMMDD')::integer, 99999999)
    and ($3::text is null or a.store_id = $3::text)
) s on true
left join lateral (
  select -sum(l.quantity)::bigint as returned_items,
         -sum(l.line_total) as returned_amount
  from dw.fact_sales_line l
  where l.quantity < 0
    and l.sale_date between coalesce(p.first_date, '-infinity'::date)
                        and coalesce(p.last_date, 'infinity'::date)
    and ($3::text is null
         or l.store_key in (select st.store_key from dw.dim_store st where st.store_id = $3::text))
) r on true
order by p.position
