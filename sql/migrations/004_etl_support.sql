-- What the ETL (`posflow etl`, `posflow run`) and the reports need beyond 003: the receipt's line
-- count, an hourly aggregate that date filters can use, the staging order index, the archive of
-- loaded staging rows kept for a retention period, and the notification channel ingest signals.

-- The number of lines of a receipt (basket size), beside item_count (Σ quantity). The ETL is the
-- first writer of the facts, so the tables are empty when this runs.
alter table dw.fact_transaction add column line_count integer not null check (line_count > 0);
comment on column dw.fact_transaction.line_count is 'Lines on the receipt (the basket size).';

-- 003's hourly aggregate had no date, so `report hourly --from/--to` could not use it. This one
-- keeps the day; the weekday comes from dw.dim_date.
drop table dw.agg_hourly_weekday;
create table dw.agg_hourly_store_sales (
  date_key      integer not null,
  hour          smallint not null check (hour between 0 and 23),
  store_id      text not null,
  transactions  bigint not null,
  items         bigint not null,
  total         numeric(14,2) not null,
  primary key (date_key, hour, store_id)
);
comment on table dw.agg_hourly_store_sales is
  'Receipts, Σ item_count and Σ total per store-local day, store-local hour and store.';

-- Payment mix per day and store: what `report payment-mix` reads.
create table dw.agg_daily_payment_sales (
  date_key          integer not null,
  store_id          text not null,
  payment_type      text not null,
  transactions      bigint not null,
  total             numeric(14,2) not null,
  primary key (date_key, store_id, payment_type)
);
comment on table dw.agg_daily_payment_sales is 'Receipts and Σ total per store-local day, store and payment type.';

-- The ETL takes the oldest staged receipts first.
create index pos_transaction_ingested_at on staging.pos_transaction (ingested_at);

-- With a staging retention (etl.staging_retention_hours > 0) the ETL moves loaded rows here
-- instead of deleting them; they are purged once older than the retention.
create table staging.pos_transaction_loaded (
  like staging.pos_transaction including defaults,
  loaded_at timestamptz not null default now(),
  primary key (transaction_id)
);
create index pos_transaction_loaded_at on staging.pos_transaction_loaded (loaded_at);
comment on table staging.pos_transaction_loaded is
  'Staged receipts the ETL has loaded, kept for the staging retention (then purged).';
create table staging.pos_line_loaded (
  like staging.pos_line including defaults,
  loaded_at timestamptz not null default now(),
  primary key (transaction_id, line_number)
);
create index pos_line_loaded_at on staging.pos_line_loaded (loaded_at);
comment on table staging.pos_line_loaded is
  'Lines of the receipts in staging.pos_transaction_loaded.';

comment on column ops.etl_watermark.pipeline is
  'Which ETL: postgres-staging or mongodb-staging.';
