#include "integration/stack_fixture.h"

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <iostream>
#include <random>

#include "kafka/admin_client.h"
#include "pg/connection.h"

namespace posflow::testing {
namespace {

std::string EnvOr(const char* name, const char* fallback) {
  const char* value = std::getenv(name);
  return value != nullptr && *value != '\0' ? value : fallback;
}

bool SkipRequested() { return EnvOr("POSFLOW_SKIP_INTEGRATION", "0") == "1"; }

Result<pg::Connection> AdminConnection() {
  pg::ConnectionOptions options;
  options.url = AdminDatabaseUrl();
  options.connect_timeout_seconds = 5;
  return pg::Connection::Open(options);
}

}  // namespace

std::string AdminDatabaseUrl() {
  return EnvOr("POSFLOW_TEST_PG", "postgresql://127.0.0.1:5432/postgres");
}

std::string TestBrokers() { return EnvOr("POSFLOW_TEST_BROKERS", "127.0.0.1:9092"); }

std::string UniqueName(const std::string& prefix) {
  static std::atomic<int> counter{0};
  static std::mt19937_64 random(std::random_device{}());
  return prefix + "_" + std::to_string(::getpid()) + "_" + std::to_string(counter++) + "_" +
         std::to_string(random() % 100000);
}

unsigned ChaosSeed() {
  const std::string given = EnvOr("POSFLOW_TEST_SEED", "");
  unsigned seed = 0;
  if (given.empty()) {
    seed = std::random_device{}();
  } else {
    seed = static_cast<unsigned>(std::strtoul(given.c_str(), nullptr, 10));
  }
  std::cout << "[ chaos    ] seed " << seed << (given.empty() ? "" : " (from POSFLOW_TEST_SEED)")
            << "; replay with POSFLOW_TEST_SEED=" << seed << std::endl;
  return seed;
}

std::string WithDatabase(const std::string& url, const std::string& database) {
  size_t slash = url.find('/', url.find("://") + 3);
  return url.substr(0, slash) + "/" + database;
}

void StackTest::SetUp() {
  if (SkipRequested()) GTEST_SKIP() << "POSFLOW_SKIP_INTEGRATION=1";
  config_.brokers = TestBrokers();
  config_.topic = UniqueName("PosTest");
  config_.group = UniqueName("posflow_test");
  config_.metrics_addr = "off";
  config_.db = CreateDatabase();
}

std::string StackTest::CreateDatabase() {
  auto admin = AdminConnection();
  if (!admin.ok()) {
    ADD_FAILURE() << "the local stack is not running (start it with: scripts/stack up; or set "
                     "POSFLOW_SKIP_INTEGRATION=1 to skip): "
                  << admin.status().message();
    return "";
  }
  const std::string name = UniqueName("posflow_test");
  Status status = admin->Execute("create database " + name);
  EXPECT_TRUE(status.ok()) << status.ToString();
  databases_.push_back(name);
  return WithDatabase(AdminDatabaseUrl(), name);
}

void StackTest::TearDown() {
  if (SkipRequested()) return;
  if (auto admin = AdminConnection(); admin.ok()) {
    for (const std::string& name : databases_) {
      Status status = admin->Execute("drop database if exists " + name + " with (force)");
      EXPECT_TRUE(status.ok()) << status.ToString();
    }
  }
  // The test may have pointed config_ elsewhere (an unreachable broker): clean up on the stack.
  Config cleanup = config_;
  cleanup.brokers = TestBrokers();
  cleanup.kafka_options.clear();
  if (auto kafka = kafka::AdminClient::Create(cleanup); kafka.ok()) {
    (void)kafka->DeleteTopics({cleanup.topic, cleanup.DlqTopic()}, std::chrono::seconds(10));
  }
}

}  // namespace posflow::testing
