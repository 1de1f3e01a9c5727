#pragma once

// `posflow offsets`: the offsets ingest stored (ops.kafka_offsets, the source of truth of its
// progress), and the recovery after a topic was deleted and recreated under the same name.
//
// A recreated topic starts its offsets at 0 again, below what ingest stored: its new messages
// cannot be told from the old ones by (topic, partition, offset), which ops.transaction_seen,
// ops.duplicate_message and ops.dead_letter are keyed by. Ingest stops with an error naming
// ArchiveTopicOffsets; it renames the old topic's records ("<topic>~archived-<UTC time>") in
// ONE transaction, so that ingest consumes the new topic from its beginning and `posflow check`
// still accounts for every old record under the archived name.

#include <cstdint>
#include <string>
#include <vector>

#include "common/config.h"
#include "common/status.h"

namespace posflow::pipeline {

struct StoredOffset {
  std::string consumer_group;
  std::string topic;
  std::int32_t partition = 0;
  std::int64_t next_offset = 0;
  std::string updated_at;  // ISO-8601 UTC
};

// Every stored offset, by group, topic and partition. Failure: Unavailable when PostgreSQL
// cannot be reached.
Result<std::vector<StoredOffset>> ListStoredOffsets(const Config& config);

struct ArchiveResult {
  std::string archived_as;  // the name the old records carry now
  std::int64_t offsets = 0;  // ops.kafka_offsets rows moved (all groups)
  std::int64_t seen = 0;     // ops.transaction_seen rows
  std::int64_t duplicates = 0;
  std::int64_t dead_letters = 0;
};

// Renames `topic`'s records in the four ops tables (see above). REQUIRES: no ingest of that
// topic is running (it would write under the old name again). Failure: NotFound when nothing is
// stored for `topic`.
Result<ArchiveResult> ArchiveTopicOffsets(const Config& config, const std::string& topic);

}  // namespace posflow::pipeline
