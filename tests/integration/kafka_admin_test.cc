#include "kafka/admin_client.h"

#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "integration/stack_fixture.h"

namespace posflow::testing {
namespace {

using std::chrono::seconds;

class KafkaAdminTest : public StackTest {};

TEST_F(KafkaAdminTest, CreateIsIdempotentAndDescribeSeesPartitions) {
  auto admin = kafka::AdminClient::Create(config_);
  ASSERT_TRUE(admin.ok()) << admin.status().ToString();
  std::vector<kafka::TopicSpec> specs = {{config_.topic, 3, -1, {{"retention.ms", "3600000"}}}};
  auto first = admin->CreateTopics(specs, seconds(15));
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_EQ((*first)[0], kafka::TopicOutcome::kCreated);
  auto second = admin->CreateTopics(specs, seconds(15));
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  EXPECT_EQ((*second)[0], kafka::TopicOutcome::kAlreadyExisted);

  Result<kafka::TopicInfo> info = Status::NotFound("not yet");
  const auto deadline = std::chrono::steady_clock::now() + seconds(15);
  while (!(info = admin->DescribeTopic(config_.topic, seconds(5))).ok() &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  EXPECT_EQ(info->partitions, 3);
}

TEST_F(KafkaAdminTest, DescribeOfMissingTopicIsNotFound) {
  auto admin = kafka::AdminClient::Create(config_);
  ASSERT_TRUE(admin.ok());
  auto info = admin->DescribeTopic(UniqueName("Missing"), seconds(10));
  ASSERT_FALSE(info.ok());
  EXPECT_EQ(info.status().code(), Status::Code::kNotFound);
}

TEST_F(KafkaAdminTest, RefusesInvalidTopicNamingIt) {
  auto admin = kafka::AdminClient::Create(config_);
  ASSERT_TRUE(admin.ok());
  auto outcome = admin->CreateTopics({{"bad name!", 1, -1, {}}}, seconds(10));
  ASSERT_FALSE(outcome.ok());
  EXPECT_NE(outcome.status().message().find("bad name!"), std::string::npos);
}

TEST_F(KafkaAdminTest, UnreachableBrokerIsUnavailableWithinTheTimeout) {
  config_.brokers = "127.0.0.1:1";
  auto admin = kafka::AdminClient::Create(config_);
  ASSERT_TRUE(admin.ok());
  const auto start = std::chrono::steady_clock::now();
  auto outcome = admin->CreateTopics({{config_.topic, 1, -1, {}}}, seconds(2));
  ASSERT_FALSE(outcome.ok());
  EXPECT_EQ(outcome.status().code(), Status::Code::kUnavailable);
  EXPECT_LT(std::chrono::steady_clock::now() - start, seconds(10));
}

TEST_F(KafkaAdminTest, RefusedKafkaOptionIsInvalidArgumentWithSecretMasked) {
  config_.kafka_options = {{"sasl.password", "hunter2"}, {"no.such.property", "1"}};
  auto admin = kafka::AdminClient::Create(config_);
  ASSERT_FALSE(admin.ok());
  EXPECT_EQ(admin.status().code(), Status::Code::kInvalidArgument);
  EXPECT_NE(admin.status().message().find("no.such.property"), std::string::npos);
  EXPECT_EQ(admin.status().message().find("hunter2"), std::string::npos);
}

}  // namespace
}  // namespace posflow::testing
