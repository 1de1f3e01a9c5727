#pragma once

// MongoDB staging, as in the seed's original design (DESIGN.md, "Storage"): one document per
// staged transaction in the collection `transactions` of the URI's database, with
// `_id` = transaction_id. Written by ingest (through PgStagingStore, as its ExternalStaging),
// read and removed by the ETL. Only MongoDB features FerretDB 1.x also has are used: unordered
// bulk inserts, finds with sort and limit, deletes by _id, createIndexes; no multi-document
// transactions.
//
// The document:
//   { _id: "<transaction_id>",
//     transaction_time: Date (the receipt's local wall-clock time, stored as if it were UTC),
//     transaction_time_micros: int (sub-millisecond remainder; absent when 0),
//     utc_offset_minutes: int | null (the message's own offset; null = store-local),
//     customer: null | { customer_id, first_name, last_name, email, street, city, province,
//                        postal_code },
//     store: { store_id, name, address, city, province, postal_code },
//     lines: [ { product_id: string | null, item, unit_price_cents: long, quantity: int,
//                line_total_cents: long } ],
//     line_count: int, subtotal_cents: long, tax_cents: long, total_cents: long,
//     payment_type, source_shape,
//     extra: { ... } (the message's unmodelled fields; `extra_json` string when a key cannot be
//                     a MongoDB field name),
//     kafka: { topic, partition: int, offset: long },
//     ingested_at: Date }
// Index: { ingested_at: 1 }, created by `posflow init` (for operators' queries by age).
// The mapping between a staged transaction and its document is mongo_document.h; the ETL reads
// sealed segments through MongoStagingSource (mongo_staging_source.h).
//
// Not thread-safe: one MongoStaging per thread (each owns its mongoc client).

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/status.h"
#include "staging/mongo_document.h"
#include "staging/pg_staging_store.h"
#include "staging/staged_receipt.h"

namespace posflow::staging {

class MongoStaging : public ExternalStaging {
 public:
  // `uri`: mongodb://[user:password@]host[:port]/database[?options]; the database is required.
  // Server selection waits 5 s unless the URI says otherwise. Does not connect yet.
  // Failure: InvalidArgument for a malformed URI or one without a database.
  static Result<std::unique_ptr<MongoStaging>> Open(const std::string& uri);
  ~MongoStaging() override;
  MongoStaging(const MongoStaging&) = delete;
  MongoStaging& operator=(const MongoStaging&) = delete;

  // Pings the server and creates the index (idempotent). Failure: Unavailable.
  Status Prepare();

  // ExternalStaging: one unordered insert of all documents, write concern majority + journal;
  // a duplicate key (11000) is a document staged before (e.g. by an attempt that crashed before
  // its PostgreSQL commit), any other per-document error refuses that message
  // ("mongo.refused:<code>"). A refusal of the whole call that is not about the connection
  // (FerretDB refuses a document its PostgreSQL cannot store this way) is bisected down to the
  // documents refused. An unsatisfied write concern is Unavailable (retried).
  // The ingest batch calls this inside its PostgreSQL transaction, which holds the seal fence
  // (see Seal), and commits ops.transaction_seen for the documents only after it.
  Result<std::vector<Refusal>> Stage(const std::vector<const ValidMessage*>& messages) override;

  // --- The ETL's side. Ingest always inserts into `transactions`; the ETL seals what is there
  // by renaming it to `loading_<unix ms>` (an atomic, constant-time step, where deleting
  // documents one by one is slow on FerretDB), streams each sealed segment into the warehouse
  // in batches, and drops the segment once all of it is loaded. A crash leaves the segment:
  // the next run streams it again and the facts' keys skip what was loaded.

  // Sealed segments not dropped yet, oldest first. Failure: Unavailable.
  Result<std::vector<std::string>> SealedSegments();
  // Seals `transactions` when it holds a document; returns the new segment's name, or "" when
  // there was nothing to seal. Failure: Unavailable.
  // The fence (the caller's: MongoStagingSource): seal only while holding ops.mongo_seal's row
  // FOR UPDATE in PostgreSQL. Every ingest batch holds it FOR SHARE from before its insert to
  // its commit, so once the seal commits, no insert into the sealed segment is still in flight:
  // each document in it belongs either to a committed batch (its id in ops.transaction_seen) or
  // to one that rolled back (loaded never: the ETL skips it; the message is consumed again and
  // staged anew).
  Result<std::string> Seal();
  // Starts reading `segment` from its beginning (in natural, i.e. insertion, order), dropping
  // any read in progress.
  Status OpenSegment(const std::string& segment);
  // The next `limit` documents of the open segment as COPY rows (and those that cannot be
  // loaded as `refused`); empty at its end. REQUIRES: OpenSegment succeeded.
  // Failure: Unavailable.
  Result<MongoBatch> ReadSegment(std::int64_t limit);
  // Drops `segment`. Failure: Unavailable.
  Status DropSegment(const std::string& segment);
  // When `segment` was sealed (ms since the epoch, from its name); 0 if the name is not ours.
  static std::int64_t SealedAtMillis(const std::string& segment);

  // Every staged document (`transactions` and the sealed segments) in ingest's shape, with its
  // figures (one that is not in it is left out: the ETL quarantines it). Failure: Unavailable.
  Result<std::vector<StagedReceiptFigures>> Documents();

  // Inserts one document, given as (relaxed or canonical) extended JSON, into `transactions` as
  // it is: for tests of what the ETL does with documents ingest did not write, and for repairs.
  // Failure: InvalidArgument for JSON libbson refuses, Unavailable, FailedPrecondition.
  Status InsertJsonDocument(const std::string& json);

  // The URI with its password masked, for messages.
  const std::string& description() const { return description_; }

 private:
  struct Handles;  // mongoc client and collection; defined in the .cc
  MongoStaging(std::unique_ptr<Handles> handles, std::string description);

  std::unique_ptr<Handles> handles_;
  std::string description_;
};

}  // namespace posflow::staging
