#include "serve/pipeline_status.h"

#include <algorithm>
#include <cstdlib>
#include <map>
#include <string_view>
#include <utility>

#include "serve/json_writer.h"

namespace posflow::serve {
namespace {

// $1 text[] topics, $2 group.
constexpr const char* kOffsetsSql = R"sql(
select topic, kafka_partition, next_offset,
       to_char(updated_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')
from ops.kafka_offsets
where consumer_group = $2 and topic = any($1)
order by topic, kafka_partition
)sql";

// $1 text[] topics, $2 group.
constexpr const char* kCountersSql = R"sql(
select (select coalesce(sum(next_offset), 0) from ops.kafka_offsets
        where consumer_group = $2 and topic = any($1)),
       (select coalesce(sum(loaded_transactions), 0) from ops.etl_watermark),
       (select extract(epoch from clock_timestamp() - max(updated_at)) from ops.kafka_offsets
        where consumer_group = $2 and topic = any($1)),
       (select extract(epoch from clock_timestamp() - max(updated_at)) from ops.etl_watermark),
       (select count(*) from ops.duplicate_message),
       (select count(*) filter (where replayed_at is null) from ops.dead_letter),
       (select count(*) from ops.dead_letter),
       to_char(now() at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')
)sql";

// $1 minutes. A live sale (loaded within an hour of its sale) has a store-local date within a
// day of UTC's, and current_date may be a day off UTC's: two days back covers it, and keeps the
// scan to the newest partitions.
constexpr const char* kFreshnessSql = R"sql(
select count(*),
       percentile_cont(0.5) within group (order by extract(epoch from loaded_at - sold_at)),
       percentile_cont(0.99) within group (order by extract(epoch from loaded_at - sold_at))
from dw.fact_transaction
where sale_date >= current_date - 2
  and loaded_at >= now() - make_interval(mins => $1::integer)
  and sold_at >= loaded_at - interval '1 hour'
)sql";

constexpr const char* kReasonsSql = R"sql(
select regexp_replace(r.reason, '\[[0-9]+\]', '[]', 'g') as reason, count(*)
from ops.dead_letter d, unnest(d.reasons) as r(reason)
where d.replayed_at is null
group by 1
order by 2 desc, 1
limit 50
)sql";

std::optional<std::int64_t> Int64At(const pg::QueryResult& rows, int row, int column) {
  if (rows.IsNull(row, column)) return std::nullopt;
  auto value = rows.GetInt64(row, column);
  return value.ok() ? std::optional(*value) : std::nullopt;
}

std::optional<double> DoubleAt(const pg::QueryResult& rows, int row, int column) {
  if (rows.IsNull(row, column)) return std::nullopt;
  const std::string text(rows.Get(row, column));
  char* end = nullptr;
  const double value = std::strtod(text.c_str(), &end);
  return end != text.c_str() ? std::optional(value) : std::nullopt;
}

std::vector<std::string_view> Views(const std::vector<std::string>& texts) {
  return std::vector<std::string_view>(texts.begin(), texts.end());
}

// The partitions of every topic: Kafka's count, the stored offsets, the high watermarks.
void FillLag(const pg::QueryResult& stored, const std::vector<std::string>& topics,
             PartitionWatermarks& watermarks, PipelineStatus* status) {
  std::map<std::pair<std::string, std::int32_t>, PartitionLag> partitions;
  for (int row = 0; row < stored.rows(); ++row) {
    PartitionLag lag;
    lag.topic = stored.Get(row, 0);
    lag.partition = static_cast<std::int32_t>(Int64At(stored, row, 1).value_or(0));
    lag.next_offset = Int64At(stored, row, 2);
    lag.updated_at = stored.Get(row, 3);
    partitions.emplace(std::pair(lag.topic, lag.partition), std::move(lag));
  }
  for (const std::string& topic : topics) {
    if (!status->kafka_error.empty()) break;
    auto count = watermarks.PartitionCount(topic);
    if (!count.ok()) {
      status->kafka_error = count.status().message();
      break;
    }
    for (std::int32_t partition = 0; partition < *count; ++partition) {
      PartitionLag& lag = partitions[std::pair(topic, partition)];
      lag.topic = topic;
      lag.partition = partition;
      auto high = watermarks.HighWatermark(topic, partition);
      if (!high.ok()) {
        status->kafka_error = high.status().message();
        break;
      }
      lag.high_watermark = *high;
      lag.lag = std::max<std::int64_t>(0, *high - lag.next_offset.value_or(0));
    }
  }
  std::int64_t total = 0;
  bool all_known = !partitions.empty();
  for (auto& [key, lag] : partitions) {
    if (lag.lag) {
      total += *lag.lag;
    } else {
      all_known = false;
    }
    status->partitions.push_back(std::move(lag));
  }
  if (all_known && status->kafka_error.empty()) status->total_lag = total;
}

}  // namespace

Result<ThroughputSample> ReadThroughputSample(pg::Connection& connection,
                                              const PipelineStatusOptions& options) {
  auto rows = connection.QueryWithTextArray(
      "select (select coalesce(sum(next_offset), 0) from ops.kafka_offsets "
      "        where consumer_group = $2 and topic = any($1)), "
      "       (select coalesce(sum(loaded_transactions), 0) from ops.etl_watermark)",
      Views(options.topics), {options.group});
  if (!rows.ok()) return rows.status().WithContext("reading the pipeline's counters");
  ThroughputSample sample;
  sample.at = std::chrono::steady_clock::now();
  sample.consumed = Int64At(*rows, 0, 0).value_or(0);
  sample.loaded = Int64At(*rows, 0, 1).value_or(0);
  return sample;
}

Result<PipelineStatus> ReadPipelineStatus(pg::Connection& connection,
                                          const PipelineStatusOptions& options,
                                          PartitionWatermarks& watermarks,
                                          ThroughputWindow& window) {
  PipelineStatus status;
  status.group = options.group;
  status.topics = options.topics;
  status.freshness_minutes = options.freshness_minutes;
  // One snapshot: the counters, offsets and quarantine agree with each other.
  POSFLOW_RETURN_IF_ERROR(connection.Execute("begin isolation level repeatable read read only"));
  const auto fail = [&connection](const Status& failure, std::string_view what) {
    (void)connection.Execute("rollback");
    return failure.WithContext("reading " + std::string(what));
  };

  auto counters =
      connection.QueryWithTextArray(kCountersSql, Views(options.topics), {options.group});
  if (!counters.ok()) return fail(counters.status(), "the pipeline's counters");
  status.consumed = Int64At(*counters, 0, 0).value_or(0);
  status.loaded = Int64At(*counters, 0, 1).value_or(0);
  status.ingest_commit_age_seconds = DoubleAt(*counters, 0, 2);
  status.etl_commit_age_seconds = DoubleAt(*counters, 0, 3);
  status.duplicates = Int64At(*counters, 0, 4).value_or(0);
  status.dead_letters_quarantined = Int64At(*counters, 0, 5).value_or(0);
  status.dead_letters_total = Int64At(*counters, 0, 6).value_or(0);
  status.generated_at = counters->Get(0, 7);

  auto offsets = connection.QueryWithTextArray(kOffsetsSql, Views(options.topics), {options.group});
  if (!offsets.ok()) return fail(offsets.status(), "ops.kafka_offsets");

  auto freshness =
      connection.Query(kFreshnessSql, {std::to_string(options.freshness_minutes)});
  if (!freshness.ok()) return fail(freshness.status(), "the freshness of dw.fact_transaction");
  status.freshness_receipts = Int64At(*freshness, 0, 0).value_or(0);
  status.freshness_p50_seconds = DoubleAt(*freshness, 0, 1);
  status.freshness_p99_seconds = DoubleAt(*freshness, 0, 2);

  auto reasons = connection.Query(kReasonsSql);
  if (!reasons.ok()) return fail(reasons.status(), "ops.dead_letter");
  for (int row = 0; row < reasons->rows(); ++row) {
    status.dead_letters_by_reason.push_back(
        {std::string(reasons->Get(row, 0)), Int64At(*reasons, row, 1).value_or(0)});
  }
  POSFLOW_RETURN_IF_ERROR(connection.Execute("commit"));

  // Kafka after the commit: no transaction stays open while the broker is asked.
  FillLag(*offsets, options.topics, watermarks, &status);
  window.Add({std::chrono::steady_clock::now(), status.consumed, status.loaded});
  status.throughput = window.Rates();
  return status;
}

std::string PipelineStatusJson(const PipelineStatus& status) {
  JsonWriter json;
  json.BeginObject();
  json.Key("generated_at").String(status.generated_at);
  json.Key("group").String(status.group);
  json.Key("topics").BeginArray();
  for (const std::string& topic : status.topics) json.String(topic);
  json.EndArray();
  json.Key("kafka").BeginObject();
  json.Key("reachable").Bool(status.kafka_error.empty());
  json.Key("error").StringOrNull(status.kafka_error);
  json.EndObject();
  json.Key("partitions").BeginArray();
  for (const PartitionLag& lag : status.partitions) {
    json.BeginObject();
    json.Key("topic").String(lag.topic);
    json.Key("partition").Int(lag.partition);
    json.Key("next_offset").IntOrNull(lag.next_offset);
    json.Key("high_watermark").IntOrNull(lag.high_watermark);
    json.Key("lag").IntOrNull(lag.lag);
    json.Key("updated_at").StringOrNull(lag.updated_at);
    json.EndObject();
  }
  json.EndArray();
  json.Key("total_lag").IntOrNull(status.total_lag);
  json.Key("throughput").BeginObject();
  json.Key("consumed").Int(status.consumed);
  json.Key("loaded").Int(status.loaded);
  json.Key("window_seconds").Double(status.throughput.window_seconds, 1);
  json.Key("consumed_per_second").DoubleOrNull(status.throughput.consumed_per_second, 1);
  json.Key("loaded_per_second").DoubleOrNull(status.throughput.loaded_per_second, 1);
  json.EndObject();
  json.Key("freshness").BeginObject();
  json.Key("window_minutes").Int(status.freshness_minutes);
  json.Key("receipts").Int(status.freshness_receipts);
  json.Key("p50_seconds").DoubleOrNull(status.freshness_p50_seconds, 3);
  json.Key("p99_seconds").DoubleOrNull(status.freshness_p99_seconds, 3);
  json.EndObject();
  json.Key("last_commit").BeginObject();
  json.Key("ingest_age_seconds").DoubleOrNull(status.ingest_commit_age_seconds, 1);
  json.Key("etl_age_seconds").DoubleOrNull(status.etl_commit_age_seconds, 1);
  json.EndObject();
  json.Key("dead_letters").BeginObject();
  json.Key("quarantined").Int(status.dead_letters_quarantined);
  json.Key("total").Int(status.dead_letters_total);
  json.Key("by_reason").BeginArray();
  for (const ReasonCount& reason : status.dead_letters_by_reason) {
    json.BeginObject();
    json.Key("reason").String(reason.reason);
    json.Key("count").Int(reason.dead_letters);
    json.EndObject();
  }
  json.EndArray();
  json.EndObject();
  json.Key("duplicates").Int(status.duplicates);
  json.EndObject();
  return json.Take();
}

}  // namespace posflow::serve
