#pragma once

// `posflow produce`: runs the transaction simulator (sim/) into Kafka or into an NDJSON file,
// and writes the manifest of what was sent.
//
// Clocks: with --start-date or --days the transactions carry simulated times (historical
// backfill, generated as fast as the sink takes them); with --rate or --duration alone they
// carry the current time in each store's local time (live mode, for latency tests); with
// neither (just --count) the simulated clock starts at 2026-01-01, so that a seed always gives
// the same bytes.
//
// Bounds: the run ends at the first of --count messages, the end of --days, --duration seconds,
// or the stop flag (SIGINT). Without any of count, days and duration it sends 1000 messages.
//
// Kafka: key = store_id, idempotent, compressed; every delivery is checked before the run
// reports success. The topic must exist (posflow init creates it).

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "common/config.h"
#include "common/status.h"
#include "sim/manifest.h"

namespace posflow::pipeline {

struct ProduceProgress {
  std::int64_t messages = 0;  // sent so far (valid + bad + duplicates)
  std::int64_t valid = 0;
  std::int64_t bad = 0;
  std::int64_t duplicates = 0;
  std::int64_t delivery_errors = 0;  // Kafka deliveries that failed
  double seconds = 0;                // since the start
};

struct ProduceOptions {
  // Seed of everything random: the same seed and options give the same messages. Default 1.
  std::uint64_t seed = 1;
  // Messages to send (valid + bad + duplicates); 0 = no count bound.
  std::int64_t count = 0;
  // Steady rate in messages per second, paced on a monotonic clock; 0 = as fast as possible.
  double rate = 0;
  // Wall-clock seconds after which the run stops; 0 = no duration bound.
  double duration_seconds = 0;
  // Simulated clock: first day "YYYY-MM-DD" (empty: 2026-01-01, or the wall clock, see above).
  std::string start_date;
  // Simulated clock: days to cover; 0 = no end. With `count`, exactly `count` messages are
  // spread over the days.
  int days = 0;
  // Use the first `stores` stores of the reference data; 0 = all.
  int stores = 0;
  // Share of malformed messages and of duplicates, each 0..1, together <= 1.
  double bad_ratio = 0;
  double duplicate_ratio = 0;
  // Problem kinds to inject (e.g. "json.syntax", "field.missing"); empty = all. Into Kafka
  // without compression, message.too_large (over the broker's 1 MiB limit) is left out unless
  // named here, and then refused.
  std::vector<std::string> bad_kinds;
  // NDJSON output file, "-" for stdout; empty = Kafka (config.topic).
  std::string out;
  // Where to write the manifest; empty = nowhere.
  std::string manifest_path;
  // Kafka compression.type: none, gzip, snappy, lz4, zstd. Default lz4.
  std::string compression = "lz4";
  // Checked between messages: when it becomes true the run stops cleanly (flushes, writes the
  // manifest with complete = false, stopped_by = "signal") and succeeds. May be null.
  const std::atomic<bool>* stop = nullptr;
  // Called on the producing thread about twice a second. May be empty.
  std::function<void(const ProduceProgress&)> on_progress;
  // How long the final Kafka flush may wait for acknowledgements. Default 60 s.
  std::chrono::milliseconds flush_timeout{60'000};
};

struct ProduceReport {
  sim::Manifest manifest;
  double seconds = 0;  // wall time of the run, flush included
};

// Checks the options without I/O. Failure: InvalidArgument naming the option.
Status ValidateProduceOptions(const ProduceOptions& options);

// Runs the simulator. Failure: InvalidArgument for bad options; FailedPrecondition when the
// topic does not exist; Unavailable when Kafka cannot be reached or a delivery failed (the
// manifest is still written, with complete = false and stopped_by = "error"); IoError when the
// output or manifest cannot be written.
Result<ProduceReport> RunProduce(const Config& config, const ProduceOptions& options);

}  // namespace posflow::pipeline
