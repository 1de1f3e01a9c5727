-- posflow report basket: how big receipts are, and what a receipt is worth.
--
-- One row per basket size (lines on the receipt, dw.fact_transaction.line_count), smallest
-- first, then one row for all receipts (basket_size null; `posflow report` shows it as "all"):
-- receipts, their share of all receipts (percent), Σ total, the average receipt (Σ total /
-- receipts) and the average units per receipt (Σ quantity / receipts; returns count negative).
-- Percentages and averages are rounded half away from zero to 0.01.
--
-- Reads the facts, dw.fact_transaction (no aggregate keeps the line count); the sale_date range
-- lets PostgreSQL skip the monthly partitions outside it. The store filter covers every version
-- of the store (all its dw.dim_store rows).
-- Parameters, each null for "no filter":
--   $1 date   first store-local sale date, inclusive
--   $2 date   last store-local sale date, inclusive
--   $3 text   store_id (S001)
-- By hand (the shell pastes this file into a prepared statement):
--   psql postgresql://127.0.0.1:5432/posflow \
--     -c "prepare report(date, date, text) as $(cat sql/reports/basket.sql)" \
--     -c "execute report('2024-02-01', '2024-02-29', null)"
select ft.line_count as basket_size,
       count(*) as transactions,
       round(100 * count(*)::numeric
               / sum(count(*)) over (partition by grouping(ft.line_count)), 2) as transactions_pct,
       sum(ft.total) as total,
       round(avg(ft.total), 2) as average_receipt,
       round(avg(ft.item_count), 2) as average_items
from dw.fact_transaction ft
where ft.sale_date between coalesce($1::date, '-infinity'::date)
                       and coalesce($2::date, 'infinity'::date)
  and ($3::text is null
       or ft.store_key in (select s.store_key from dw.dim_store s where s.store_id = $3::text))
group by grouping sets ((ft.line_count), ())
having count(*) > 0
order by grouping(ft.line_count), ft.line_count
