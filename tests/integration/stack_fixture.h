#pragma once

// Shared fixture of the integration tests: each test gets its own PostgreSQL database and its
// own Kafka topic names on the real local stack (scripts/stack up), so tests never see each
// other's data. When the stack is missing the tests FAIL, unless POSFLOW_SKIP_INTEGRATION=1
// says explicitly to skip them.
//
// Environment: POSFLOW_TEST_PG (maintenance database URL, default
// postgresql://127.0.0.1:5432/postgres), POSFLOW_TEST_BROKERS (default 127.0.0.1:9092).

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "common/config.h"

namespace posflow::testing {

std::string AdminDatabaseUrl();
std::string TestBrokers();

// "<prefix>_<pid>_<n>_<random>": unique per process and call, valid as a database or topic name.
std::string UniqueName(const std::string& prefix);

// `url` with its database replaced by `database`.
std::string WithDatabase(const std::string& url, const std::string& database);

// The seed of a test that kills or restarts at random moments: POSFLOW_TEST_SEED when set (to
// replay a failing run), else a fresh random one. Printed on stdout either way, so that every
// run's log says how to replay it.
unsigned ChaosSeed();

class StackTest : public ::testing::Test {
 protected:
  void SetUp() override;
  void TearDown() override;

  // Creates one more database dropped at TearDown; returns its URL.
  std::string CreateDatabase();
  // Registers a database created by the code under test, so that TearDown drops it.
  void DropAtTearDown(const std::string& database) { databases_.push_back(database); }

  // Points at this test's own database and topic.
  Config config_;

 private:
  std::vector<std::string> databases_;
};

}  // namespace posflow::testing
