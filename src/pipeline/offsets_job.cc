#include "pipeline/offsets_job.h"

#include "pg/connection.h"

namespace posflow::pipeline {
namespace {

constexpr const char* kListSql = R"sql(
select consumer_group, topic, kafka_partition, next_offset,
       to_char(updated_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')
from ops.kafka_offsets order by consumer_group, topic, kafka_partition
)sql";

// One statement: the four renames commit together. $2 is the archived name.
constexpr const char* kArchiveSql = R"sql(
with offsets as (update ops.kafka_offsets set topic = $2 where topic = $1 returning 1),
seen as (update ops.transaction_seen set topic = $2 where topic = $1 returning 1),
duplicates as (update ops.duplicate_message set topic = $2 where topic = $1 returning 1),
dead as (update ops.dead_letter set topic = $2 where topic = $1 returning 1)
select (select count(*) from offsets), (select count(*) from seen),
       (select count(*) from duplicates), (select count(*) from dead)
)sql";

}  // namespace

Result<std::vector<StoredOffset>> ListStoredOffsets(const Config& config) {
  auto connection = pg::Connection::Open(pg::OptionsFromConfig(config));
  if (!connection.ok()) return connection.status();
  auto rows = connection->Query(kListSql);
  if (!rows.ok()) return rows.status().WithContext("reading ops.kafka_offsets");
  std::vector<StoredOffset> offsets;
  for (int row = 0; row < rows->rows(); ++row) {
    auto partition = rows->GetInt64(row, 2);
    if (!partition.ok()) return partition.status();
    auto next = rows->GetInt64(row, 3);
    if (!next.ok()) return next.status();
    offsets.push_back({std::string(rows->Get(row, 0)), std::string(rows->Get(row, 1)),
                       static_cast<std::int32_t>(*partition), *next,
                       std::string(rows->Get(row, 4))});
  }
  return offsets;
}

Result<ArchiveResult> ArchiveTopicOffsets(const Config& config, const std::string& topic) {
  auto connection = pg::Connection::Open(pg::OptionsFromConfig(config));
  if (!connection.ok()) return connection.status();
  auto name = connection->Query(
      "select $1 || '~archived-' || to_char(now() at time zone 'UTC', 'YYYYMMDD\"T\"HH24MISS\"Z\"')",
      {topic});
  if (!name.ok()) return name.status().WithContext("naming the archive");
  ArchiveResult result;
  result.archived_as = name->Get(0, 0);
  auto rows = connection->Query(kArchiveSql, {topic, result.archived_as});
  if (!rows.ok()) return rows.status().WithContext("archiving the records of topic " + topic);
  std::int64_t* counts[] = {&result.offsets, &result.seen, &result.duplicates,
                            &result.dead_letters};
  for (int column = 0; column < 4; ++column) {
    auto count = rows->GetInt64(0, column);
    if (!count.ok()) return count.status();
    *counts[column] = *count;
  }
  if (result.offsets + result.seen + result.duplicates + result.dead_letters == 0) {
    return Status::NotFound("nothing is stored for topic " + topic + " (posflow offsets list)");
  }
  return result;
}

}  // namespace posflow::pipeline
