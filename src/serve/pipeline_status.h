#pragma once

// What /api/pipeline shows of the pipeline's health, read in one snapshot of the database plus
// the topic's watermarks: lag per partition, throughput, freshness, commit ages, the quarantine
// and the duplicates.
//
// Sources (all written by ingest / `run` / the ETL in their batch transactions):
//   lag          ops.kafka_offsets (the next offset stored per partition, for the group)
//                against each partition's high watermark asked of Kafka
//   throughput   Σ ops.kafka_offsets.next_offset (messages consumed) and
//                Σ ops.etl_watermark.loaded_transactions (receipts loaded), sampled on each
//                request: rates over the last minute (ThroughputWindow)
//   freshness    loaded_at - sold_at (sale -> warehouse) of the live receipts loaded in the
//                last `freshness_minutes`: those loaded within an hour of their sale
//                (dw.fact_transaction). Older sales being loaded (a backfill of history, a
//                replay) are left out: their age is not the pipeline's delay; a pipeline more
//                than an hour behind shows in the lag and the commit ages instead
//   commit ages  now - the newest ops.kafka_offsets.updated_at (ingest) and
//                ops.etl_watermark.updated_at (the ETL; one hop writes both at once)
//   quarantine   ops.dead_letter still quarantined, counted by reason code with line indices
//                removed ("field.missing:items[].price"), the 50 most frequent
//   duplicates   ops.duplicate_message rows
// An unreachable broker is reported (kafka_error), never a failure: the rest still shows.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "pg/connection.h"
#include "serve/partition_watermarks.h"
#include "serve/throughput_window.h"

namespace posflow::serve {

struct PipelineStatusOptions {
  // The consumer group and input topics whose lag and throughput are shown.
  std::string group = "posflow";
  std::vector<std::string> topics = {"PointOfSale"};
  // The freshness window, in minutes. Default 5.
  int freshness_minutes = 5;
};

struct PartitionLag {
  std::string topic;
  std::int32_t partition = 0;
  std::optional<std::int64_t> next_offset;     // stored; nullopt: nothing consumed yet
  std::optional<std::int64_t> high_watermark;  // nullopt: Kafka not asked or not answering
  std::optional<std::int64_t> lag;             // high_watermark - next_offset (0 if none)
  std::string updated_at;                      // ISO-8601 UTC of the stored offset; "" if none
};

struct ReasonCount {
  std::string reason;  // the code with line indices removed
  std::int64_t dead_letters = 0;
};

struct PipelineStatus {
  std::string generated_at;  // the snapshot's time, ISO-8601 UTC
  std::string group;
  std::vector<std::string> topics;
  std::string kafka_error;  // empty when Kafka answered for every partition
  std::vector<PartitionLag> partitions;
  std::optional<std::int64_t> total_lag;  // nullopt unless every partition's lag is known
  std::int64_t consumed = 0;              // messages consumed so far (Σ stored next offsets)
  std::int64_t loaded = 0;                // receipts loaded so far
  Throughput throughput;
  int freshness_minutes = 0;
  std::int64_t freshness_receipts = 0;  // live receipts in the freshness window
  std::optional<double> freshness_p50_seconds;
  std::optional<double> freshness_p99_seconds;
  std::optional<double> ingest_commit_age_seconds;  // nullopt: no commit yet
  std::optional<double> etl_commit_age_seconds;
  std::int64_t dead_letters_quarantined = 0;
  std::int64_t dead_letters_total = 0;  // replayed ones included
  std::vector<ReasonCount> dead_letters_by_reason;
  std::int64_t duplicates = 0;
};

// Reads the status on `connection` (one read-only repeatable-read transaction) and asks
// `watermarks` for the partitions' ends; adds a throughput sample to `window` and takes the
// rates from it. Failure: the database's (e.g. Unavailable); the transaction is then rolled back
// or the session is broken (the caller should not reuse the connection).
Result<PipelineStatus> ReadPipelineStatus(pg::Connection& connection,
                                          const PipelineStatusOptions& options,
                                          PartitionWatermarks& watermarks,
                                          ThroughputWindow& window);

// Only the throughput counters (a sample for `window`, e.g. when the server starts).
Result<ThroughputSample> ReadThroughputSample(pg::Connection& connection,
                                              const PipelineStatusOptions& options);

// The JSON of /api/pipeline (see README: "The dashboard").
std::string PipelineStatusJson(const PipelineStatus& status);

}  // namespace posflow::serve
