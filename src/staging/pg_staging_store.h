#pragma once

// PostgreSQL staging (the default): staging.pos_transaction / staging.pos_line, with
// ops.kafka_offsets, ops.transaction_seen, ops.duplicate_message and ops.dead_letter, all
// written in ONE transaction per batch.
//
// How a batch is written: batch_writer.h (the offsets' compare-and-set, the first-seen
// transactions, their ids, the duplicates, the dead letters), then a notification for a following
// ETL, then the commit. A unique violation (a concurrent writer staged one of the ids meanwhile)
// redoes the whole batch.
//
// Not thread-safe: one store per ingest thread. Reconnects by itself after the server went
// away (the next call opens a new connection).

#include <memory>
#include <optional>
#include <string>

#include "common/config.h"
#include "pg/connection.h"
#include "staging/batch_writer.h"
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
  // The open connection, connecting when needed.
  Result<pg::Connection*> Connection();
  // Drops the connection after a failure that may have left it unusable.
  void Reset(const Status& status);

  Result<BatchResult> TryWriteBatch(const Batch& batch);

  pg::ConnectionOptions options_;
  std::unique_ptr<ExternalStaging> external_;
  std::optional<pg::Connection> connection_;
  BatchWriter writer_;
};

}  // namespace posflow::staging
