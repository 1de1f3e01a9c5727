#pragma once

// `posflow run`: ingest and ETL in one process, the streaming default. Ingest (Kafka ->
// staging) and the ETL (staging -> warehouse, following ingest's commit notifications) run on
// their own threads and connections, each exactly once on its own (ingest_job.h, etl_job.h),
// so the pair is too: a crash anywhere loses nothing and loads nothing twice.
//
// Ends when `stop` becomes true (both finish their batch in flight), when ingest exits because it
// is idle (exit_when_idle; the ETL then drains staging and exits), or when either fails (the
// other is stopped; the failure is returned).

#include <atomic>

#include "common/config.h"
#include "common/status.h"
#include "pipeline/etl_job.h"
#include "pipeline/ingest_job.h"

namespace posflow::ops {
class Metrics;
}

namespace posflow::pipeline {

struct RunStats {
  IngestStats ingest;
  EtlStats etl;
};

// REQUIRES: etl.follow (it is forced on). `metrics` may be null.
Result<RunStats> RunPipeline(const Config& config, const IngestOptions& ingest, EtlOptions etl,
                             const std::atomic<bool>& stop, ops::Metrics* metrics);

}  // namespace posflow::pipeline
