-- inventory.movement_store_product (003) is read by nothing: `posflow check` aggregates the
-- whole table, `posflow inventory` only inserts, no report reads movements. Maintaining it cost
-- the ETL's movement insert 60 % of its time (276 -> 111 ms per 10 000-receipt batch,
-- bench/README.md). Movements of one pair are still found by a scan; add an index back if a
-- workload needs that lookup often.
drop index inventory.movement_store_product;
