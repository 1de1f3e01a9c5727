-- The four schemas of posflow, one database so that one transaction can span them.
-- (ops and ops.schema_migrations are created by the migrator itself before this file runs.)

create schema if not exists staging;
comment on schema staging is
  'Transactions as ingested from Kafka, typed, before the ETL moves them into the warehouse.';

create schema if not exists dw;
comment on schema dw is
  'The warehouse: star schema of dimensions (dim_*) and facts (fact_*), and report aggregates.';

create schema if not exists inventory;
comment on schema inventory is
  'Live on-hand quantity per store and product, and every movement (sale, restock, adjustment).';
