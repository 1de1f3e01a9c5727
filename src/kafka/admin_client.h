#pragma once

// Kafka administration through librdkafka's Admin API (rd_kafka_CreateTopics & co.).
// One AdminClient owns one librdkafka handle; calls block until the cluster answers or the
// timeout passes. Not thread-safe.

#include <chrono>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "common/config.h"
#include "common/status.h"

struct rd_kafka_s;  // librdkafka's rd_kafka_t

namespace posflow::kafka {

struct TopicSpec {
  std::string name;
  // Number of partitions. Must be >= 1.
  int partitions = 1;
  // -1: the broker's default.replication.factor.
  int replication_factor = -1;
  // Topic-level configs (e.g. retention.ms).
  std::vector<std::pair<std::string, std::string>> configs;
};

enum class TopicOutcome { kCreated, kAlreadyExisted };

struct TopicInfo {
  std::string name;
  int partitions = 0;
};

class AdminClient {
 public:
  // Failure: InvalidArgument when a Kafka option is refused.
  static Result<AdminClient> Create(const Config& config);

  AdminClient(AdminClient&&) noexcept;
  AdminClient& operator=(AdminClient&&) noexcept;
  ~AdminClient();

  // Creates each topic; one that exists already is not an error (kAlreadyExisted).
  // Failure: Unavailable when the cluster does not answer within `timeout`; FailedPrecondition
  // naming the topic for any other refusal (bad name, too many partitions, authorization).
  Result<std::vector<TopicOutcome>> CreateTopics(const std::vector<TopicSpec>& topics,
                                                 std::chrono::milliseconds timeout);

  // Deletes the topics; one that does not exist is not an error.
  Status DeleteTopics(const std::vector<std::string>& names, std::chrono::milliseconds timeout);

  // The topic's partition count. Failure: NotFound when the topic does not exist.
  Result<TopicInfo> DescribeTopic(const std::string& name, std::chrono::milliseconds timeout);

 private:
  AdminClient(rd_kafka_s* client, std::string brokers);

  std::unique_ptr<rd_kafka_s, void (*)(rd_kafka_s*)> client_;
  std::string brokers_;
};

}  // namespace posflow::kafka
