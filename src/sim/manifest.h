#pragma once

// The simulator's manifest: what a `posflow produce` run really sent, the ground truth that
// reconciliation (tests, `posflow check`) compares Kafka, staging and the warehouse against.
//
// JSON, keys sorted where they are ids, money in integer cents:
// {
//   "format": "posflow-manifest/1",
//   "seed": 1, "sink": "kafka:PointOfSale" | "file:a.ndjson" | "stdout",
//   "complete": true,            // false: stopped early (SIGINT) or by a failure
//   "stopped_by": "count" | "days" | "duration" | "signal" | "error",
//   "messages": 100000,          // everything sent: valid + duplicates + bad
//   "valid": 94000,              // distinct valid transactions
//   "duplicates": 1000,          // re-sent valid transactions (same bytes, same id)
//   "bad_total": 5000,
//   "bad": {"amount.mismatch:total": 350, "field.missing:items": 40, ...},
//   "lines": 470000, "quantity": 840000,                 // over distinct valid transactions
//   "subtotal_cents": ..., "tax_cents": ..., "total_cents": ...,
//   "first_time": "2026-01-01 07:00:03", "last_time": "...",  // store-local, valid only
//   "by_store": {"S001": {"transactions": 9000, "total_cents": 123456}, ...},
//   "by_store_product": {"S001": {"P0001": 1234, ...}, ...},  // sum of quantity
//   "messages_by_key": {"S001": 9600, ...},   // every message by its Kafka key (store_id)
//   "price_changes": [{"product_id": "P0042", "effective_utc": "2026-01-02T08:00:00Z",
//                      "old_price_cents": 349, "new_price_cents": 379}, ...]
// }

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/civil_time.h"
#include "common/money.h"
#include "common/status.h"
#include "event/transaction.h"

namespace posflow::sim {

struct StoreTotals {
  std::int64_t transactions = 0;
  Cents total_cents = 0;

  bool operator==(const StoreTotals&) const = default;
};

struct ManifestPriceChange {
  std::string product_id;
  std::string effective_utc;  // "2026-01-02T08:00:00Z"
  Cents old_price_cents = 0;
  Cents new_price_cents = 0;

  bool operator==(const ManifestPriceChange&) const = default;
};

struct Manifest {
  std::uint64_t seed = 0;
  std::string sink;
  bool complete = true;
  std::string stopped_by;
  std::int64_t messages = 0;
  std::int64_t valid = 0;
  std::int64_t duplicates = 0;
  std::int64_t bad_total = 0;
  std::map<std::string, std::int64_t> bad;  // by problem code
  std::int64_t lines = 0;
  std::int64_t quantity = 0;
  Cents subtotal_cents = 0;
  Cents tax_cents = 0;
  Cents total_cents = 0;
  std::string first_time;  // "YYYY-MM-DD HH:MM:SS", empty when there is no valid transaction
  std::string last_time;
  std::map<std::string, StoreTotals> by_store;
  std::map<std::string, std::map<std::string, std::int64_t>> by_store_product;
  std::map<std::string, std::int64_t> messages_by_key;
  std::vector<ManifestPriceChange> price_changes;

  bool operator==(const Manifest&) const = default;

  // The manifest as JSON (pretty, one key per line for the scalars; ends with a newline).
  std::string ToJson() const;
};

// Accumulates a Manifest message by message, fast enough for millions of messages a second
// (hash maps while counting, sorted maps at the end). Not thread-safe.
class ManifestBuilder {
 public:
  // Records one message as sent. `key` is its Kafka key (the store id).
  void AddValid(const event::Transaction& transaction);
  void AddDuplicate(std::string_view key);
  void AddBad(std::string_view key, std::string_view code);

  std::int64_t messages() const { return messages_; }
  std::int64_t valid() const { return valid_; }
  std::int64_t duplicates() const { return duplicates_; }
  std::int64_t bad_total() const { return bad_total_; }

  // The counts so far; the caller fills seed, sink, complete, stopped_by and price_changes.
  Manifest Build() const;

 private:
  struct StoreAccumulator {
    StoreTotals totals;
    std::unordered_map<std::string, std::int64_t> quantity_by_product;
  };
  void CountMessage(std::string_view key);

  std::int64_t messages_ = 0;
  std::int64_t valid_ = 0;
  std::int64_t duplicates_ = 0;
  std::int64_t bad_total_ = 0;
  std::int64_t lines_ = 0;
  std::int64_t quantity_ = 0;
  Cents subtotal_cents_ = 0;
  Cents tax_cents_ = 0;
  Cents total_cents_ = 0;
  bool has_time_ = false;
  CivilDateTime first_time_;  // store-local, of valid transactions
  CivilDateTime last_time_;
  std::unordered_map<std::string, std::int64_t> bad_;
  std::unordered_map<std::string, StoreAccumulator> stores_;
  std::unordered_map<std::string, std::int64_t> messages_by_key_;
};

// Parses a manifest written by Manifest::ToJson (unknown keys are ignored, so that later
// versions can add some). Failure: Corruption naming what is wrong.
Result<Manifest> ParseManifest(std::string_view json);

// Writes `manifest` to `path` (replacing it, via a temporary file and rename).
// Failure: IoError naming the path.
Status WriteManifest(const Manifest& manifest, const std::string& path);

// Reads and parses the manifest at `path`. Failure: IoError, Corruption.
Result<Manifest> ReadManifest(const std::string& path);

}  // namespace posflow::sim
