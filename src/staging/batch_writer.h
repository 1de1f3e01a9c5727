#pragma once

// Writes one consumed batch (staging::Batch) inside a transaction the caller has opened: the
// offsets' compare-and-set, the split of first-seen transactions from duplicates (against
// ops.transaction_seen and within the batch), the first-seen transactions' rows and ids, the
// duplicates, the dead letters and the replayed dead letters' marks. Where the first-seen rows go
// is the caller's: staging.pos_transaction / pos_line (PgStagingStore), or the warehouse loader's
// temp tables etl_tx / etl_line (`posflow run`'s one-hop path), or an external store
// (ExternalStaging, MongoDB).
//
// A COPY refused for data reasons is bisected under savepoints down to the refused messages,
// which become dead letters ("db.refused:<SQLSTATE>"); the rest lands. Failures leave the
// transaction for the caller to roll back: Aborted when fenced (another writer moved an offset),
// FailedPrecondition with last_sqlstate() 23505 when a concurrent writer staged one of the ids
// meanwhile (write the batch again: it then sees a duplicate), Unavailable when the server went
// away.
//
// Not thread-safe; keeps its buffers between batches.

#include <string>
#include <vector>

#include "common/status.h"
#include "pg/connection.h"
#include "staging/staging_store.h"

namespace posflow::staging {

class ExternalStaging;

// The COPY statements the first-seen rows go through (columns: staging_rows.h).
struct RowTargets {
  std::string copy_transactions;
  std::string copy_lines;
  // staging.pos_transaction / staging.pos_line.
  static RowTargets Staging();
  // The warehouse loader's session temp tables etl_tx / etl_line (their ingested_at must default
  // to now()).
  static RowTargets EtlTempTables();
};

class BatchWriter {
 public:
  // With `external` (not owned, may be null), first-seen transactions go there and only their
  // ids to ops.transaction_seen; `targets` is then unused.
  BatchWriter(RowTargets targets, ExternalStaging* external);

  // REQUIRES: a transaction is open on `connection`. Adds to `result`.
  Status Write(pg::Connection& connection, const Batch& batch, BatchResult* result);

 private:
  Status AdvanceOffsets(pg::Connection& connection, const Batch& batch);
  // Fills fresh_ and duplicates_ (indices into batch.valid).
  Status SplitFreshFromDuplicates(pg::Connection& connection, const Batch& batch);
  // COPYs the first-seen messages fresh_[begin, end), bisecting on refusal.
  Status CopyValid(pg::Connection& connection, const Batch& batch, size_t begin, size_t end,
                   BatchResult* result);
  Status StageExternally(pg::Connection& connection, const Batch& batch, BatchResult* result);
  Status CopyDuplicates(pg::Connection& connection, const Batch& batch);
  Status CopyDeadLetters(pg::Connection& connection, const Batch& batch,
                         const BatchResult& result);
  Status MarkReplayed(pg::Connection& connection, const Batch& batch);

  RowTargets targets_;
  ExternalStaging* external_;
  std::string buffer_;  // COPY data, reused
  std::string line_buffer_;
  std::string seen_buffer_;
  std::vector<size_t> fresh_;  // of the batch being written
  std::vector<size_t> duplicates_;
};

// A PostgreSQL array literal of `values` (quoted, escaped): for arrays of our own values
// (topics, numbers), never of message content (that goes in binary: QueryWithTextArray).
std::string ArrayLiteral(const std::vector<std::string>& values);

// The stored next offsets of `partitions` for `consumer_group` (StagingStore::LoadOffsets).
Result<std::map<PartitionKey, std::int64_t>> LoadStoredOffsets(
    pg::Connection& connection, const std::string& consumer_group,
    const std::vector<PartitionKey>& partitions);

}  // namespace posflow::staging
