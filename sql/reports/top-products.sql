-- posflow report top-products: the products that brought in the most money.
--
-- The $4 best products by revenue (Σ line totals before tax, returns subtracted), ties by
-- product_id: rank, product, category, units (Σ quantity; returns count negative), revenue, and
-- its share of the revenue of ALL products in the filter (percent, rounded half away from zero
-- to 0.01). Name and category are those of the product's current dw.dim_product version.
--
-- Reads dw.agg_daily_product_sales (kept by the ETL in the same transaction as the facts).
-- Parameters, each null for "no filter":
--   $1 date      first store-local sale date, inclusive
--   $2 date      last store-local sale date, inclusive
--   $3 text      store_id (S001)
--   $4 integer   how many products (null: all); `posflow report` passes 10 unless --limit says
-- By hand (the shell pastes this file into a prepared statement):
--   psql postgresql://127.0.0.1:5432/posflow \
--     -c "prepare report(date, date, text, integer) as $(cat sql/reports/top-products.sql)" \
--     -c "execute report(null, null, 'S002', 5)"
with product_sales as (
  select a.product_id,
         sum(a.quantity)::bigint as quantity,
         sum(a.revenue) as revenue
  from dw.agg_daily_product_sales a
  where a.date_key between coalesce(to_char($1::date, 'YYYYMMDD')::integer, 0)
                       and coalesce(to_char($2::date, 'YYYYMMDD')::integer, 99999999)
    and ($3::text is null or a.store_id = $3::text)
  group by a.product_id
)
select row_number() over (order by ps.revenue desc, ps.product_id) as rank,
       ps.product_id,
       p.name as product,
       p.category,
       ps.quantity,
       ps.revenue,
       round(100 * ps.revenue / nullif(sum(ps.revenue) over (), 0), 2) as revenue_pct
from product_sales ps
left join dw.dim_product p on p.product_id = ps.product_id and p.is_current
order by rank
limit $4::integer
