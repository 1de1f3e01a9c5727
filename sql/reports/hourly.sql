-- posflow report hourly: when the stores are busy, by ISO weekday and store-local hour.
--
-- One row per (weekday, hour) with sales, Monday 00 h first: ISO weekday (1 = Monday ... 7 =
-- Sunday) and its name, the store-local hour (0..23), receipts, units (Σ quantity; returns count
-- negative), total, and the average receipt (total / receipts, rounded half away from zero to
-- the cent). Each receipt counts at its store's own wall-clock time.
--
-- Reads dw.agg_hourly_store_sales (kept by the ETL in the same transaction as the facts); the
-- weekday is that of the row's store-local date.
-- Parameters, each null for "no filter":
--   $1 date   first store-local sale date, inclusive
--   $2 date   last store-local sale date, inclusive
--   $3 text   store_id (S001)
-- By hand (the shell pastes this file into a prepared statement):
--   psql postgresql://127.0.0.1:5432/posflow \
--     -c "prepare report(date, date, text) as $(cat sql/reports/hourly.sql)" \
--     -c "execute report('2024-01-01', '2024-03-31', null)"
select extract(isodow from to_date(a.date_key::text, 'YYYYMMDD'))::integer as iso_weekday,
       to_char(to_date(a.date_key::text, 'YYYYMMDD'), 'FMDay') as weekday,
       a.hour,
       sum(a.transactions)::bigint as transactions,
       sum(a.items)::bigint as items,
       sum(a.total) as total,
       round(sum(a.total) / nullif(sum(a.transactions), 0), 2) as average_receipt
from dw.agg_hourly_store_sales a
where a.date_key between coalesce(to_char($1::date, 'YYYYMMDD')::integer, 0)
                     and coalesce(to_char($2::date, 'YYYYMMDD')::integer, 99999999)
  and ($3::text is null or a.store_id = $3::text)
group by 1, 2, a.hour
order by 1, a.hour
