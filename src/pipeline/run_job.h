#pragma once

// `posflow run`: Kafka -> warehouse + inventory in one process, the streaming default, exactly
// once. Two paths:
//   - one hop (the default with PostgreSQL staging): each consumed batch is parsed, validated
//     and loaded straight into the warehouse in ONE transaction with its offsets, seen ids,
//     duplicates and dead letters (one_hop_store.h). Staging is skipped; an ETL thread still
//     follows staging (LISTEN) for what arrives there by other ways (`posflow dlq replay`, a
//     separate `posflow ingest`), holding the ETL lock as `posflow etl --follow` would.
//   - via staging (`--via-staging`, and always with MongoDB staging): ingest (Kafka -> staging)
//     and the ETL (staging -> warehouse, following ingest's commit notifications) on their own
//     threads and connections, each exactly once on its own (ingest_job.h, etl_job.h), so the
//     pair is too.
// A crash anywhere loses nothing and loads nothing twice on either path.
//
// Ends when `stop` becomes true (the batches in flight commit or roll back), when ingest exits
// because it is idle (exit_when_idle; the ETL then drains staging and exits), or when either side
// fails (the other is stopped; the failure is returned).

#include <atomic>

#include "common/config.h"
#include "common/status.h"
#include "pipeline/etl_job.h"
#include "pipeline/ingest_job.h"

namespace posflow::ops {
class Metrics;
}

namespace posflow::pipeline {

enum class RunPath { kOneHop, kViaStaging };

// One hop's default batch size (IngestOptions::batch_max_messages; `posflow run` uses it unless
// --batch-messages is given): each batch pays ~25 statements and a commit, so it wants batches
// bigger than ingest's 5 000. Measured (bench/README.md, issue 12; 200 000 receipts, noisy to
// ±1 s): 17.4-17.8 s at 5 000, 16.2 s at 8 000 (peak RSS 230 MiB), 15.4-17.3 s at 10 000 (RSS
// 267 MiB: over the 256 MiB goal), 17.2-19.2 s at 20 000.
inline constexpr std::size_t kOneHopBatchMessages = 8000;

struct RunStats {
  RunPath path = RunPath::kOneHop;
  IngestStats ingest;
  // Loaded into the warehouse: by the one-hop batches and the ETL thread together.
  EtlStats etl;
};

// Runs on `path`; kOneHop with MongoDB staging runs via staging. etl.follow is forced on.
// `metrics` may be null.
Result<RunStats> RunPipeline(const Config& config, const IngestOptions& ingest, EtlOptions etl,
                             RunPath path, const std::atomic<bool>& stop, ops::Metrics* metrics);

}  // namespace posflow::pipeline
