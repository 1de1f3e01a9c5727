#include "kafka/producer.h"

#include <librdkafka/rdkafka.h>

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/secrets.h"
#include "kafka/client_config.h"

namespace posflow::kafka {

// Lives on the heap so that librdkafka's opaque pointer stays valid when the Producer moves.
struct Producer::State {
  rd_kafka_t* client = nullptr;
  std::vector<std::pair<std::string, rd_kafka_topic_t*>> topics;
  std::string brokers;
  std::chrono::milliseconds delivery_timeout{60'000};
  DeliveryStats stats;
  std::string fatal_error;
  std::int64_t produced_since_poll = 0;

  ~State() {
    for (auto& [name, topic] : topics) rd_kafka_topic_destroy(topic);
    if (client != nullptr) {
      rd_kafka_flush(client, 5000);
      rd_kafka_destroy(client);
    }
  }

  rd_kafka_topic_t* Topic(const std::string& name) {
    for (auto& [topic_name, topic] : topics) {
      if (topic_name == name) return topic;
    }
    rd_kafka_topic_t* topic = rd_kafka_topic_new(client, name.c_str(), nullptr);
    if (topic != nullptr) topics.emplace_back(name, topic);
    return topic;
  }
};

namespace {

// Delivery report callback (rd_kafka_conf_set_dr_msg_cb): runs inside rd_kafka_poll/flush on
// the producing thread.
void OnDelivery(rd_kafka_t* /*client*/, const rd_kafka_message_t* message, void* opaque) {
  auto* state = static_cast<Producer::State*>(opaque);
  if (message->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
    ++state->stats.delivered;
    return;
  }
  ++state->stats.failed;
  if (state->stats.first_error.empty()) {
    state->stats.first_error = std::string(rd_kafka_err2str(message->err)) + " (topic " +
                               rd_kafka_topic_name(message->rkt) + ")";
  }
}

// Error callback (rd_kafka_conf_set_error_cb): only fatal errors matter here (an idempotent
// producer that can no longer guarantee its ordering); the others are retried by librdkafka.
void OnError(rd_kafka_t* client, int error, const char* reason, void* opaque) {
  if (error != RD_KAFKA_RESP_ERR__FATAL) return;
  auto* state = static_cast<Producer::State*>(opaque);
  char fatal[512];
  rd_kafka_fatal_error(client, fatal, sizeof(fatal));
  state->fatal_error = RedactSecrets(std::string("fatal producer error: ") + fatal + " (" +
                                     (reason == nullptr ? "" : reason) + ")");
}

}  // namespace

Result<Producer> Producer::Create(const Config& config, const ProducerOptions& options) {
  const std::vector<std::pair<std::string, std::string>> defaults = {
      {"enable.idempotence", "true"},
      {"compression.type", options.compression},
      {"linger.ms", std::to_string(options.linger_ms)},
      {"batch.size", std::to_string(options.batch_size_bytes)},
      {"batch.num.messages", std::to_string(options.batch_num_messages)},
      {"queue.buffering.max.kbytes", std::to_string(options.queue_max_kbytes)},
      {"queue.buffering.max.messages", std::to_string(options.queue_max_messages)},
      {"message.max.bytes", std::to_string(options.message_max_bytes)},
      {"delivery.timeout.ms", std::to_string(options.delivery_timeout.count())},
      {"partitioner", "murmur2_random"},
  };
  auto conf = MakeConf(config, defaults);
  if (!conf.ok()) return conf.status();

  auto state = std::make_unique<State>();
  state->brokers = config.brokers;
  state->delivery_timeout = options.delivery_timeout;
  rd_kafka_conf_set_opaque(conf->get(), state.get());
  rd_kafka_conf_set_dr_msg_cb(conf->get(), &OnDelivery);
  rd_kafka_conf_set_error_cb(conf->get(), &OnError);
  char error[512];
  state->client = rd_kafka_new(RD_KAFKA_PRODUCER, conf->get(), error, sizeof(error));
  if (state->client == nullptr) {
    return Status::InvalidArgument("cannot create a Kafka producer: " + RedactSecrets(error));
  }
  conf->release();  // rd_kafka_new took ownership
  return Producer(std::move(state));
}

Producer::Producer(std::unique_ptr<State> state) : state_(std::move(state)) {}
Producer::Producer(Producer&&) noexcept = default;
Producer& Producer::operator=(Producer&&) noexcept = default;
Producer::~Producer() = default;

Status Producer::FailureStatus() const {
  if (!state_->fatal_error.empty()) {
    return Status::Unavailable("Kafka at " + state_->brokers + ": " + state_->fatal_error);
  }
  const DeliveryStats& stats = state_->stats;
  if (stats.failed > 0) {
    return Status::Unavailable(std::to_string(stats.failed) + " of " +
                               std::to_string(stats.produced) +
                               " messages could not be delivered to Kafka at " + state_->brokers +
                               ": " + stats.first_error);
  }
  return Status::Ok();
}

Status Producer::Produce(const std::string& topic_name, std::string_view key,
                         std::string_view value) {
  POSFLOW_RETURN_IF_ERROR(FailureStatus());
  rd_kafka_topic_t* topic = state_->Topic(topic_name);
  if (topic == nullptr) {
    return Status::InvalidArgument("cannot use Kafka topic " + topic_name + ": " +
                                   rd_kafka_err2str(rd_kafka_last_error()));
  }
  std::optional<std::chrono::steady_clock::time_point> deadline;  // set once the queue is full
  while (true) {
    // RD_KAFKA_MSG_F_COPY: librdkafka keeps its own copy, the caller's buffers are reused.
    const int result = rd_kafka_produce(
        topic, RD_KAFKA_PARTITION_UA, RD_KAFKA_MSG_F_COPY, const_cast<char*>(value.data()),
        value.size(), key.data(), key.size(), nullptr);
    if (result == 0) break;
    const rd_kafka_resp_err_t error = rd_kafka_last_error();
    if (error != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
      if (error == RD_KAFKA_RESP_ERR__FATAL) {
        rd_kafka_poll(state_->client, 0);
        POSFLOW_RETURN_IF_ERROR(FailureStatus());
      }
      const std::string message = "producing a message of " + std::to_string(value.size()) +
                                  " bytes to " + topic_name + ": " + rd_kafka_err2str(error);
      return error == RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE ? Status::InvalidArgument(message)
                                                           : Status::Unavailable(message);
    }
    // Backpressure: the queue is at its bound; wait for deliveries to make room.
    if (!deadline) deadline = std::chrono::steady_clock::now() + state_->delivery_timeout;
    rd_kafka_poll(state_->client, 10);
    POSFLOW_RETURN_IF_ERROR(FailureStatus());
    if (std::chrono::steady_clock::now() > *deadline) {
      return Status::Unavailable("Kafka at " + state_->brokers + " accepted nothing for " +
                                 std::to_string(state_->delivery_timeout.count()) +
                                 " ms (is it up? for the local stack run: scripts/stack up)");
    }
  }
  ++state_->stats.produced;
  // Serve delivery reports now and then: cheap, and keeps the report queue short.
  if (++state_->produced_since_poll >= 1000) {
    state_->produced_since_poll = 0;
    rd_kafka_poll(state_->client, 0);
  }
  return Status::Ok();
}

Status Producer::Produce(const std::string& topic_name, std::string_view key,
                         std::string_view value,
                         const std::vector<std::pair<std::string, std::string>>& headers) {
  POSFLOW_RETURN_IF_ERROR(FailureStatus());
  std::optional<std::chrono::steady_clock::time_point> deadline;  // set once the queue is full
  while (true) {
    // produceva takes ownership of the headers only on success: build them on every attempt.
    rd_kafka_headers_t* message_headers = rd_kafka_headers_new(headers.size());
    for (const auto& [name, header_value] : headers) {
      rd_kafka_header_add(message_headers, name.data(), static_cast<ssize_t>(name.size()),
                          header_value.data(), static_cast<ssize_t>(header_value.size()));
    }
    // rd_kafka_produceva rather than rd_kafka_producev: the latter's RD_KAFKA_V_* macros are GNU
    // statement expressions, which clang -Wpedantic refuses.
    rd_kafka_vu_t fields[5];
    fields[0].vtype = RD_KAFKA_VTYPE_TOPIC;
    fields[0].u.cstr = topic_name.c_str();
    fields[1].vtype = RD_KAFKA_VTYPE_MSGFLAGS;
    fields[1].u.i = RD_KAFKA_MSG_F_COPY;
    fields[2].vtype = RD_KAFKA_VTYPE_VALUE;
    fields[2].u.mem.ptr = const_cast<char*>(value.data());
    fields[2].u.mem.size = value.size();
    fields[3].vtype = RD_KAFKA_VTYPE_KEY;
    fields[3].u.mem.ptr = const_cast<char*>(key.data());
    fields[3].u.mem.size = key.size();
    fields[4].vtype = RD_KAFKA_VTYPE_HEADERS;
    fields[4].u.headers = message_headers;
    rd_kafka_error_t* failure = rd_kafka_produceva(state_->client, fields, 5);
    if (failure == nullptr) break;
    const rd_kafka_resp_err_t error = rd_kafka_error_code(failure);
    rd_kafka_error_destroy(failure);
    rd_kafka_headers_destroy(message_headers);
    if (error != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
      return Status::Unavailable("producing a message of " + std::to_string(value.size()) +
                                 " bytes to " + topic_name + ": " + rd_kafka_err2str(error));
    }
    if (!deadline) deadline = std::chrono::steady_clock::now() + state_->delivery_timeout;
    rd_kafka_poll(state_->client, 10);
    POSFLOW_RETURN_IF_ERROR(FailureStatus());
    if (std::chrono::steady_clock::now() > *deadline) {
      return Status::Unavailable("Kafka at " + state_->brokers + " accepted nothing for " +
                                 std::to_string(state_->delivery_timeout.count()) + " ms");
    }
  }
  ++state_->stats.produced;
  return Status::Ok();
}

void Producer::Poll() { rd_kafka_poll(state_->client, 0); }

Status Producer::Flush(std::chrono::milliseconds timeout) {
  const rd_kafka_resp_err_t error =
      rd_kafka_flush(state_->client, static_cast<int>(timeout.count()));
  POSFLOW_RETURN_IF_ERROR(FailureStatus());
  if (error != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return Status::Unavailable(std::to_string(rd_kafka_outq_len(state_->client)) +
                               " messages still not delivered to Kafka at " + state_->brokers +
                               " after " + std::to_string(timeout.count()) + " ms");
  }
  return Status::Ok();
}

DeliveryStats Producer::stats() const { return state_->stats; }

}  // namespace posflow::kafka
