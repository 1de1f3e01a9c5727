#pragma once

// PostgreSQL staging (the default): staging.pos_transaction / staging.pos_line, with
// ops.kafka_offsets, ops.transaction_seen, ops.duplicate_message and ops.dead_letter, all
// written in ONE transaction per batch.
//
// How a batch is written: COPY of the batch's rows into session temp tables (with the Kafka
// coordinates), one set-based statement that records first-seen ids, stages those and records
// the rest as duplicates, COPY of the dead letters, and the offsets' compare-and-set. When the
// COPY is refused for data reasons, the batch is bisected under savepoints down to the refused
// messages, which become dead letters; the rest lands.
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

  Status AdvanceOffsets(const Batch& batch);
  // COPYs the valid messages [begin, end) into the temp tables, bisecting on refusal.
  Status CopyValid(const Batch& batch, size_t begin, size_t end, BatchResult* result);
  Status CopyDeadLetters(const Batch& batch, const BatchResult& result);
  Status MarkReplayed(const Batch& batch);

  pg::ConnectionOptions options_;
  std::optional<pg::Connection> connection_;
  std::string buffer_;  // COPY data, reused
  std::string line_buffer_;
};

}  // namespace posflow::staging
