#pragma once

// `posflow run`'s one-hop path: each consumed batch goes straight into the warehouse, in ONE
// PostgreSQL transaction, without staging. The ingest loop (ingest_job.h) hands its batches to
// this store as it would to staging; the store writes each one through the warehouse loader with
// the batch itself as the loader's source (warehouse/batch_source.h):
//   begin; the offsets' compare-and-set (fenced: Aborted, nothing written); the first-seen
//   receipts COPYed into the loader's temp tables etl_tx / etl_line and their ids into
//   ops.transaction_seen; the duplicates and the dead letters (staging/batch_writer.h); the
//   warehouse statements (dimensions, facts, aggregates, inventory, the watermark, the
//   quarantine of receipts PostgreSQL refuses); commit.
// So a crash anywhere commits all of it or none of it, exactly as the two-hop path does each of
// its hops. Several stores (processes) in one consumer group load concurrently: their batches
// hold disjoint partitions, their aggregate and inventory rows are keyed by store (= the Kafka
// key), each advances its own watermark row ("one-hop:<topic>/<partition>" of the batch's first
// partition), and the loader serialises what they may share (inferred members, new month
// partitions) and loads a batch again after a conflict.
//
// Not thread-safe: one store per ingest thread. Reconnects by itself after the server went away.

#include <optional>
#include <string>

#include "common/status.h"
#include "pg/connection.h"
#include "pipeline/etl_job.h"
#include "staging/batch_writer.h"
#include "staging/staging_store.h"
#include "warehouse/warehouse_loader.h"

namespace posflow::ops {
class Metrics;
}

namespace posflow::pipeline {

class OneHopStore : public staging::StagingStore {
 public:
  // `metrics` and `loaded` (what the store loads is added to it) may be null; they must outlive
  // the store and are used from the thread that writes.
  OneHopStore(pg::ConnectionOptions options, warehouse::LoadOptions load, ops::Metrics* metrics,
              EtlStats* loaded);
  ~OneHopStore() override;

  Result<std::map<staging::PartitionKey, std::int64_t>> LoadOffsets(
      const std::string& consumer_group,
      const std::vector<staging::PartitionKey>& partitions) override;
  // Writes and loads the batch (see above). Failure: Aborted when fenced, Unavailable when the
  // server went away (nothing written either way), the refusing statement's error otherwise.
  Result<staging::BatchResult> WriteBatch(const staging::Batch& batch) override;

 private:
  Result<pg::Connection*> Connection();
  void Record(const warehouse::BatchLoad& load, double seconds);

  pg::ConnectionOptions options_;
  warehouse::LoadOptions load_options_;
  ops::Metrics* metrics_;
  std::optional<pg::Connection> connection_;
  std::optional<warehouse::WarehouseLoader> loader_;
  staging::BatchWriter writer_;
  EtlStats* loaded_;
};

}  // namespace posflow::pipeline
