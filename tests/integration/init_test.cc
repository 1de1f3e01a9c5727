#include <gtest/gtest.h>

#include <set>
#include <string>
#include <thread>

#include "integration/stack_fixture.h"
#include "ops/embedded_migrations.h"
#include "ops/migrator.h"
#include "pg/connection.h"
#include "pipeline/init_job.h"

namespace posflow::testing {
namespace {

class InitTest : public StackTest {
 protected:
  pg::Connection Connect() {
    auto connection = pg::Connection::Open(pg::OptionsFromConfig(config_));
    EXPECT_TRUE(connection.ok()) << connection.status().ToString();
    return std::move(connection).value();
  }

  std::set<std::string> Schemas() {
    pg::Connection connection = Connect();
    auto rows = connection.Query("select schema_name from information_schema.schemata");
    EXPECT_TRUE(rows.ok()) << rows.status().ToString();
    std::set<std::string> names;
    for (int row = 0; row < rows->rows(); ++row) names.emplace(rows->Get(row, 0));
    return names;
  }
};

TEST_F(InitTest, FreshDatabaseGetsSchemasLedgerAndTopics) {
  auto report = pipeline::RunInit(config_, {});
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_TRUE(report->Changed());
  EXPECT_FALSE(report->database_created);
  EXPECT_EQ(report->migrations_applied.size(), ops::EmbeddedMigrations().size());
  const std::set<std::string> schemas = Schemas();
  for (const char* schema : {"staging", "dw", "inventory", "ops"}) {
    EXPECT_EQ(schemas.count(schema), 1u) << schema;
  }
  ASSERT_EQ(report->topics.size(), 2u);
  EXPECT_EQ(report->topics[0].name, config_.topic);
  EXPECT_TRUE(report->topics[0].created);
  EXPECT_EQ(report->topics[0].partitions, 6);
  EXPECT_EQ(report->topics[1].name, config_.topic + ".dlq");
  EXPECT_EQ(report->topics[1].partitions, 1);
}

TEST_F(InitTest, SecondRunChangesNothing) {
  ASSERT_TRUE(pipeline::RunInit(config_, {}).ok());
  auto second = pipeline::RunInit(config_, {});
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  EXPECT_FALSE(second->Changed());
  EXPECT_TRUE(second->migrations_applied.empty());
  EXPECT_EQ(second->schema_version,
            ops::MigrationVersion(ops::EmbeddedMigrations().back().file_name));
  for (const auto& topic : second->topics) EXPECT_FALSE(topic.created) << topic.name;
}

TEST_F(InitTest, RefusesMigrationChangedAfterItWasApplied) {
  pipeline::InitOptions options;
  options.create_topics = false;
  ASSERT_TRUE(pipeline::RunInit(config_, options).ok());
  pg::Connection connection = Connect();
  ASSERT_TRUE(connection.Execute("update ops.schema_migrations set checksum = 'edited' "
                                 "where version = 1").ok());
  auto report = pipeline::RunInit(config_, options);
  ASSERT_FALSE(report.ok());
  EXPECT_EQ(report.status().code(), Status::Code::kCorruption);
  EXPECT_NE(report.status().message().find("001_"), std::string::npos);
}

TEST_F(InitTest, RefusesDatabaseNewerThanBinary) {
  pipeline::InitOptions options;
  options.create_topics = false;
  ASSERT_TRUE(pipeline::RunInit(config_, options).ok());
  pg::Connection connection = Connect();
  ASSERT_TRUE(connection.Execute("insert into ops.schema_migrations (version, name, checksum) "
                                 "values (999, '999_from_the_future.sql', 'x')").ok());
  auto report = pipeline::RunInit(config_, options);
  ASSERT_FALSE(report.ok());
  EXPECT_EQ(report.status().code(), Status::Code::kCorruption);
}

TEST_F(InitTest, CreatesMissingDatabase) {
  const std::string name = UniqueName("posflow_test_new");
  DropAtTearDown(name);
  config_.db = WithDatabase(AdminDatabaseUrl(), name);
  pipeline::InitOptions options;
  options.create_topics = false;
  auto report = pipeline::RunInit(config_, options);
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_TRUE(report->database_created);
  EXPECT_EQ(Schemas().count("dw"), 1u);
}

TEST_F(InitTest, ConcurrentRunsTakeTurns) {
  pipeline::InitOptions options;
  options.create_topics = false;
  Status first;
  Status second;
  std::thread other([&] { first = pipeline::RunInit(config_, options).status(); });
  second = pipeline::RunInit(config_, options).status();
  other.join();
  EXPECT_TRUE(first.ok()) << first.ToString();
  EXPECT_TRUE(second.ok()) << second.ToString();
  pg::Connection connection = Connect();
  auto rows = connection.Query("select count(*) from ops.schema_migrations");
  ASSERT_TRUE(rows.ok());
  EXPECT_EQ(std::stoul(std::string(rows->Get(0, 0))), ops::EmbeddedMigrations().size());
}

TEST_F(InitTest, UnreachablePostgresIsUnavailableWithAHint) {
  config_.db = "postgresql://127.0.0.1:1/posflow";
  auto report = pipeline::RunInit(config_, {});
  ASSERT_FALSE(report.ok());
  EXPECT_EQ(report.status().code(), Status::Code::kUnavailable);
  EXPECT_NE(report.status().message().find("scripts/stack up"), std::string::npos);
}

}  // namespace
}  // namespace posflow::testing
