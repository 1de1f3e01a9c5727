#pragma once

// `posflow etl`: staging -> warehouse + inventory, one transaction per batch
// (warehouse/warehouse_loader.h has the semantics of a batch). The staging the configuration
// names (PostgreSQL or MongoDB) hands the batches over as the loader's source
// (staging::OpenBatchSource, warehouse/batch_source.h); the job itself knows no backend.
//
// Modes:
//   - once: loads batches until staging is empty, then returns (for a scheduler).
//   - follow: keeps loading; when staging is empty it waits for ingest's commit notification
//     (LISTEN posflow_staged) or the poll interval, whichever comes first. A lost connection is
//     retried with backoff until it comes back or the job is stopped.
// Only one ETL runs per database: the job holds the ETL advisory lock for its whole run. A
// second one fails at once with AlreadyExists naming the holder in once mode; in follow mode it
// waits (retrying with backoff) as a standby until the lock is free.
// On start the job also makes sure the fact partitions exist for this month and the next
// `partition_months_ahead` (and again every hour in follow mode).

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>

#include "common/config.h"
#include "common/status.h"
#include "warehouse/warehouse_loader.h"

namespace posflow::ops {
class Metrics;
}

namespace posflow::pipeline {

struct EtlOptions {
  warehouse::LoadOptions load;
  // Keep going after staging is empty (see the modes above). Default false (once).
  bool follow = false;
  // Follow mode: longest wait for a notification before looking at staging again. Default 1 s
  // (a notification usually ends the wait within milliseconds of ingest's commit).
  std::chrono::milliseconds poll_interval{1000};
  // Follow mode: when set and true while staging is empty, the job drains once more and returns
  // (`posflow run`: ingest has finished). Not owned; may be null.
  const std::atomic<bool>* upstream_done = nullptr;
  // Months of partitions to prepare ahead of the current one. Default 2.
  int partition_months_ahead = 2;
  // Backoff between retries of an unreachable database (follow mode): doubles up to max.
  std::chrono::milliseconds retry_initial{200};
  std::chrono::milliseconds retry_max{5000};
};

struct EtlStats {
  std::int64_t batches = 0;
  std::int64_t transactions = 0;
  std::int64_t lines = 0;
  std::int64_t skipped = 0;
  std::int64_t inferred_members = 0;
  std::int64_t partitions_created = 0;
  std::int64_t staging_purged = 0;
  // Receipts refused by PostgreSQL because of their content, quarantined (ops.dead_letter,
  // stage 'etl') instead of loaded.
  std::int64_t quarantined = 0;
};

// Runs the ETL until done (once), or until `stop` (follow; the batch in flight commits or rolls
// back, never half-writes). `metrics` may be null.
// Failure: AlreadyExists when another ETL holds the lock; Unavailable when the database cannot
// be reached (once mode; follow mode retries); the refusing statement's error otherwise.
Result<EtlStats> RunEtl(const Config& config, const EtlOptions& options,
                        const std::atomic<bool>& stop, ops::Metrics* metrics);

}  // namespace posflow::pipeline
