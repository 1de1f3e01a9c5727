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

// Polls until more than `count` messages are accounted for (first-seen receipts, duplicates,
// dead letters: whether staged or loaded one hop); returns how many are then (<= count when the
// deadline passed: no progress).
std::int64_t WaitForAccountedPast(const std::string& db_url, std::int64_t count,
                                  std::chrono::seconds deadline);

// Receipts in dw.fact_transaction.
std::int64_t CountFacts(const std::string& db_url);

// Polls until more than `count` receipts are in the facts; returns how many are then.
std::int64_t WaitForFactsPast(const std::string& db_url, std::int64_t count,
                              std::chrono::seconds deadline);

// gtest expectations: staging + duplicates + dead letters == manifest, counts and cents.
void ExpectReconciled(const StagingTotals& totals, const sim::Manifest& manifest);

// What the warehouse holds after `posflow run` / `posflow etl`, read independently of the ETL's
// own code (plain SQL over the facts, the inventory and ops).
struct WarehouseTotals {
  std::int64_t loaded = 0;             // receipts in dw.fact_transaction
  std::int64_t distinct_loaded = 0;    // distinct transaction ids among them
  std::int64_t loaded_total_cents = 0;
  std::int64_t fact_lines = 0;         // rows of dw.fact_sales_line
  std::int64_t still_staged = 0;       // receipts waiting in staging
  std::int64_t duplicates = 0;
  std::int64_t dead_letters = 0;       // still quarantined
  std::map<std::string, std::int64_t> dead_by_code;
  // Units sold per store and product, from the facts (zero sums left out).
  std::map<std::string, std::map<std::string, std::int64_t>> sold;
  // inventory.on_hand per store and product.
  std::map<std::string, std::map<std::string, std::int64_t>> on_hand;
};

WarehouseTotals ReadWarehouseTotals(const std::string& db_url);

// Polls until `transactions` receipts are in the facts and staging is empty, or the deadline
// passes.
WarehouseTotals WaitForLoaded(const std::string& db_url, std::int64_t transactions,
                              std::chrono::seconds deadline);

// gtest expectations: facts + dead letters + duplicates == manifest to the cent, nothing left in
// staging, no receipt twice, and on-hand == the reference's opening stock - units sold, per
// store and product.
void ExpectWarehouseReconciled(const WarehouseTotals& totals, const sim::Manifest& manifest);

}  // namespace posflow::testing
