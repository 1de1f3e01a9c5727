-- posflow report payment-mix: how customers pay.
--
-- One row per payment type used in the filter, the largest total first: receipts and their
-- share of all receipts (percent), Σ total and its share of all the money (percent).
-- Percentages are rounded half away from zero to 0.01.
--
-- Reads dw.agg_daily_payment_sales (kept by the ETL in the same transaction as the facts).
-- Parameters, each null for "no filter":
--   $1 date   first store-local sale date, inclusive
--   $2 date   last store-local sale date, inclusive
--   $3 text   store_id (S001)
-- By hand (the shell pastes this file into a prepared statement):
--   psql postgresql://127.0.0.1:5432/posflow \
--     -c "prepare report(date, date, text) as $(cat sql/reports/payment-mix.sql)" \
--     -c "execute report(null, null, null)"
with mix as (
  select a.payment_type,
         sum(a.transactions)::bigint as transactions,
         sum(a.total) as total
  from dw.agg_daily_payment_sales a
  where a.date_key between coalesce(to_char($1::date, 'YYYYMMDD')::integer, 0)
                       and coalesce(to_char($2::date, 'YYYYMMDD')::integer, 99999999)
    and ($3::text is null or a.store_id = $3::text)
  group by a.payment_type
)
select m.payment_type,
       m.transactions,
       round(100 * m.transactions::numeric / nullif(sum(m.transactions) over (), 0), 2)
         as transactions_pct,
       m.total,
       round(100 * m.total / nullif(sum(m.total) over (), 0), 2) as total_pct
from mix m
order by m.total desc, m.payment_type
