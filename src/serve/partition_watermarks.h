#pragma once

// Where the dashboard learns how far the input topic's partitions reach (their high
// watermarks), to show the pipeline's lag against the offsets it stored. An interface so that
// tests can stand in for an unreachable broker; KafkaWatermarks asks Kafka.

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "common/config.h"
#include "common/status.h"

namespace posflow::serve {

class PartitionWatermarks {
 public:
  virtual ~PartitionWatermarks() = default;
  // The topic's partition count. Failure: Unavailable when the broker does not answer,
  // NotFound when the topic does not exist.
  virtual Result<std::int32_t> PartitionCount(const std::string& topic) = 0;
  // The offset after the partition's last message. Failure: Unavailable when the broker does
  // not answer.
  virtual Result<std::int64_t> HighWatermark(const std::string& topic,
                                             std::int32_t partition) = 0;
};

// Asks the brokers of `config` (one librdkafka consumer, created on first use, that never joins
// a group: group "<group>.serve"), waiting at most `timeout` per call. After a failure the
// broker is not asked again for `retry_after`: calls fail at once (Unavailable, saying when it
// last failed), so a dashboard polling a dead broker does not wait on every request.
// Thread-safe (calls are serialised).
std::unique_ptr<PartitionWatermarks> KafkaWatermarks(
    const Config& config, std::chrono::milliseconds timeout = std::chrono::milliseconds(1500),
    std::chrono::seconds retry_after = std::chrono::seconds(10));

}  // namespace posflow::serve
