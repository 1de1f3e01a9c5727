-- The ETL's quarantine (issue "no message can stop the pipeline"): a staged receipt whose load
-- PostgreSQL refuses because of its content (an index row too large, a numeric overflow of an
-- aggregate, ...) no longer stops the ETL. The batch is bisected until the refused receipts are
-- found; each moves, in the batch's transaction, to ops.dead_letter with stage 'etl', its
-- original Kafka coordinates and its staged row; the rest of the batch loads.

alter table ops.dead_letter
  add column stage text not null default 'ingest' check (stage in ('ingest', 'etl'));

-- A replayed ingest dead letter is staged with its own coordinates; should the ETL then refuse
-- it, its ETL dead letter has the same coordinates: the stage is part of the key.
alter table ops.dead_letter drop constraint dead_letter_topic_kafka_partition_kafka_offset_key;
alter table ops.dead_letter
  add constraint dead_letter_stage_source_key unique (stage, topic, kafka_partition, kafka_offset);

comment on column ops.dead_letter.stage is
  'Where the message was refused: ingest (validation, or PostgreSQL refused the staging row: '
  'payload = the raw Kafka bytes) or etl (PostgreSQL refused loading the staged receipt: '
  'payload = UTF-8 JSON {"transaction": <staging.pos_transaction row>, "lines": '
  '[<staging.pos_line rows>]}, message_key null). An etl dead letter was counted once in '
  'ops.transaction_seen as staged; `posflow dlq replay` stages its row again.';
comment on column ops.dead_letter.reasons is
  'Machine-readable reason codes (event/problem.h), e.g. {amount.mismatch:total}; '
  'db.refused:<SQLSTATE> when PostgreSQL refused the staging row; etl.refused:<SQLSTATE> '
  '(stage etl) when it refused loading the receipt into the warehouse.';
