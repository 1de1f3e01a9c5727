#include "integration/kafka_reader.h"

#include <gtest/gtest.h>
#include <librdkafka/rdkafka.h>

#include <memory>
#include <utility>

#include "integration/stack_fixture.h"

namespace posflow::testing {

std::vector<ConsumedMessage> ReadTopicFromBeginning(const std::string& brokers,
                                                    const std::string& topic, int partitions,
                                                    std::size_t expected,
                                                    std::chrono::seconds deadline,
                                                    std::chrono::seconds linger) {
  char error[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  for (const auto& [name, value] : std::vector<std::pair<std::string, std::string>>{
           {"bootstrap.servers", brokers},
           {"group.id", UniqueName("test_reader")},
           {"enable.auto.commit", "false"},
           {"enable.partition.eof", "false"},
           {"fetch.message.max.bytes", "4194304"}}) {
    EXPECT_EQ(rd_kafka_conf_set(conf, name.c_str(), value.c_str(), error, sizeof(error)),
              RD_KAFKA_CONF_OK)
        << error;
  }
  std::unique_ptr<rd_kafka_t, void (*)(rd_kafka_t*)> consumer(
      rd_kafka_new(RD_KAFKA_CONSUMER, conf, error, sizeof(error)), [](rd_kafka_t* handle) {
        rd_kafka_consumer_close(handle);
        rd_kafka_destroy(handle);
      });
  EXPECT_NE(consumer, nullptr) << error;
  if (!consumer) return {};
  rd_kafka_topic_partition_list_t* assignment = rd_kafka_topic_partition_list_new(partitions);
  for (int partition = 0; partition < partitions; ++partition) {
    rd_kafka_topic_partition_list_add(assignment, topic.c_str(), partition)->offset =
        RD_KAFKA_OFFSET_BEGINNING;
  }
  EXPECT_EQ(rd_kafka_assign(consumer.get(), assignment), RD_KAFKA_RESP_ERR_NO_ERROR);
  rd_kafka_topic_partition_list_destroy(assignment);

  std::vector<ConsumedMessage> messages;
  auto stop_at = std::chrono::steady_clock::now() + deadline;
  while (std::chrono::steady_clock::now() < stop_at) {
    rd_kafka_message_t* message = rd_kafka_consumer_poll(consumer.get(), 100);
    if (message == nullptr) continue;
    if (message->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
      messages.push_back(
          {message->partition, message->offset,
           std::string(static_cast<const char*>(message->key), message->key_len),
           std::string(static_cast<const char*>(message->payload), message->len)});
      if (messages.size() == expected) stop_at = std::chrono::steady_clock::now() + linger;
    } else {
      ADD_FAILURE() << "reading " << topic << " back: " << rd_kafka_message_errstr(message);
    }
    rd_kafka_message_destroy(message);
  }
  return messages;
}

}  // namespace posflow::testing
