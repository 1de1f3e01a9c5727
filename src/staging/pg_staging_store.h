#pragma once

// PostgreSQL staging (the default): staging.pos_transaction / staging.pos_line, with
// ops.kafka_offsets, ops.transaction_seen, ops.duplicate_message and ops.dead_letter, all
// written in ONE transaction per batch.
//
// How a batch is written: the offsets' compare-and-set; one look-up of the batch's
// transaction ids in ops.transaction_seen (first occurrence in the batch wins, ids staged before
// are duplicates); COPY of the first-seen transactions, their lines and their ids straight into
// the tables; COPY of the duplicates and of the dead letters. When the COPY is refused for data
// reasons, the first-seen set is bisected under savepoints down to the refused messages, which
// become dead letters; the rest lands. A unique violation (a concurrent writer staged one of the
// ids meanwhile) redoes the whole batch.
//
// Not thread-safe: one store per ingest thread. Reconnects by itself after the server went
// away (the next call opens a new connection).

#include <memory>
#include <optional>
#include <string>

#include "common/config.h"
#include "pg/connection.h"
#include "staging/staging_store.h"

namespace posflow::staging {

class PgStagingStore : public StagingStore {
 public:
  explicit PgStagingStore(pg::ConnectionOptions options);
  ~PgStagingStore() override;

  Result<std::map<PartitionKey, std::int64_t>> LoadOffsets(
      const std::string& consumer_group, const std::vector<PartitionKey>& partitions) override;
  Result<BatchResult> WriteBatch(const Batch& batch) override;

 private:
  // The open connection, connecting (and creating the session's temp tables) when needed.
  Result<pg::Connection*> Connection();
  // Drops the connection after a failure that may have left it unusable.
  void Reset(const Status& status);

  Result<BatchResult> TryWriteBatch(const Batch& batch);
  Status AdvanceOffsets(const Batch& batch);
  // Fills fresh_ and duplicates_ (indices into batch.valid).
  Status SplitFreshFromDuplicates(const Batch& batch);
  // COPYs the first-seen messages fresh_[begin, end) into staging, bisecting on refusal.
  Status CopyValid(const Batch& batch, size_t begin, size_t end, BatchResult* result);
  Status CopyDuplicates(const Batch& batch);
  Status CopyDeadLetters(const Batch& batch, const BatchResult& result);
  Status MarkReplayed(const Batch& batch);

  pg::ConnectionOptions options_;
  std::optional<pg::Connection> connection_;
  std::string buffer_;  // COPY data, reused
  std::string line_buffer_;
  std::string seen_buffer_;
  std::vector<size_t> fresh_;       // of the batch being written
  std::vector<size_t> duplicates_;
};

}  // namespace posflow::staging
