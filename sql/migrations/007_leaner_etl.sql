-- A leaner ETL (issue 5's benchmark; the profile is in bench/README.md, "Where an ETL batch's
-- time goes"):
--   1. The ETL takes a batch out of staging by a range of (ingested_at, transaction_id) on both
--      staging tables in one statement, instead of probing both primary keys once per receipt:
--      staging.pos_line gets its receipt's ingested_at, and both tables an index on the pair.
--   2. Ingest stages each line's running Σ line_total within its receipt, so the ETL shares the
--      tax over the lines without sorting them (a window over the batch).
--   3. Sale and return movements are no longer stored a second time beside the line facts:
--      inventory.movement becomes a view = the movements recorded by init, restock and adjust
--      (inventory.recorded_movement) + one sale or return per line of dw.fact_sales_line.

-- 1 + 2: staging -----------------------------------------------------------------------------

alter table staging.pos_line add column ingested_at timestamptz;
alter table staging.pos_line add column running_line_total numeric(12,2);
-- Rows staged before this migration: their receipt's ingest time and their running totals.
update staging.pos_line l
set ingested_at = t.ingested_at,
    running_line_total = r.running_line_total
from staging.pos_transaction t,
     (select transaction_id, line_number,
             sum(line_total) over (partition by transaction_id order by line_number)
               as running_line_total
      from staging.pos_line) r
where t.transaction_id = l.transaction_id
  and r.transaction_id = l.transaction_id and r.line_number = l.line_number;
-- A line without a receipt cannot be loaded by any ETL; it keeps a value so the column can be
-- required, and `posflow check` still counts it as staged.
update staging.pos_line set ingested_at = now() where ingested_at is null;
update staging.pos_line l
set running_line_total = r.running_line_total
from (select transaction_id, line_number,
             sum(line_total) over (partition by transaction_id order by line_number)
               as running_line_total
      from staging.pos_line) r
where l.running_line_total is null
  and r.transaction_id = l.transaction_id and r.line_number = l.line_number;
alter table staging.pos_line alter column ingested_at set default now();
alter table staging.pos_line alter column ingested_at set not null;
alter table staging.pos_line alter column running_line_total set not null;
comment on column staging.pos_line.ingested_at is
  'Its receipt''s staging.pos_transaction.ingested_at (both default to the ingest transaction''s '
  'start, now()): the ETL takes receipts and lines by the same range.';
comment on column staging.pos_line.running_line_total is
  'Σ line_total of this and the earlier lines of the receipt (line_number order): the ETL''s '
  'tax share of the line is round(tax × running / Σ) − round(tax × (running − line_total) / Σ).';

drop index staging.pos_transaction_ingested_at;
create index pos_transaction_ingested_at on staging.pos_transaction (ingested_at, transaction_id);
create index pos_line_ingested_at on staging.pos_line (ingested_at, transaction_id);

alter table staging.pos_line_loaded add column ingested_at timestamptz;
alter table staging.pos_line_loaded add column running_line_total numeric(12,2);

-- 3: inventory ---------------------------------------------------------------------------------

alter table inventory.movement rename to recorded_movement;
delete from inventory.recorded_movement where kind in ('sale', 'return');
alter table inventory.recorded_movement drop constraint movement_kind_check;
alter table inventory.recorded_movement
  add constraint recorded_movement_kind_check check (kind in ('initial', 'restock', 'adjustment'));
comment on table inventory.recorded_movement is
  'The changes of inventory.on_hand that are not sales: opening stock (posflow init), restocks '
  'and adjustments (posflow inventory). Sales and returns are the line facts themselves; '
  'inventory.movement shows both.';
comment on column inventory.recorded_movement.kind is
  'initial (opening stock), restock or adjustment (a count correction).';
comment on column inventory.recorded_movement.source_transaction_id is
  'Unused since sales and returns are derived from the facts (kept for the view''s shape).';

create view inventory.movement as
select m.movement_id, m.store_id, m.product_id, m.kind, m.quantity_change,
       m.source_transaction_id, m.note, m.moved_at
from inventory.recorded_movement m
union all
select null::bigint, s.store_id, p.product_id,
       case when l.quantity > 0 then 'sale' else 'return' end, -l.quantity, l.transaction_id,
       null::text, l.sold_at
from dw.fact_sales_line l
join dw.dim_store s on s.store_key = l.store_key
join dw.dim_product p on p.product_key = l.product_key;
comment on view inventory.movement is
  'Every change of inventory.on_hand: Σ quantity_change per store and product = its quantity. '
  'Recorded movements (movement_id set) plus one sale (quantity > 0) or return per line fact '
  '(movement_id null, source_transaction_id = the receipt, moved_at = its sale instant).';
