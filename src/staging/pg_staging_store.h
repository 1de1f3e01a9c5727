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

// A staging area outside PostgreSQL (MongoDB, the seed's design) for the staged transactions
// themselves. With one, PgStagingStore puts the first-seen transactions there instead of in
// staging.pos_transaction/pos_line, while the offsets, ops.transaction_seen, the duplicates and
// the dead letters stay in PostgreSQL, in the batch's transaction: the transactions are staged
// (idempotently, keyed by transaction_id) before that transaction commits, so a crash between
// the two re-consumes the batch, stages nothing twice and records it once.
class ExternalStaging {
 public:
  struct Refusal {
    std::size_t index = 0;  // into the messages given to Stage
    event::Problem problem;
  };
  virtual ~ExternalStaging() = default;
  // Stages `messages` (one record per transaction_id; one already there counts as staged).
  // Returns the messages the store refused, each with its reason (they become dead letters).
  // Failure: Unavailable when the store cannot be reached (nothing is known to be written; the
  // batch is retried).
  virtual Result<std::vector<Refusal>> Stage(const std::vector<const ValidMessage*>& messages) = 0;
};

class PgStagingStore : public StagingStore {
 public:
  // With `external`, staged transactions go there (see ExternalStaging); without, to
  // staging.pos_transaction/pos_line.
  explicit PgStagingStore(pg::ConnectionOptions options,
                          std::unique_ptr<ExternalStaging> external = nullptr);
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
  // The same with an external staging store: stage there, then COPY the seen ids.
  Status StageExternally(const Batch& batch, BatchResult* result);
  Status CopyDuplicates(const Batch& batch);
  Status CopyDeadLetters(const Batch& batch, const BatchResult& result);
  Status MarkReplayed(const Batch& batch);

  pg::ConnectionOptions options_;
  std::unique_ptr<ExternalStaging> external_;
  std::optional<pg::Connection> connection_;
  std::string buffer_;  // COPY data, reused
  std::string line_buffer_;
  std::string seen_buffer_;
  std::vector<size_t> fresh_;       // of the batch being written
  std::vector<size_t> duplicates_;
};

}  // namespace posflow::staging
