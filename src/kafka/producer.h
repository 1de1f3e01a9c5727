#pragma once

// A Kafka producer (librdkafka's rd_kafka_produce) whose failures are values: a message that
// cannot be delivered makes the next Produce() and Flush() fail with a Status naming the error,
// rather than a log line.
//
// Idempotent (enable.idempotence=true: no duplicates or reordering from retries within a
// partition), keyed (partition = murmur2(key), the Java client's choice, so other producers of
// the same keys agree), compressed and batched. Memory is bounded: when librdkafka's queue is
// full Produce() waits for deliveries (backpressure) instead of failing.
//
// Not thread-safe: one thread produces, polls and flushes (delivery reports are served on that
// thread, inside Produce/Poll/Flush).

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/config.h"
#include "common/status.h"

struct rd_kafka_s;  // librdkafka's rd_kafka_t

namespace posflow::kafka {

struct ProducerOptions {
  // compression.type: none, gzip, snappy, lz4 or zstd. Default lz4: cheap on CPU, ~4x on POS
  // JSON.
  std::string compression = "lz4";
  // linger.ms: how long a batch may wait to fill. Default 10 ms: large batches at high rates,
  // at most 10 ms of added latency at low ones. (posflow produce: 25 ms for backfills, 5 ms
  // for paced runs.)
  int linger_ms = 10;
  // batch.size: upper bound of one batch in bytes. Default 1 MiB.
  int batch_size_bytes = 1 << 20;
  // batch.num.messages: upper bound of one batch in messages. Default 10 000.
  int batch_num_messages = 10'000;
  // queue.buffering.max.kbytes / .messages: the memory bound of unsent messages. Default
  // 256 MiB / 200 000 messages; Produce() blocks (polling) when either is reached.
  int queue_max_kbytes = 256 * 1024;
  int queue_max_messages = 200'000;
  // message.max.bytes: the largest message librdkafka accepts. Default 4 MiB, so that the
  // simulator's oversize test messages (just over 1 MiB) can be sent; the broker still applies
  // its own limit to the (compressed) batch.
  int message_max_bytes = 4 << 20;
  // delivery.timeout.ms: a message not acknowledged within this time fails. Default 60 s.
  std::chrono::milliseconds delivery_timeout{60'000};
};

struct DeliveryStats {
  std::int64_t produced = 0;   // accepted by Produce()
  std::int64_t delivered = 0;  // acknowledged by the broker
  std::int64_t failed = 0;     // failed delivery reports
  std::string first_error;     // of the first failure, empty when none
};

class Producer {
 public:
  // Configures a producer from `config` (brokers, --kafka-opt, which win over `options`).
  // Failure: InvalidArgument when an option is refused (a bad compression name, say).
  static Result<Producer> Create(const Config& config, const ProducerOptions& options);

  Producer(Producer&&) noexcept;
  Producer& operator=(Producer&&) noexcept;
  ~Producer();  // waits at most 5 s for outstanding messages; call Flush() to know

  // Queues one message for `topic`, partitioned by `key`. Blocks while the queue is full.
  // Failure: Unavailable once any delivery has failed (the first error named), or when the
  // queue stays full longer than the delivery timeout; InvalidArgument for a message librdkafka
  // refuses outright (too large).
  Status Produce(const std::string& topic, std::string_view key, std::string_view value);

  // The same, with message headers (name, value), e.g. a dead letter's reasons
  // (rd_kafka_produceva with RD_KAFKA_VTYPE_HEADERS).
  Status Produce(const std::string& topic, std::string_view key, std::string_view value,
                 const std::vector<std::pair<std::string, std::string>>& headers);

  // Serves delivery reports without waiting.
  void Poll();

  // Waits until every queued message is delivered or failed, at most `timeout`.
  // Failure: Unavailable when a delivery failed (how many, and the first error), or when
  // messages are still outstanding at the timeout.
  Status Flush(std::chrono::milliseconds timeout);

  DeliveryStats stats() const;

  struct State;  // opaque: the librdkafka handle and the delivery counters

 private:
  explicit Producer(std::unique_ptr<State> state);
  Status FailureStatus() const;

  std::unique_ptr<State> state_;
};

}  // namespace posflow::kafka
