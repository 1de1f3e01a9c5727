-- MongoDB staging: the seal of a staging segment is fenced against ingest batches in flight,
-- instead of a 5 s grace assumed long enough for an insert begun before the seal to land.
-- Every ingest batch holds this row FOR SHARE from before its MongoDB insert until its
-- PostgreSQL commit; the ETL seals (renames `transactions`) only while holding it FOR UPDATE.
-- So once a seal commits, every document of the sealed segment belongs to a batch that either
-- committed (its transaction_id is in ops.transaction_seen) or rolled back (the ETL skips it).

create table ops.mongo_seal (
  singleton       boolean primary key default true check (singleton),
  sealed_segments bigint not null default 0,
  last_sealed_at  timestamptz
);
insert into ops.mongo_seal default values;

comment on table ops.mongo_seal is
  'The fence between ingest batches into MongoDB staging (FOR SHARE) and the ETL''s seal of a '
  'staging segment (FOR UPDATE): one row.';
comment on column ops.mongo_seal.sealed_segments is 'Segments sealed so far.';
