#pragma once

// `posflow maintain`: the periodic upkeep of a warehouse database, the part the incremental ETL
// does not do (a scheduler runs it daily, e.g. the Airflow DAG posflow_maintenance).
//
// Steps, in this order, each ONE transaction of its own (VACUUM: one statement, which cannot run
// in a transaction), each skippable:
//   - partitions: the fact partitions of this month and the next `months_ahead`
//     (dw.ensure_month_partitions; the ETL itself prepares only two months ahead).
//   - calendar: dw.dim_date extended, day by day from its last day, through the last day of the
//     partition horizon when it ends earlier (`posflow init` fills 2020..2030 by default).
//   - staging: kept staging rows (staging.*_loaded, `etl --staging-retention-hours`) loaded
//     longer ago than `staging_retention` are deleted.
//   - dead-letters: dead letters first seen longer ago than `dead_letter_retention_days` lose
//     their raw payload and key (payload set empty, key null, payload_purged_at set). The row is
//     kept: `posflow check` accounts for every consumed Kafka offset through it.
//   - statistics: VACUUM (ANALYZE) of the facts, aggregates, inventory, staging and dead letters:
//     fresh planner statistics (autovacuum never analyzes a partitioned parent) and visibility
//     maps for index-only scans.
//
// Concurrency: safe beside a running ETL, ingest or reports (no step blocks them for longer than
// one ETL batch; partition creation takes turns with the ETL's). Two maintains on one database
// do not overlap: the job holds a session advisory lock, and a second one fails at once with
// AlreadyExists naming the holder.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include "common/config.h"
#include "common/status.h"

namespace posflow::pipeline {

struct MaintainOptions {
  // Months of fact partitions to prepare after the current one; also how far ahead dw.dim_date
  // must reach. Default 3 (a quarter: a monthly maintenance that fails for weeks still leaves
  // the ETL its partitions). Cost: two empty tables a month.
  int months_ahead = 3;
  // Kept staging rows loaded longer ago than this are deleted; 0 deletes every kept row.
  // Default 168 h (7 days).
  std::chrono::hours staging_retention{168};
  // Dead letters first seen longer ago than this many days lose their raw bytes; 0 keeps them
  // forever. Default 90.
  int dead_letter_retention_days = 90;
  // Which steps run. Default: all.
  bool partitions = true;
  bool calendar = true;
  bool staging = true;
  bool dead_letters = true;
  bool statistics = true;
};

struct MaintainReport {
  // partitions: fact partitions created (both facts counted), and the last month prepared.
  std::optional<std::int64_t> partitions_created;
  std::string partitions_through;  // "2027-02"
  // calendar: days added to dw.dim_date, and its last day afterwards ("" when empty).
  std::optional<std::int64_t> calendar_days_added;
  std::string calendar_ends;       // "2030-12-31"
  // staging: kept rows deleted.
  std::optional<std::int64_t> staging_transactions_purged;
  std::optional<std::int64_t> staging_lines_purged;
  // dead-letters: letters whose payload was erased now.
  std::optional<std::int64_t> dead_letters_purged;
  // statistics: tables vacuumed and analyzed.
  std::optional<std::int64_t> tables_vacuumed;
  // Wall time of the whole job.
  double seconds = 0;
};

// Runs the selected steps on the database of `config`, in the order above; stops at the first
// failing step (earlier steps stay committed).
// Failure: InvalidArgument for a bad option; AlreadyExists when another maintain holds the lock;
// FailedPrecondition when the schema predates 005_maintenance_support.sql (run `posflow init`);
// Unavailable when the database cannot be reached; the refusing statement's error otherwise,
// naming the step.
Result<MaintainReport> RunMaintain(const Config& config, const MaintainOptions& options);

}  // namespace posflow::pipeline
