-- The warehouse (dw): a star schema of dimensions and month-partitioned facts, the aggregates the
-- reports read, the live store inventory, and the ETL watermark. Filled by `posflow init`
-- (calendar, reference data, opening inventory) and by the ETL (facts, aggregates, movements).

-- Calendar ---------------------------------------------------------------------------------------

create table dw.dim_date (
  date_key      integer primary key check (date_key between 19000101 and 29991231),
  full_date     date not null unique,
  day_of_month  smallint not null check (day_of_month between 1 and 31),
  iso_weekday   smallint not null check (iso_weekday between 1 and 7),
  weekday_name  text not null,
  iso_week      smallint not null check (iso_week between 1 and 53),
  iso_year      smallint not null,
  month         smallint not null check (month between 1 and 12),
  month_name    text not null,
  quarter       smallint not null check (quarter between 1 and 4),
  quarter_name  text not null,
  year          smallint not null,
  is_weekend    boolean not null
);
comment on table dw.dim_date is
  'One row per calendar day, pre-filled by `posflow init` for a configurable range (default '
  '2020-01-01..2030-12-31).';
comment on column dw.dim_date.date_key is 'The date as the integer yyyymmdd (20240203).';
comment on column dw.dim_date.iso_weekday is 'ISO 8601 day of the week: 1 = Monday ... 7 = Sunday.';
comment on column dw.dim_date.weekday_name is 'English name of the day: Monday ... Sunday.';
comment on column dw.dim_date.iso_week is 'ISO 8601 week number (1..53); belongs to iso_year.';
comment on column dw.dim_date.iso_year is
  'ISO 8601 week-numbering year: differs from year for a few days around New Year.';
comment on column dw.dim_date.month_name is 'English name of the month: January ... December.';
comment on column dw.dim_date.quarter_name is 'Q1 ... Q4.';
comment on column dw.dim_date.is_weekend is 'Saturday or Sunday.';

create table dw.dim_time (
  time_key  integer primary key check (time_key between 0 and 2359),
  hour      smallint not null check (hour between 0 and 23),
  minute    smallint not null check (minute between 0 and 59),
  day_part  text not null check (day_part in ('night', 'morning', 'afternoon', 'evening'))
);
comment on table dw.dim_time is 'One row per minute of the day (1440 rows), store-local wall-clock time.';
comment on column dw.dim_time.time_key is 'The minute as the integer hhmm (1435 = 14:35).';
comment on column dw.dim_time.day_part is
  'night: hours 0-5, morning: 6-11, afternoon: 12-16, evening: 17-23 (bounds inclusive).';

-- Dimensions -------------------------------------------------------------------------------------

create table dw.dim_store (
  store_key    bigint generated always as identity primary key,
  store_id     text not null,
  name         text not null,
  address      text not null,
  city         text not null,
  province     text not null,
  postal_code  text not null,
  time_zone    text not null,
  valid_from   timestamptz not null,
  valid_to     timestamptz,
  is_current   boolean not null,
  is_inferred  boolean not null default false,
  unique (store_id, valid_from),
  check ((valid_to is null) = is_current),
  check (valid_to is null or valid_to > valid_from)
);
create unique index dim_store_one_current on dw.dim_store (store_id) where is_current;
comment on table dw.dim_store is
  'Stores, SCD type 2: a change of name, address, city, province, postal code or time zone closes '
  'the current version and opens a new one, so facts keep pointing at the store as it was when '
  'they were sold.';
comment on column dw.dim_store.store_key is 'Surrogate key of one version; what facts point at.';
comment on column dw.dim_store.store_id is 'Natural key, as in messages (S001).';
comment on column dw.dim_store.time_zone is
  'IANA time zone (America/Toronto): turns a receipt''s local time into an instant.';
comment on column dw.dim_store.valid_from is
  'When this version took effect: -infinity for the first version of a store (it covers every '
  'earlier sale), the load time for later versions.';
comment on column dw.dim_store.valid_to is
  'When this version was superseded (exclusive); null for the current version.';
comment on column dw.dim_store.is_current is 'The version in force now; exactly one per store_id.';
comment on column dw.dim_store.is_inferred is
  'Created from a sale before the reference data knew the store: attributes are placeholders, '
  'filled in place (not versioned) when the reference data arrives.';

create table dw.dim_product (
  product_key  bigint generated always as identity primary key,
  product_id   text not null,
  name         text not null,
  category     text not null,
  unit_price   numeric(12,2) not null,
  valid_from   timestamptz not null,
  valid_to     timestamptz,
  is_current   boolean not null,
  is_inferred  boolean not null default false,
  unique (product_id, valid_from),
  check ((valid_to is null) = is_current),
  check (valid_to is null or valid_to > valid_from)
);
create unique index dim_product_one_current on dw.dim_product (product_id) where is_current;
comment on table dw.dim_product is
  'Products, SCD type 2: a change of name, category or list price closes the current version and '
  'opens a new one.';
comment on column dw.dim_product.product_key is 'Surrogate key of one version; what facts point at.';
comment on column dw.dim_product.product_id is 'Natural key, as in messages (P0001).';
comment on column dw.dim_product.unit_price is 'List price of this version (a receipt may show another).';
comment on column dw.dim_product.valid_from is
  'When this version took effect: -infinity for the first version, the load time for later ones.';
comment on column dw.dim_product.valid_to is
  'When this version was superseded (exclusive); null for the current version.';
comment on column dw.dim_product.is_current is 'The version in force now; exactly one per product_id.';
comment on column dw.dim_product.is_inferred is
  'Created from a sale before the reference data knew the product; filled in place later.';

create table dw.dim_customer (
  customer_key  bigint generated by default as identity (start with 1) primary key,
  customer_id   text unique nulls not distinct,
  first_name    text not null,
  last_name     text not null,
  email         text,
  street        text,
  city          text,
  province      text,
  postal_code   text,
  is_inferred   boolean not null default false,
  check (customer_id is not null or customer_key = 0)
);
comment on table dw.dim_customer is
  'Customers, SCD type 1: changed attributes are overwritten. Holds the anonymous member '
  '(customer_key 0) that sales without a customer point at.';
comment on column dw.dim_customer.customer_key is 'Surrogate key; 0 is the anonymous member.';
comment on column dw.dim_customer.customer_id is
  'Natural key, as in messages (C00001); null only for the anonymous member.';
comment on column dw.dim_customer.is_inferred is
  'Created from a sale before the reference data knew the customer (attributes from the '
  'message); overwritten by the reference data when it arrives.';
insert into dw.dim_customer (customer_key, customer_id, first_name, last_name)
  values (0, null, 'Anonymous', 'Customer');

create table dw.dim_payment_type (
  payment_type_key  integer generated always as identity primary key,
  name              text not null unique,
  is_inferred       boolean not null default false
);
comment on table dw.dim_payment_type is 'Ways to pay, named as in messages (Credit Card).';
comment on column dw.dim_payment_type.is_inferred is
  'First seen in a sale, not in the reference data.';

-- Facts ------------------------------------------------------------------------------------------
-- No foreign keys to the dimensions: the ETL resolves every key with a join in the statement that
-- writes the facts, and per-row checks would cost it a large share of its speed.

create table dw.fact_transaction (
  transaction_id    text not null,
  sale_date         date not null,
  date_key          integer not null,
  time_key          integer not null,
  store_key         bigint not null,
  customer_key      bigint not null,
  payment_type_key  integer not null,
  item_count        integer not null,
  subtotal          numeric(12,2) not null,
  tax               numeric(12,2) not null,
  total             numeric(12,2) not null,
  sold_at           timestamptz not null,
  loaded_at         timestamptz not null default now(),
  primary key (transaction_id, sale_date)
) partition by range (sale_date);
comment on table dw.fact_transaction is
  'Grain: one receipt. Range-partitioned by month on sale_date (dw.ensure_month_partitions), '
  'with a default partition for dates outside the prepared range. The primary key includes '
  'sale_date, as partitioning requires, so it alone cannot stop a receipt from being loaded twice '
  'with another date; what does is that the ETL records every loaded transaction_id (as ingest '
  'does in ops.transaction_seen) in the same transaction as its facts, and staging holds each id '
  'once.';
comment on column dw.fact_transaction.sale_date is 'Store-local date of the sale: the partition key.';
comment on column dw.fact_transaction.date_key is 'dw.dim_date.date_key of sale_date (yyyymmdd).';
comment on column dw.fact_transaction.time_key is 'dw.dim_time.time_key of the store-local minute (hhmm).';
comment on column dw.fact_transaction.store_key is 'The dw.dim_store version current at sold_at.';
comment on column dw.fact_transaction.customer_key is 'dw.dim_customer; 0 for an anonymous sale.';
comment on column dw.fact_transaction.item_count is 'Σ quantity of the lines (returns count negative).';
comment on column dw.fact_transaction.sold_at is
  'The instant of the sale: the receipt''s local time in the store''s time zone (or its own offset).';
comment on column dw.fact_transaction.loaded_at is 'When the ETL committed the row.';

create table dw.fact_sales_line (
  transaction_id    text not null,
  line_number       integer not null check (line_number >= 1),
  sale_date         date not null,
  date_key          integer not null,
  time_key          integer not null,
  store_key         bigint not null,
  customer_key      bigint not null,
  payment_type_key  integer not null,
  product_key       bigint not null,
  quantity          integer not null,
  unit_price        numeric(12,2) not null,
  line_total        numeric(12,2) not null,
  tax_share         numeric(12,2) not null,
  sold_at           timestamptz not null,
  loaded_at         timestamptz not null default now(),
  primary key (transaction_id, line_number, sale_date)
) partition by range (sale_date);
comment on table dw.fact_sales_line is
  'Grain: one receipt line. Partitioned like dw.fact_transaction, and loaded in the same '
  'transaction as its receipt (so never twice either).';
comment on column dw.fact_sales_line.sale_date is 'Store-local date of the sale: the partition key.';
comment on column dw.fact_sales_line.product_key is 'The dw.dim_product version current at sold_at.';
comment on column dw.fact_sales_line.quantity is 'Units; negative for a return.';
comment on column dw.fact_sales_line.unit_price is 'Price per unit as on the receipt.';
comment on column dw.fact_sales_line.tax_share is
  'This line''s share of the receipt''s tax, proportional to line_total; the shares of a receipt '
  'add up to its tax exactly.';
comment on column dw.fact_sales_line.sold_at is 'The instant of the sale, as in dw.fact_transaction.';
comment on column dw.fact_sales_line.loaded_at is 'When the ETL committed the row.';

create table dw.fact_transaction_default partition of dw.fact_transaction default;
create table dw.fact_sales_line_default partition of dw.fact_sales_line default;
comment on table dw.fact_transaction_default is
  'Receipts whose month has no partition yet: never refused; moved out by dw.ensure_month_partitions.';
comment on table dw.fact_sales_line_default is
  'Lines whose month has no partition yet: never refused; moved out by dw.ensure_month_partitions.';

-- Creates the monthly partitions dw.<fact>_yYYYYmMM of both facts for every month from the month
-- of first_month to the month of last_month, where missing. Rows of such a month already in the
-- default partition are moved into the new one. Idempotent; returns the number created.
create function dw.ensure_month_partitions(first_month date, last_month date)
returns integer
language plpgsql as $$
declare
  fact text;
  month_start date;
  partition_name text;
  created integer := 0;
begin
  if first_month is null or last_month is null or first_month > last_month then
    raise exception 'ensure_month_partitions: bad range % .. %', first_month, last_month;
  end if;
  for month_start in
    select generate_series(date_trunc('month', first_month), date_trunc('month', last_month),
                           interval '1 month')::date
  loop
    foreach fact in array array['fact_transaction', 'fact_sales_line'] loop
      partition_name := format('%s_y%sm%s', fact, to_char(month_start, 'YYYY'),
                               to_char(month_start, 'MM'));
      continue when to_regclass(format('dw.%I', partition_name)) is not null;
      -- A partition cannot be created while the default one holds rows of its range: create it
      -- detached, move those rows into it, then attach it.
      execute format('create table dw.%I (like dw.%I including defaults including constraints)',
                     partition_name, fact);
      execute format('with moved as (delete from dw.%I where sale_date >= %L and sale_date < %L '
                     'returning *) insert into dw.%I select * from moved',
                     fact || '_default', month_start, (month_start + interval '1 month')::date,
                     partition_name);
      execute format('alter table dw.%I attach partition dw.%I for values from (%L) to (%L)',
                     fact, partition_name, month_start,
                     (month_start + interval '1 month')::date);
      created := created + 1;
    end loop;
  end loop;
  return created;
end;
$$;
comment on function dw.ensure_month_partitions(date, date) is
  'Creates the missing monthly partitions of dw.fact_transaction and dw.fact_sales_line for the '
  'months first_month..last_month, moving matching rows out of the default partitions. Idempotent; '
  'returns how many partitions it created.';

-- Aggregates (kept current incrementally by the ETL, in the same transaction as the facts) -------

create table dw.agg_daily_store_sales (
  date_key      integer not null,
  store_id      text not null,
  transactions  bigint not null,
  items         bigint not null,
  subtotal      numeric(14,2) not null,
  tax           numeric(14,2) not null,
  total         numeric(14,2) not null,
  primary key (date_key, store_id)
);
comment on table dw.agg_daily_store_sales is
  'Sales per store-local day and store (natural key: all versions of a store together).';
comment on column dw.agg_daily_store_sales.items is 'Σ quantity (returns negative).';

create table dw.agg_daily_product_sales (
  date_key    integer not null,
  store_id    text not null,
  product_id  text not null,
  quantity    bigint not null,
  revenue     numeric(14,2) not null,
  primary key (date_key, store_id, product_id)
);
comment on table dw.agg_daily_product_sales is 'Sales per store-local day, store and product.';
comment on column dw.agg_daily_product_sales.quantity is 'Σ units (returns negative).';
comment on column dw.agg_daily_product_sales.revenue is 'Σ line_total, before tax.';

create table dw.agg_hourly_weekday (
  iso_weekday   smallint not null check (iso_weekday between 1 and 7),
  hour          smallint not null check (hour between 0 and 23),
  store_id      text not null,
  transactions  bigint not null,
  total         numeric(14,2) not null,
  primary key (iso_weekday, hour, store_id)
);
comment on table dw.agg_hourly_weekday is
  'Receipts and their Σ total per ISO weekday (1 = Monday), store-local hour and store, over all time.';

-- Inventory --------------------------------------------------------------------------------------

create table inventory.on_hand (
  store_id       text not null,
  product_id     text not null,
  quantity       integer not null,
  reorder_point  integer not null check (reorder_point >= 0),
  updated_at     timestamptz not null default now(),
  primary key (store_id, product_id)
);
comment on table inventory.on_hand is
  'Units on the shelf per store and product. Seeded by `posflow init` from the reference data; '
  'every change is also recorded in inventory.movement, in the same transaction.';
comment on column inventory.on_hand.quantity is
  'May go negative: overselling is allowed but visible (the low-stock report flags it).';
comment on column inventory.on_hand.reorder_point is 'Restock when quantity falls below this.';

create table inventory.movement (
  movement_id            bigint generated always as identity primary key,
  store_id               text not null,
  product_id             text not null,
  kind                   text not null
                         check (kind in ('initial', 'sale', 'return', 'restock', 'adjustment')),
  quantity_change        integer not null,
  source_transaction_id  text,
  note                   text,
  moved_at               timestamptz not null default now()
);
create index movement_store_product on inventory.movement (store_id, product_id);
comment on table inventory.movement is
  'Every change of inventory.on_hand: Σ quantity_change per store and product = its quantity.';
comment on column inventory.movement.kind is
  'initial (opening stock), sale, return, restock or adjustment (a count correction).';
comment on column inventory.movement.quantity_change is 'Signed: negative for a sale.';
comment on column inventory.movement.source_transaction_id is
  'The receipt behind a sale or return; null for the other kinds.';

-- ETL progress -----------------------------------------------------------------------------------

create table ops.etl_watermark (
  pipeline             text primary key,
  loaded_transactions  bigint not null default 0 check (loaded_transactions >= 0),
  last_ingested_at     timestamptz,
  updated_at           timestamptz not null default now()
);
comment on table ops.etl_watermark is
  'How far each ETL pipeline has loaded, written in the same transaction as the facts it covers.';
comment on column ops.etl_watermark.pipeline is 'Which ETL (e.g. postgres-staging).';
comment on column ops.etl_watermark.loaded_transactions is 'Receipts loaded so far, in total.';
comment on column ops.etl_watermark.last_ingested_at is
  'staging ingested_at of the newest receipt loaded: staged rows up to here are in the warehouse.';
