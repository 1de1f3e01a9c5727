#pragma once

// A Kafka consumer-group member (librdkafka rd_kafka_consumer_poll & co.), RAII.
//
// Offsets are NOT committed by librdkafka on its own (enable.auto.commit=false): the caller
// decides where each assigned partition starts (RebalanceListener::OnAssign) and commits
// only after its own store has committed. Assignment uses the cooperative-sticky strategy, so
// a rebalance moves only the partitions that must move.
//
// Thread-safety: one thread polls. The listener is called on that thread, from inside Poll().

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/config.h"
#include "common/status.h"

struct rd_kafka_s;          // librdkafka's rd_kafka_t
struct rd_kafka_message_s;  // librdkafka's rd_kafka_message_t

namespace posflow::kafka {

struct TopicPartitionOffset {
  std::string topic;
  std::int32_t partition = 0;
  // Where to start (OnAssign sets it) or the next offset to commit. kBeginning: the oldest
  // message still in the partition.
  std::int64_t offset = kBeginning;
  static constexpr std::int64_t kBeginning = -2;
};

// One consumed message; owns librdkafka's buffer, so the views stay valid while it lives.
class Message {
 public:
  Message(Message&&) noexcept;
  Message& operator=(Message&&) noexcept;
  ~Message();

  std::string_view topic() const;
  std::int32_t partition() const;
  std::int64_t offset() const;
  std::string_view key() const;
  std::string_view payload() const;
  // The message's timestamp (producer create time or broker append time), ms since the epoch;
  // -1 when the broker gave none.
  std::int64_t timestamp_ms() const;

 private:
  friend class Consumer;
  explicit Message(rd_kafka_message_s* message);
  rd_kafka_message_s* message_;
};

class RebalanceListener {
 public:
  virtual ~RebalanceListener() = default;
  // Partitions newly assigned to this member: set each one's start offset.
  virtual void OnAssign(std::vector<TopicPartitionOffset>* partitions) = 0;
  // Partitions taken away (lost = without an orderly hand-over, e.g. the session timed out).
  virtual void OnRevoke(const std::vector<TopicPartitionOffset>& partitions, bool lost) = 0;
};

struct ConsumerOptions {
  // Upper bound of librdkafka's prefetch queue per consumer, in KiB: the memory bound of
  // ingest whatever the lag. Default 64 MiB.
  int queued_max_kbytes = 64 * 1024;
  // Largest message accepted from the broker (fetch.message.max.bytes). Default 2 MiB.
  int max_message_bytes = 2 << 20;
  // Fault injection for tests: Seek() fails (Unavailable, "injected") this many times before it
  // works again. A seek of an assigned partition is local to librdkafka and practically never
  // fails, so this is how the callers' failure path is tested. Default 0.
  int failing_seeks_for_testing = 0;
};

class Consumer {
 public:
  // `listener` must outlive the consumer. Failure: InvalidArgument for a refused option.
  static Result<std::unique_ptr<Consumer>> Create(const Config& config,
                                                  const ConsumerOptions& options,
                                                  RebalanceListener* listener);
  ~Consumer();

  Status Subscribe(const std::vector<std::string>& topics);

  // Waits up to `timeout` for a message. nullopt on timeout. Transient errors (broker down,
  // partition EOF) are logged and returned as nullopt too; Unavailable when the error is fatal
  // for this consumer. Updates the broker-health flag (see healthy()).
  Result<std::optional<Message>> Poll(std::chrono::milliseconds timeout);

  // Moves an assigned partition to `offset` (after a fenced batch).
  Status Seek(const TopicPartitionOffset& position);

  // Commits the given next offsets to Kafka asynchronously (for lag tools only).
  Status CommitAsync(const std::vector<TopicPartitionOffset>& next_offsets);

  // High watermark (offset after the last message) as last seen by the client; -1 unknown.
  std::int64_t HighWatermark(const std::string& topic, std::int32_t partition);

  // Low and high watermarks asked of the broker (rd_kafka_query_watermark_offsets).
  // Failure: Unavailable when the broker does not answer within `timeout`.
  Status QueryWatermarks(const std::string& topic, std::int32_t partition,
                         std::chrono::milliseconds timeout, std::int64_t* low,
                         std::int64_t* high);

  // Number of partitions of `topic` from the broker's metadata.
  // Failure: Unavailable when the broker does not answer within `timeout`, NotFound when the
  // topic does not exist.
  Result<std::int32_t> PartitionCount(const std::string& topic, std::chrono::milliseconds timeout);

  // False after transport errors until a message or a successful fetch arrives again.
  bool healthy() const { return healthy_; }

  // Leaves the group (revoking the assignment through the listener). Idempotent.
  Status Close();

 private:
  friend struct ConsumerCallbacks;  // librdkafka's callbacks, in the .cc
  Consumer(rd_kafka_s* client, RebalanceListener* listener);

  std::unique_ptr<rd_kafka_s, void (*)(rd_kafka_s*)> client_;
  RebalanceListener* listener_;
  bool closed_ = false;
  int failing_seeks_left_ = 0;  // ConsumerOptions::failing_seeks_for_testing
  bool healthy_ = true;
};

}  // namespace posflow::kafka
