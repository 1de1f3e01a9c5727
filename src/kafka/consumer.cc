#include "kafka/consumer.h"

#include <librdkafka/rdkafka.h>
#include <spdlog/spdlog.h>

#include <cstring>
#include <string>
#include <utility>

#include "common/secrets.h"
#include "kafka/client_config.h"

namespace posflow::kafka {
namespace {

void DestroyClient(rd_kafka_t* client) {
  if (client != nullptr) rd_kafka_destroy(client);
}

struct ListDeleter {
  void operator()(rd_kafka_topic_partition_list_t* list) const {
    rd_kafka_topic_partition_list_destroy(list);
  }
};
using ListPtr = std::unique_ptr<rd_kafka_topic_partition_list_t, ListDeleter>;

std::vector<TopicPartitionOffset> FromList(const rd_kafka_topic_partition_list_t* list) {
  std::vector<TopicPartitionOffset> partitions;
  for (int i = 0; i < list->cnt; ++i) {
    partitions.push_back(
        TopicPartitionOffset{list->elems[i].topic, list->elems[i].partition, list->elems[i].offset});
  }
  return partitions;
}

ListPtr ToList(const std::vector<TopicPartitionOffset>& partitions) {
  ListPtr list(rd_kafka_topic_partition_list_new(static_cast<int>(partitions.size())));
  for (const TopicPartitionOffset& partition : partitions) {
    rd_kafka_topic_partition_list_add(list.get(), partition.topic.c_str(), partition.partition)
        ->offset = partition.offset;
  }
  return list;
}

bool IsTransportError(rd_kafka_resp_err_t code) {
  return code == RD_KAFKA_RESP_ERR__TRANSPORT || code == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN ||
         code == RD_KAFKA_RESP_ERR__RESOLVE || code == RD_KAFKA_RESP_ERR__TIMED_OUT;
}

}  // namespace

struct ConsumerCallbacks {
  static void Rebalance(rd_kafka_t* client, rd_kafka_resp_err_t error,
                        rd_kafka_topic_partition_list_t* list, void* opaque) {
    auto* consumer = static_cast<Consumer*>(opaque);
    const bool cooperative = std::strcmp(rd_kafka_rebalance_protocol(client), "COOPERATIVE") == 0;
    if (error == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
      std::vector<TopicPartitionOffset> partitions = FromList(list);
      consumer->listener_->OnAssign(&partitions);
      // Start offsets go on the list itself: seeking is not allowed inside this callback.
      ListPtr assigned = ToList(partitions);
      if (cooperative) {
        if (rd_kafka_error_t* failure = rd_kafka_incremental_assign(client, assigned.get())) {
          spdlog::error("kafka: incremental assign failed: {}", rd_kafka_error_string(failure));
          rd_kafka_error_destroy(failure);
        }
      } else {
        rd_kafka_assign(client, assigned.get());
      }
      spdlog::info("kafka: assigned {} partitions", partitions.size());
    } else if (error == RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS) {
      const bool lost = rd_kafka_assignment_lost(client) != 0;
      consumer->listener_->OnRevoke(FromList(list), lost);
      if (cooperative) {
        if (rd_kafka_error_t* failure = rd_kafka_incremental_unassign(client, list)) {
          spdlog::error("kafka: incremental unassign failed: {}", rd_kafka_error_string(failure));
          rd_kafka_error_destroy(failure);
        }
      } else {
        rd_kafka_assign(client, nullptr);
      }
      spdlog::info("kafka: revoked {} partitions{}", list->cnt, lost ? " (lost)" : "");
    } else {
      spdlog::error("kafka: rebalance error: {}", rd_kafka_err2str(error));
      rd_kafka_assign(client, nullptr);
    }
  }
};

Message::Message(rd_kafka_message_t* message) : message_(message) {}
Message::Message(Message&& other) noexcept : message_(other.message_) { other.message_ = nullptr; }
Message& Message::operator=(Message&& other) noexcept {
  if (this != &other) {
    if (message_ != nullptr) rd_kafka_message_destroy(message_);
    message_ = other.message_;
    other.message_ = nullptr;
  }
  return *this;
}
Message::~Message() {
  if (message_ != nullptr) rd_kafka_message_destroy(message_);
}
std::string_view Message::topic() const { return rd_kafka_topic_name(message_->rkt); }
std::int32_t Message::partition() const { return message_->partition; }
std::int64_t Message::offset() const { return message_->offset; }
std::string_view Message::key() const {
  return message_->key == nullptr
             ? std::string_view()
             : std::string_view(static_cast<const char*>(message_->key), message_->key_len);
}
std::string_view Message::payload() const {
  return message_->payload == nullptr
             ? std::string_view()
             : std::string_view(static_cast<const char*>(message_->payload), message_->len);
}
std::int64_t Message::timestamp_ms() const {
  rd_kafka_timestamp_type_t type;
  return rd_kafka_message_timestamp(message_, &type);
}

Result<std::unique_ptr<Consumer>> Consumer::Create(const Config& config,
                                                   const ConsumerOptions& options,
                                                   RebalanceListener* listener) {
  auto conf = MakeConf(config, {
                                   {"group.id", config.group},
                                   {"enable.auto.commit", "false"},
                                   {"enable.auto.offset.store", "false"},
                                   {"auto.offset.reset", "earliest"},
                                   {"partition.assignment.strategy", "cooperative-sticky"},
                                   {"queued.max.messages.kbytes",
                                    std::to_string(options.queued_max_kbytes)},
                                   {"fetch.message.max.bytes",
                                    std::to_string(options.max_message_bytes)},
                                   {"client.id", "posflow-ingest"},
                                   // An idle partition's fetch waits at most this long at the
                                   // broker (default 500 ms), and requests behind it on the
                                   // connection (watermark queries: `--exit-when-idle`'s
                                   // caught-up test asks one per partition) wait with it: 3 s
                                   // for 6 partitions. 100 ms: ten fetches a second when idle.
                                   {"fetch.wait.max.ms", "100"},
                               });
  if (!conf.ok()) return conf.status();
  // The consumer's address is fixed once constructed; the callback finds it through the opaque.
  std::unique_ptr<Consumer> consumer(new Consumer(nullptr, listener));
  rd_kafka_conf_set_opaque(conf->get(), consumer.get());
  rd_kafka_conf_set_rebalance_cb(conf->get(), &ConsumerCallbacks::Rebalance);
  char error[512];
  rd_kafka_t* client = rd_kafka_new(RD_KAFKA_CONSUMER, conf->get(), error, sizeof(error));
  if (client == nullptr) {
    return Status::InvalidArgument("cannot create a Kafka consumer: " + RedactSecrets(error));
  }
  conf->release();
  rd_kafka_poll_set_consumer(client);
  consumer->client_.reset(client);
  consumer->failing_seeks_left_ = options.failing_seeks_for_testing;
  return consumer;
}

Consumer::Consumer(rd_kafka_t* client, RebalanceListener* listener)
    : client_(client, &DestroyClient), listener_(listener) {}

Consumer::~Consumer() { (void)Close(); }

Status Consumer::Subscribe(const std::vector<std::string>& topics) {
  ListPtr list(rd_kafka_topic_partition_list_new(static_cast<int>(topics.size())));
  for (const std::string& topic : topics) {
    rd_kafka_topic_partition_list_add(list.get(), topic.c_str(), RD_KAFKA_PARTITION_UA);
  }
  rd_kafka_resp_err_t code = rd_kafka_subscribe(client_.get(), list.get());
  if (code != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return Status::InvalidArgument(std::string("subscribing: ") + rd_kafka_err2str(code));
  }
  return Status::Ok();
}

Result<std::optional<Message>> Consumer::Poll(std::chrono::milliseconds timeout) {
  rd_kafka_message_t* raw = rd_kafka_consumer_poll(client_.get(), static_cast<int>(timeout.count()));
  if (raw == nullptr) return std::optional<Message>();
  Message message(raw);
  if (raw->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
    healthy_ = true;
    return std::optional<Message>(std::move(message));
  }
  if (raw->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) return std::optional<Message>();
  const std::string reason = RedactSecrets(rd_kafka_message_errstr(raw));
  if (IsTransportError(raw->err)) {
    healthy_ = false;
    spdlog::warn("kafka: {} (retrying)", reason);
    return std::optional<Message>();
  }
  if (raw->err == RD_KAFKA_RESP_ERR__FATAL) {
    char detail[512];
    rd_kafka_fatal_error(client_.get(), detail, sizeof(detail));
    return Status::Unavailable("Kafka consumer failed: " + RedactSecrets(detail));
  }
  spdlog::warn("kafka: {}", reason);
  return std::optional<Message>();
}

Status Consumer::Seek(const TopicPartitionOffset& position) {
  if (failing_seeks_left_ > 0) {
    --failing_seeks_left_;
    return Status::Unavailable("seeking " + position.topic + "[" +
                               std::to_string(position.partition) + "]: injected failure");
  }
  ListPtr list = ToList({position});
  if (rd_kafka_error_t* failure = rd_kafka_seek_partitions(client_.get(), list.get(), 10000)) {
    const std::string reason = rd_kafka_error_string(failure);
    rd_kafka_error_destroy(failure);
    return Status::Unavailable("seeking " + position.topic + "[" +
                               std::to_string(position.partition) + "]: " + reason);
  }
  if (list->elems[0].err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return Status::Unavailable("seeking " + position.topic + "[" +
                               std::to_string(position.partition) +
                               "]: " + rd_kafka_err2str(list->elems[0].err));
  }
  return Status::Ok();
}

Status Consumer::CommitAsync(const std::vector<TopicPartitionOffset>& next_offsets) {
  if (next_offsets.empty()) return Status::Ok();
  ListPtr list = ToList(next_offsets);
  rd_kafka_resp_err_t code = rd_kafka_commit(client_.get(), list.get(), /*async=*/1);
  if (code != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return Status::Unavailable(std::string("committing offsets to Kafka: ") +
                               rd_kafka_err2str(code));
  }
  return Status::Ok();
}

std::int64_t Consumer::HighWatermark(const std::string& topic, std::int32_t partition) {
  std::int64_t low = -1;
  std::int64_t high = -1;
  if (rd_kafka_get_watermark_offsets(client_.get(), topic.c_str(), partition, &low, &high) !=
      RD_KAFKA_RESP_ERR_NO_ERROR) {
    return -1;
  }
  return high;
}

Status Consumer::QueryWatermarks(const std::string& topic, std::int32_t partition,
                                 std::chrono::milliseconds timeout, std::int64_t* low,
                                 std::int64_t* high) {
  const rd_kafka_resp_err_t code = rd_kafka_query_watermark_offsets(
      client_.get(), topic.c_str(), partition, low, high, static_cast<int>(timeout.count()));
  if (code != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return Status::Unavailable("watermarks of " + topic + "[" + std::to_string(partition) +
                               "]: " + rd_kafka_err2str(code));
  }
  return Status::Ok();
}

Result<std::int32_t> Consumer::PartitionCount(const std::string& topic,
                                              std::chrono::milliseconds timeout) {
  std::unique_ptr<rd_kafka_topic_t, void (*)(rd_kafka_topic_t*)> handle(
      rd_kafka_topic_new(client_.get(), topic.c_str(), nullptr), rd_kafka_topic_destroy);
  if (!handle) return Status::Unavailable("metadata of topic " + topic + ": no topic handle");
  const rd_kafka_metadata_t* metadata = nullptr;
  const rd_kafka_resp_err_t code = rd_kafka_metadata(client_.get(), 0, handle.get(), &metadata,
                                                     static_cast<int>(timeout.count()));
  if (code != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return Status::Unavailable("metadata of topic " + topic + ": " + rd_kafka_err2str(code));
  }
  std::unique_ptr<const rd_kafka_metadata_t, void (*)(const rd_kafka_metadata_t*)> owned(
      metadata, rd_kafka_metadata_destroy);
  if (metadata->topic_cnt != 1 || metadata->topics[0].err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    const rd_kafka_resp_err_t topic_error = metadata->topic_cnt == 1
                                                ? metadata->topics[0].err
                                                : RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART;
    return Status::NotFound("metadata of topic " + topic + ": " + rd_kafka_err2str(topic_error));
  }
  return static_cast<std::int32_t>(metadata->topics[0].partition_cnt);
}

Status Consumer::Close() {
  if (closed_ || !client_) return Status::Ok();
  closed_ = true;
  rd_kafka_resp_err_t code = rd_kafka_consumer_close(client_.get());
  if (code != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return Status::Unavailable(std::string("closing the consumer: ") + rd_kafka_err2str(code));
  }
  return Status::Ok();
}

}  // namespace posflow::kafka
