#pragma once

// Reading the quarantine: ops.dead_letter rows, for `posflow dlq` and `posflow check`.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "pg/connection.h"

namespace posflow::ops {

struct DeadLetterRow {
  std::int64_t id = 0;
  // "ingest" (payload: the raw Kafka bytes) or "etl" (payload: the staged row as JSON, see
  // sql/migrations/008_quarantine_etl_refusals.sql).
  std::string stage = "ingest";
  std::string topic;
  std::int32_t partition = 0;
  std::int64_t offset = 0;
  std::string key;      // raw bytes
  std::string payload;  // raw bytes (empty in listings: see payload_bytes)
  std::int64_t payload_bytes = 0;
  std::vector<std::string> reasons;
  std::string details;
  std::string first_seen_at;
  std::string replayed_at;  // empty while quarantined
  std::string replayed_as;  // the transaction_id staged by the replay
  // When `posflow maintain` erased payload and key past the dead-letter retention (payload and
  // key are then empty); empty while the bytes are kept.
  std::string payload_purged_at;
  std::int64_t purged_payload_bytes = 0;  // the payload's size before it was erased

  bool purged() const { return !payload_purged_at.empty(); }
};

struct DeadLetterFilter {
  // Only rows of this stage ("ingest" or "etl"); empty: both.
  std::string stage;
  // Only rows with a reason starting with this ("amount.mismatch", "field.missing:items").
  std::string reason_prefix;
  // Include rows already replayed. Default: only those still quarantined.
  bool include_replayed = false;
  // At most this many, oldest first (newest first with `newest_first`).
  std::int64_t limit = 100;
  // The newest rows, newest first (the dashboard's list) instead of the oldest. Default false.
  bool newest_first = false;
  // With payloads (for replay) or without (for listings).
  bool with_payload = false;
  // Include rows whose payload was purged (nothing left to replay). Default: yes.
  bool include_purged = true;
};

Result<std::vector<DeadLetterRow>> ListDeadLetters(pg::Connection& connection,
                                                   const DeadLetterFilter& filter);

// Failure: NotFound naming the id.
Result<DeadLetterRow> GetDeadLetter(pg::Connection& connection, std::int64_t id);

}  // namespace posflow::ops
