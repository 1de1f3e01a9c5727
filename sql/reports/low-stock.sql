-- posflow report low-stock: what to restock now.
--
-- One row per store and product whose on-hand quantity is below its reorder point, by store and
-- product: quantity, reorder point, shortfall (reorder point - quantity: units to bring it back
-- to the reorder point) and status: "oversold" when the quantity is negative (sold more than
-- the shelf held), "out" at zero, "low" otherwise. Names are those of the current dw.dim_store
-- and dw.dim_product versions.
--
-- Reads inventory.on_hand as it is now (kept live by the ETL and `posflow inventory`), so it
-- takes no dates.
-- Parameter, null for "no filter":
--   $1 text   store_id (S001)
-- By hand (the shell pastes this file into a prepared statement):
--   psql postgresql://127.0.0.1:5432/posflow \
--     -c "prepare report(text) as $(cat sql/reports/low-stock.sql)" \
--     -c "execute report(null)"
select h.store_id,
       s.name as store,
       h.product_id,
       p.name as product,
       h.quantity,
       h.reorder_point,
       h.reorder_point - h.quantity as shortfall,
       case when h.quantity < 0 then 'oversold' when h.quantity = 0 then 'out' else 'low' end
         as status
from inventory.on_hand h
left join dw.dim_store s on s.store_id = h.store_id and s.is_current
left join dw.dim_product p on p.product_id = h.product_id and p.is_current
where h.quantity < h.reorder_point
  and ($1::text is null or h.store_id = $1::text)
order by h.store_id, h.product_id
