-- dw.fact_sales_line loses its primary key (transaction_id, line_number, sale_date): it cost
-- nearly half of writing the facts and guarded nothing the pipeline does not already guarantee.
--   - Cost: transaction ids are random UUID text, so every line fact was a random insert into a
--     btree of 86 MiB per million lines (beside a 154 MiB heap) that soon outgrows the cache.
--     psql \copy of the facts of 200 000 receipts (bench/fact_write_bench.sh, 2 cores): backend
--     CPU 6.7 -> 4.0 s, wall 7.7 -> 4.7 s, WAL 328 -> 187 MiB, the line table 240 -> 154 MiB. The
--     ETL's line fact insert of a 10 000-receipt batch: 290 -> 140 ms of CPU into empty tables,
--     410 -> 140 ms with 2 million receipts already in the month's partition.
--   - Readers: none. Nothing looks a line fact up by its key or writes one with `on conflict`:
--     the ETL's skip of receipts already loaded probes dw.fact_transaction's key (which stays, as
--     does `posflow check`'s MongoDB matching on it); `posflow check`, inventory.movement and the
--     reports read the line facts whole.
--   - Uniqueness: a line fact is written once because its receipt is (ops.transaction_seen's
--     unique transaction_id, written in the same transaction as the facts) and staging holds each
--     (transaction_id, line_number) once; `posflow check` still compares each receipt's line facts
--     with its line_count, item_count and tax.
-- Dropping the parent's constraint drops every partition's index with it; partitions and rows
-- stay. dw.ensure_month_partitions is unchanged (a new partition now attaches without an index).
alter table dw.fact_sales_line drop constraint fact_sales_line_pkey;

comment on table dw.fact_sales_line is
  'Grain: one receipt line. Partitioned like dw.fact_transaction, and loaded in the same '
  'transaction as its receipt (so never twice either). No primary key (migration 010): '
  '(transaction_id, line_number, sale_date) is unique by construction, not by an index, which '
  'nothing reads and which cost nearly half of writing the facts; `posflow check` compares each '
  'receipt''s line facts with its line_count.';
comment on column dw.fact_sales_line.line_number is
  'Position of the line on its receipt, 1 .. dw.fact_transaction.line_count; with transaction_id '
  'and sale_date it identifies the line (not indexed).';
