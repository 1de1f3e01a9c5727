#pragma once

// Reconciliation helpers of the ingest tests: what staging, the duplicates and the dead letters
// hold, compared with the simulator's manifest, to the cent.

#include <chrono>
#include <cstdint>
#include <map>
#include <string>

#include "sim/manifest.h"

namespace posflow::testing {

struct StagingTotals {
  std::int64_t staged = 0;        // distinct transactions staged (ops.transaction_seen)
  std::int64_t staged_total_cents = 0;
  std::int64_t staged_lines = 0;
  std::int64_t duplicates = 0;
  std::int64_t dead_letters = 0;  // still quarantined (not replayed)
  std::map<std::string, std::int64_t> dead_by_code;
  std::int64_t next_offsets = 0;  // sum over partitions of ops.kafka_offsets.next_offset
  std::int64_t Accounted() const { return staged + duplicates + dead_letters; }
};

StagingTotals ReadStagingTotals(const std::string& db_url);

// Polls until every message of the manifest is accounted for, or the deadline passes.
StagingTotals WaitForAccounted(const std::string& db_url, std::int64_t messages,
                               std::chrono::seconds deadline);

// gtest expectations: staging + duplicates + dead letters == manifest, counts and cents.
void ExpectReconciled(const StagingTotals& totals, const sim::Manifest& manifest);

}  // namespace posflow::testing
