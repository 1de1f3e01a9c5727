-- Staging of ingested POS transactions, the Kafka offsets that make ingest exactly-once, the
-- permanent record of transaction ids seen (duplicates), and dead letters.

create table ops.kafka_offsets (
  consumer_group text not null,
  topic          text not null,
  kafka_partition integer not null,
  next_offset    bigint not null check (next_offset >= 0),
  updated_at     timestamptz not null default now(),
  primary key (consumer_group, topic, kafka_partition)
);
comment on table ops.kafka_offsets is
  'The source of truth for ingest progress: the next offset to read per group, topic and '
  'partition, written in the same transaction as the staged rows it covers. Kafka''s own '
  'committed offsets are only a copy for lag tools.';
comment on column ops.kafka_offsets.next_offset is
  'Offset of the next message to consume (last staged offset + 1). Updated by compare-and-set.';

create table ops.transaction_seen (
  transaction_id  text primary key,
  topic           text not null,
  kafka_partition integer not null,
  kafka_offset    bigint not null,
  seen_at         timestamptz not null default now()
);
comment on table ops.transaction_seen is
  'Every transaction_id ever staged, with where it first arrived: a later message with the same '
  'id is a duplicate (POS retry), counted in ops.duplicate_message and never staged twice, even '
  'after the ETL has purged the staged row.';

create table ops.duplicate_message (
  topic           text not null,
  kafka_partition integer not null,
  kafka_offset    bigint not null,
  transaction_id  text not null,
  total           numeric(12,2) not null,
  seen_at         timestamptz not null default now(),
  primary key (topic, kafka_partition, kafka_offset)
);
comment on table ops.duplicate_message is
  'Messages whose transaction_id had been staged before (or earlier in the same batch).';

create table ops.dead_letter (
  dead_letter_id  bigint generated always as identity primary key,
  topic           text not null,
  kafka_partition integer not null,
  kafka_offset    bigint not null,
  message_key     bytea,
  payload         bytea not null,
  reasons         text[] not null check (cardinality(reasons) > 0),
  details         text not null,
  first_seen_at   timestamptz not null default now(),
  replayed_at     timestamptz,
  replayed_as     text,
  unique (topic, kafka_partition, kafka_offset)
);
comment on table ops.dead_letter is
  'Quarantined messages: the raw bytes and every reason they were refused. Never deleted by '
  'ingest; `posflow dlq replay` re-validates and stages them after a fix.';
comment on column ops.dead_letter.reasons is
  'Machine-readable reason codes (event/problem.h), e.g. {amount.mismatch:total}; db.refused:<SQLSTATE> when PostgreSQL refused the row.';
comment on column ops.dead_letter.details is 'The human messages, one per reason, joined by newlines.';
comment on column ops.dead_letter.replayed_at is 'When `posflow dlq replay` staged a fixed version; null while quarantined.';

create table staging.pos_transaction (
  transaction_id     text primary key,
  transaction_time   timestamp not null,
  utc_offset_minutes smallint,
  customer_id        text,
  customer_first_name text,
  customer_last_name  text,
  customer_email      text,
  customer_street     text,
  customer_city       text,
  customer_province   text,
  customer_postal_code text,
  store_id           text not null,
  store_name         text,
  store_address      text,
  store_city         text,
  store_province     text,
  store_postal_code  text,
  line_count         integer not null check (line_count > 0),
  subtotal           numeric(12,2) not null,
  tax                numeric(12,2) not null,
  total              numeric(12,2) not null,
  payment_type       text not null,
  extra              jsonb not null default '{}',
  source_shape       text not null,
  topic              text not null,
  kafka_partition    integer not null,
  kafka_offset       bigint not null,
  ingested_at        timestamptz not null default now()
);
comment on table staging.pos_transaction is
  'One row per valid, first-seen transaction, typed, waiting for the ETL. Rows leave when the ETL loads them.';
comment on column staging.pos_transaction.transaction_time is
  'The sale time as written on the receipt: store-local wall-clock time.';
comment on column staging.pos_transaction.utc_offset_minutes is
  'The UTC offset the message gave (ISO-8601 timestamps), null when it gave none (store-local).';
comment on column staging.pos_transaction.customer_id is 'Null for an anonymous sale.';
comment on column staging.pos_transaction.extra is 'Fields of the message posflow does not model, kept verbatim.';
comment on column staging.pos_transaction.source_shape is 'seed, flattened or camel_case: the JSON shape the message had.';
comment on column staging.pos_transaction.ingested_at is 'When ingest committed the row.';

create table staging.pos_line (
  transaction_id text not null,
  line_number    integer not null check (line_number >= 1),
  product_id     text,
  item           text not null,
  unit_price     numeric(12,2) not null check (unit_price >= 0),
  quantity       integer not null check (quantity <> 0),
  line_total     numeric(12,2) not null,
  primary key (transaction_id, line_number)
);
comment on table staging.pos_line is
  'The lines of each staged transaction, in receipt order. No foreign key: ingest writes a '
  'transaction and its lines in one transaction, the ETL removes them together, and the check '
  'per line row would cost ingest a tenth of its speed.';
comment on column staging.pos_line.product_id is 'Null when the message named only the item.';
comment on column staging.pos_line.quantity is 'Units sold; negative for a return.';
