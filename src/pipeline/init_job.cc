#include "pipeline/init_job.h"

#include <spdlog/spdlog.h>

#include <thread>
#include <utility>

#include "common/redact.h"
#include "kafka/admin_client.h"
#include "ops/migrator.h"
#include "pg/connection.h"
#include "sim/reference_data.h"
#include "staging/staging_factory.h"
#include "warehouse/reference_loader.h"

namespace posflow::pipeline {
namespace {

// The database named by the connection (libpq resolved it from the URL).
Result<std::string> CurrentDatabase(pg::Connection& connection) {
  auto rows = connection.Query("select current_database()");
  if (!rows.ok()) return rows.status();
  return std::string(rows->Get(0, 0));
}

// Creates the database `options` points at, connecting to the maintenance database "postgres".
Status CreateDatabase(const pg::ConnectionOptions& options, const std::string& name) {
  pg::ConnectionOptions admin = options;
  admin.database_override = "postgres";
  auto connection = pg::Connection::Open(admin);
  if (!connection.ok()) return connection.status().WithContext("creating database " + name);
  Status status = connection->Execute("create database " + pg::QuoteIdentifier(name) +
                                      " encoding 'UTF8' template template0");
  if (!status.ok() && connection->last_sqlstate() != "42P04") {  // 42P04: duplicate_database
    return status.WithContext("creating database " + name);
  }
  return Status::Ok();
}

// The database name in a postgresql:// URL (the path), or "" when it names none.
std::string DatabaseInUrl(const std::string& url) {
  size_t scheme_end = url.find("://");
  if (scheme_end == std::string::npos) return "";
  size_t slash = url.find('/', scheme_end + 3);
  if (slash == std::string::npos) return "";
  size_t end = url.find_first_of("?#", slash + 1);
  return url.substr(slash + 1, end == std::string::npos ? std::string::npos : end - slash - 1);
}

}  // namespace

bool InitReport::Changed() const {
  if (database_created || !migrations_applied.empty()) return true;
  if (reference_data && reference_data->Changed()) return true;
  for (const TopicReport& topic : topics) {
    if (topic.created) return true;
  }
  return false;
}

Result<InitReport> RunInit(const Config& config, const InitOptions& options) {
  InitReport report;
  report.database = RedactUrl(config.db);
  pg::ConnectionOptions connection_options = pg::OptionsFromConfig(config);
  // A migration of a large database or a big reference load may take longer than a pipeline
  // statement may.
  connection_options.statement_timeout_ms = 0;

  auto connection = pg::Connection::Open(connection_options);
  if (!connection.ok() && connection.status().code() == Status::Code::kNotFound &&
      options.create_database && !DatabaseInUrl(config.db).empty()) {
    const std::string name = DatabaseInUrl(config.db);
    POSFLOW_RETURN_IF_ERROR(CreateDatabase(connection_options, name));
    spdlog::info("created database {}", name);
    report.database_created = true;
    connection = pg::Connection::Open(connection_options);
  }
  if (!connection.ok()) return connection.status();
  auto database = CurrentDatabase(*connection);
  if (!database.ok()) return database.status();

  auto migrations = ops::ApplyMigrations(*connection, ops::EmbeddedMigrations());
  if (!migrations.ok()) return migrations.status();
  report.migrations_applied = migrations->applied;
  report.schema_version = migrations->schema_version;

  if (options.load_reference_data) {
    auto loaded = warehouse::LoadReferenceData(*connection, sim::DefaultReferenceData(),
                                               options.warehouse_dates);
    if (!loaded.ok()) return loaded.status();
    report.reference_data = *loaded;
  }

  // Staging beyond the migrations (MongoDB staging: its index); "" when there is none.
  auto prepared = staging::PrepareStaging(config);
  if (!prepared.ok()) return prepared.status();
  report.mongo_staging = std::move(*prepared);

  if (options.create_topics) {
    auto admin = kafka::AdminClient::Create(config);
    if (!admin.ok()) return admin.status();
    std::vector<kafka::TopicSpec> specs;
    for (const std::string& topic : config.Topics()) {
      specs.push_back({topic, options.partitions, options.replication_factor, {}});
      specs.push_back({topic + ".dlq", options.dlq_partitions, options.replication_factor, {}});
    }
    auto outcomes = admin->CreateTopics(specs, options.kafka_timeout);
    if (!outcomes.ok()) return outcomes.status();
    for (size_t i = 0; i < specs.size(); ++i) {
      TopicReport topic{specs[i].name, (*outcomes)[i] == kafka::TopicOutcome::kCreated, 0};
      // A topic just created may take a moment to show in metadata; poll with a deadline.
      const auto deadline = std::chrono::steady_clock::now() + options.kafka_timeout;
      while (true) {
        auto info = admin->DescribeTopic(specs[i].name, std::chrono::milliseconds(5000));
        if (info.ok()) {
          topic.partitions = info->partitions;
          break;
        }
        if (info.status().code() != Status::Code::kNotFound ||
            std::chrono::steady_clock::now() > deadline) {
          return info.status();
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
      }
      if (!topic.created && topic.partitions != specs[i].partitions) {
        spdlog::warn("topic {} exists with {} partitions (init would create {}); left as is",
                     topic.name, topic.partitions, specs[i].partitions);
      }
      report.topics.push_back(std::move(topic));
    }
  }
  return report;
}

}  // namespace posflow::pipeline
