-- What `posflow maintain` needs beyond 004: dead letters whose raw bytes are erased once past the
-- dead-letter retention (the row stays), and a dw.ensure_month_partitions that two callers (the
-- ETL, `posflow maintain`, `posflow init`) can run at the same time.

-- A dead letter past the retention keeps its row, reasons and Kafka position: `posflow check`
-- accounts for every consumed offset through ops.transaction_seen, ops.duplicate_message and
-- ops.dead_letter, so deleting the row would open a gap. Only the raw bytes go.
alter table ops.dead_letter
  add column payload_purged_at timestamptz,
  add column purged_payload_bytes integer check (purged_payload_bytes >= 0),
  add constraint dead_letter_purged_has_no_bytes check (
    payload_purged_at is null
    or (octet_length(payload) = 0 and message_key is null and purged_payload_bytes is not null));
comment on table ops.dead_letter is
  'Quarantined messages: the raw bytes and every reason they were refused. Never deleted: '
  '`posflow dlq replay` re-validates and stages them after a fix; `posflow maintain` erases the '
  'raw bytes of those past the dead-letter retention but keeps the row (check needs its offset).';
comment on column ops.dead_letter.payload_purged_at is
  'When `posflow maintain` erased the raw payload and key (past the dead-letter retention): the '
  'payload is then empty and message_key null, and the letter can no longer be replayed as it '
  'was. Null while the bytes are kept.';
comment on column ops.dead_letter.purged_payload_bytes is
  'Size of the payload before it was erased; null while kept.';

-- The purge looks for letters still holding their bytes, oldest first.
create index dead_letter_unpurged_first_seen on ops.dead_letter (first_seen_at)
  where payload_purged_at is null;

-- As 003's, plus: callers take turns on a transaction-level advisory lock before creating, and a
-- partition that a concurrent caller created first (its commit raced our look-up) is skipped
-- instead of failing the caller's transaction.
create or replace function dw.ensure_month_partitions(first_month date, last_month date)
returns integer
language plpgsql as $$
declare
  fact text;
  month_start date;
  partition_name text;
  created integer := 0;
  locked boolean := false;
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
      -- Only a caller with something to create waits (posflow's key + 3; the ETL's is + 2).
      if not locked then
        perform pg_advisory_xact_lock(31650110826786682);
        locked := true;
        continue when to_regclass(format('dw.%I', partition_name)) is not null;
      end if;
      begin
        -- A partition cannot be created while the default one holds rows of its range: create
        -- it detached, move those rows into it, then attach it.
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
      exception when duplicate_table or unique_violation then
        -- Created by a caller that committed after our look-up (a cached catalog entry can hide
        -- it): the partition exists, which is all we wanted.
        null;
      end;
    end loop;
  end loop;
  return created;
end;
$$;
comment on function dw.ensure_month_partitions(date, date) is
  'Creates the missing monthly partitions of dw.fact_transaction and dw.fact_sales_line for the '
  'months first_month..last_month, moving matching rows out of the default partitions. Idempotent '
  'and safe to call concurrently (callers that create take turns); returns how many partitions it '
  'created.';
