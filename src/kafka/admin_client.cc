#include "kafka/admin_client.h"

#include <librdkafka/rdkafka.h>

#include <string>
#include <utility>

#include "common/secrets.h"
#include "kafka/client_config.h"

namespace posflow::kafka {
namespace {

void DestroyClient(rd_kafka_t* client) {
  if (client != nullptr) rd_kafka_destroy(client);
}

struct QueueDeleter {
  void operator()(rd_kafka_queue_t* queue) const { rd_kafka_queue_destroy(queue); }
};
struct EventDeleter {
  void operator()(rd_kafka_event_t* event) const { rd_kafka_event_destroy(event); }
};
struct OptionsDeleter {
  void operator()(rd_kafka_AdminOptions_t* options) const { rd_kafka_AdminOptions_destroy(options); }
};
using QueuePtr = std::unique_ptr<rd_kafka_queue_t, QueueDeleter>;
using EventPtr = std::unique_ptr<rd_kafka_event_t, EventDeleter>;
using OptionsPtr = std::unique_ptr<rd_kafka_AdminOptions_t, OptionsDeleter>;

int ToMillis(std::chrono::milliseconds timeout) { return static_cast<int>(timeout.count()); }

OptionsPtr MakeOptions(rd_kafka_t* client, rd_kafka_admin_op_t op,
                       std::chrono::milliseconds timeout) {
  OptionsPtr options(rd_kafka_AdminOptions_new(client, op));
  char error[256];
  // Both bounds: the request itself, and the broker-side wait for the operation to finish.
  rd_kafka_AdminOptions_set_request_timeout(options.get(), ToMillis(timeout), error, sizeof(error));
  rd_kafka_AdminOptions_set_operation_timeout(options.get(), ToMillis(timeout), error,
                                              sizeof(error));
  return options;
}

// Waits for the admin result event on `queue`. Failure: Unavailable on timeout or on a
// request-level error (no broker answered).
Result<EventPtr> AwaitResult(rd_kafka_queue_t* queue, std::chrono::milliseconds timeout,
                             const std::string& brokers, const std::string& what) {
  // Allow a little over the request timeout for the result to be delivered.
  EventPtr event(rd_kafka_queue_poll(queue, ToMillis(timeout) + 2000));
  if (!event) {
    return Status::Unavailable(what + ": Kafka at " + brokers + " did not answer within " +
                               std::to_string(timeout.count()) +
                               " ms (for the local stack run: scripts/stack up)");
  }
  if (rd_kafka_event_error(event.get()) != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return Status::Unavailable(what + ": Kafka at " + brokers + ": " +
                               rd_kafka_event_error_string(event.get()) +
                               " (for the local stack run: scripts/stack up)");
  }
  return event;
}

}  // namespace

Result<AdminClient> AdminClient::Create(const Config& config) {
  auto conf = MakeConf(config, {});
  if (!conf.ok()) return conf.status();
  char error[512];
  rd_kafka_t* client = rd_kafka_new(RD_KAFKA_PRODUCER, conf->get(), error, sizeof(error));
  if (client == nullptr) {
    return Status::InvalidArgument("cannot create a Kafka client: " + RedactSecrets(error));
  }
  conf->release();  // rd_kafka_new took ownership
  return AdminClient(client, config.brokers);
}

AdminClient::AdminClient(rd_kafka_t* client, std::string brokers)
    : client_(client, &DestroyClient), brokers_(std::move(brokers)) {}
AdminClient::AdminClient(AdminClient&&) noexcept = default;
AdminClient& AdminClient::operator=(AdminClient&&) noexcept = default;
AdminClient::~AdminClient() = default;

Result<std::vector<TopicOutcome>> AdminClient::CreateTopics(const std::vector<TopicSpec>& topics,
                                                            std::chrono::milliseconds timeout) {
  std::vector<rd_kafka_NewTopic_t*> new_topics;
  auto free_new_topics = [&] {
    rd_kafka_NewTopic_destroy_array(new_topics.data(), new_topics.size());
  };
  char error[512];
  for (const TopicSpec& spec : topics) {
    rd_kafka_NewTopic_t* topic = rd_kafka_NewTopic_new(spec.name.c_str(), spec.partitions,
                                                       spec.replication_factor, error,
                                                       sizeof(error));
    if (topic == nullptr) {
      free_new_topics();
      return Status::InvalidArgument("topic " + spec.name + ": " + error);
    }
    new_topics.push_back(topic);
    for (const auto& [key, value] : spec.configs) {
      if (rd_kafka_NewTopic_set_config(topic, key.c_str(), value.c_str()) !=
          RD_KAFKA_RESP_ERR_NO_ERROR) {
        free_new_topics();
        return Status::InvalidArgument("topic " + spec.name + ": bad config " + key);
      }
    }
  }
  QueuePtr queue(rd_kafka_queue_new(client_.get()));
  OptionsPtr options = MakeOptions(client_.get(), RD_KAFKA_ADMIN_OP_CREATETOPICS, timeout);
  rd_kafka_CreateTopics(client_.get(), new_topics.data(), new_topics.size(), options.get(),
                        queue.get());
  free_new_topics();

  auto event = AwaitResult(queue.get(), timeout, brokers_, "creating topics");
  if (!event.ok()) return event.status();
  const rd_kafka_CreateTopics_result_t* result =
      rd_kafka_event_CreateTopics_result(event->get());
  size_t count = 0;
  const rd_kafka_topic_result_t** results = rd_kafka_CreateTopics_result_topics(result, &count);
  std::vector<TopicOutcome> outcomes(topics.size(), TopicOutcome::kCreated);
  for (size_t i = 0; i < count; ++i) {
    const std::string name = rd_kafka_topic_result_name(results[i]);
    rd_kafka_resp_err_t code = rd_kafka_topic_result_error(results[i]);
    size_t index = 0;
    while (index < topics.size() && topics[index].name != name) ++index;
    if (index == topics.size()) continue;
    if (code == RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) {
      outcomes[index] = TopicOutcome::kAlreadyExisted;
    } else if (code != RD_KAFKA_RESP_ERR_NO_ERROR) {
      const char* message = rd_kafka_topic_result_error_string(results[i]);
      return Status::FailedPrecondition(
          "creating topic " + name + " on " + brokers_ + ": " +
          RedactSecrets(message != nullptr ? message : rd_kafka_err2str(code)));
    }
  }
  return outcomes;
}

Status AdminClient::DeleteTopics(const std::vector<std::string>& names,
                                 std::chrono::milliseconds timeout) {
  std::vector<rd_kafka_DeleteTopic_t*> delete_topics;
  for (const std::string& name : names) delete_topics.push_back(rd_kafka_DeleteTopic_new(name.c_str()));
  QueuePtr queue(rd_kafka_queue_new(client_.get()));
  OptionsPtr options = MakeOptions(client_.get(), RD_KAFKA_ADMIN_OP_DELETETOPICS, timeout);
  rd_kafka_DeleteTopics(client_.get(), delete_topics.data(), delete_topics.size(), options.get(),
                        queue.get());
  rd_kafka_DeleteTopic_destroy_array(delete_topics.data(), delete_topics.size());

  auto event = AwaitResult(queue.get(), timeout, brokers_, "deleting topics");
  if (!event.ok()) return event.status();
  const rd_kafka_DeleteTopics_result_t* result = rd_kafka_event_DeleteTopics_result(event->get());
  size_t count = 0;
  const rd_kafka_topic_result_t** results = rd_kafka_DeleteTopics_result_topics(result, &count);
  for (size_t i = 0; i < count; ++i) {
    rd_kafka_resp_err_t code = rd_kafka_topic_result_error(results[i]);
    if (code != RD_KAFKA_RESP_ERR_NO_ERROR && code != RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART) {
      return Status::FailedPrecondition(std::string("deleting topic ") +
                                        rd_kafka_topic_result_name(results[i]) + ": " +
                                        rd_kafka_err2str(code));
    }
  }
  return Status::Ok();
}

Result<TopicInfo> AdminClient::DescribeTopic(const std::string& name,
                                             std::chrono::milliseconds timeout) {
  // All topics' metadata: asking for one named topic could auto-create it on some brokers.
  const rd_kafka_metadata_t* metadata = nullptr;
  rd_kafka_resp_err_t code =
      rd_kafka_metadata(client_.get(), /*all_topics=*/1, nullptr, &metadata, ToMillis(timeout));
  if (code != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return Status::Unavailable("reading metadata from Kafka at " + brokers_ + ": " +
                               rd_kafka_err2str(code) +
                               " (for the local stack run: scripts/stack up)");
  }
  std::unique_ptr<const rd_kafka_metadata_t, void (*)(const rd_kafka_metadata_t*)> guard(
      metadata, &rd_kafka_metadata_destroy);
  for (int i = 0; i < metadata->topic_cnt; ++i) {
    const rd_kafka_metadata_topic_t& topic = metadata->topics[i];
    if (name == topic.topic && topic.err == RD_KAFKA_RESP_ERR_NO_ERROR) {
      return TopicInfo{name, topic.partition_cnt};
    }
  }
  return Status::NotFound("topic " + name + " does not exist on " + brokers_);
}

}  // namespace posflow::kafka
