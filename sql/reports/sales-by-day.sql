-- posflow report sales-by-day: what the chain (or one store) sold on each store-local day.
--
-- One row per day with sales, oldest first: the weekday, how many stores sold, receipts, units
-- (Σ quantity; returns count negative), subtotal, tax, total, and the average receipt (total /
-- receipts, rounded half away from zero to the cent).
--
-- Reads dw.agg_daily_store_sales (kept by the ETL in the same transaction as the facts).
-- Parameters, each null for "no filter":
--   $1 date   first store-local sale date, inclusive
--   $2 date   last store-local sale date, inclusive
--   $3 text   store_id (S001)
-- By hand (the shell pastes this file into a prepared statement):
--   psql postgresql://127.0.0.1:5432/posflow \
--     -c "prepare report(date, date, text) as $(cat sql/reports/sales-by-day.sql)" \
--     -c "execute report('2024-02-01', '2024-02-29', 'S001')"
select to_char(to_date(a.date_key::text, 'YYYYMMDD'), 'YYYY-MM-DD') as sale_date,
       to_char(to_date(a.date_key::text, 'YYYYMMDD'), 'FMDay') as weekday,
       count(distinct a.store_id) as stores,
       sum(a.transactions)::bigint as transactions,
       sum(a.items)::bigint as items,
       sum(a.subtotal) as subtotal,
       sum(a.tax) as tax,
       sum(a.total) as total,
       round(sum(a.total) / nullif(sum(a.transactions), 0), 2) as average_receipt
from dw.agg_daily_store_sales a
where a.date_key between coalesce(to_char($1::date, 'YYYYMMDD')::integer, 0)
                     and coalesce(to_char($2::date, 'YYYYMMDD')::integer, 99999999)
  and ($3::text is null or a.store_id = $3::text)
group by a.date_key
order by a.date_key
