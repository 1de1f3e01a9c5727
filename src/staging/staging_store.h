#pragma once

// The staging interface: where ingest puts each batch of consumed messages, exactly once.
//
// A batch is written atomically together with the consumer progress it covers: the
// transactions (first-seen ones staged, repeats recorded as duplicates), the dead letters, and
// for every partition in the batch the next offset, advanced by compare-and-set from the
// offset the writer believed the store held. If another writer moved it meanwhile (a zombie
// after a rebalance), nothing is written and the call returns Aborted.

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"
#include "event/problem.h"
#include "event/transaction.h"

namespace posflow::staging {

struct PartitionKey {
  std::string topic;
  std::int32_t partition = 0;
  auto operator<=>(const PartitionKey&) const = default;
};

// Where a message came from.
struct KafkaCoordinates {
  std::string_view topic;
  std::int32_t partition = 0;
  std::int64_t offset = 0;
};

struct ValidMessage {
  KafkaCoordinates source;
  std::string_view key;      // the Kafka message key and raw bytes: kept for a dead letter
  std::string_view payload;  // should the store refuse the row
  const event::Transaction* transaction = nullptr;  // not owned; lives through WriteBatch
};

struct DeadLetter {
  KafkaCoordinates source;
  std::string_view key;      // the Kafka message key (may be empty)
  std::string_view payload;  // the raw bytes as consumed
  std::vector<event::Problem> problems;  // at least one
};

// The next offset to read of one partition, moved from `expected_next` to `next`.
// expected_next == kNoOffset: the store has no row for the partition yet.
struct PartitionProgress {
  PartitionKey partition;
  std::int64_t expected_next = 0;
  std::int64_t next = 0;
};
inline constexpr std::int64_t kNoOffset = -1;

// PostgreSQL notification channel on which a staging write signals, at commit, that it staged
// transactions: a following ETL LISTENs on it.
inline constexpr std::string_view kStagedChannel = "posflow_staged";

struct Batch {
  std::string consumer_group;
  std::vector<ValidMessage> valid;
  std::vector<DeadLetter> dead;
  std::vector<PartitionProgress> progress;
  // Dead letters (ops.dead_letter ids) this batch replays: marked replayed in the same
  // transaction, once; if any was replayed meanwhile, the batch is Aborted.
  std::vector<std::int64_t> replayed_dead_letters;
};

struct BatchResult {
  std::uint64_t staged = 0;        // transactions staged for the first time
  std::uint64_t staged_lines = 0;
  std::uint64_t duplicates = 0;    // valid messages whose transaction_id was staged before
  // Dead letters written: the batch's own plus those the store refused (below).
  std::uint64_t dead_lettered = 0;
  // Valid messages the store itself refused (a constraint, an encoding problem), written as
  // dead letters with reason "db.refused:<SQLSTATE>" instead; the rest of the batch landed.
  // Their key and payload views point into the Batch's messages.
  std::vector<DeadLetter> refused;
};

class StagingStore {
 public:
  virtual ~StagingStore() = default;

  // The stored next offsets of `partitions` for `consumer_group`; partitions without one are
  // absent from the map. Failure: Unavailable when the store cannot be reached.
  virtual Result<std::map<PartitionKey, std::int64_t>> LoadOffsets(
      const std::string& consumer_group, const std::vector<PartitionKey>& partitions) = 0;

  // Writes the batch atomically (see above). Failure: Aborted when fenced (nothing written;
  // re-read the offsets), Unavailable when the store went away (nothing written; retry).
  virtual Result<BatchResult> WriteBatch(const Batch& batch) = 0;
};

}  // namespace posflow::staging
