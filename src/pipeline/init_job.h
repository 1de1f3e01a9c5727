#pragma once

// `posflow init`: brings a PostgreSQL database and a Kafka cluster to what posflow needs.
// Idempotent: a second run changes nothing and its report says so.

#include <chrono>
#include <string>
#include <vector>

#include "common/config.h"
#include "common/status.h"

namespace posflow::pipeline {

struct InitOptions {
  // Partitions of the input topic when init creates it. Default 6 (keyed by store_id).
  int partitions = 6;
  // Partitions of the dead-letter topic when init creates it. Default 1: low volume, and one
  // partition keeps dead letters in arrival order.
  int dlq_partitions = 1;
  // Replication factor of both topics; -1 is the broker's default.replication.factor.
  int replication_factor = -1;
  // Create the Kafka topics. Off for clusters whose topics are managed elsewhere.
  bool create_topics = true;
  // Create the database when it does not exist (needs the CREATEDB privilege).
  bool create_database = true;
  // How long to wait for Kafka's answers.
  std::chrono::milliseconds kafka_timeout{15000};
};

struct TopicReport {
  std::string name;
  bool created = false;
  int partitions = 0;
};

struct InitReport {
  std::string database;  // where, password masked
  bool database_created = false;
  std::vector<std::string> migrations_applied;
  int schema_version = 0;
  std::vector<TopicReport> topics;

  // Whether this run changed anything.
  bool Changed() const;
};

// Failure: Unavailable when PostgreSQL or Kafka cannot be reached, Corruption for a changed
// migration, FailedPrecondition for a refused statement or topic.
Result<InitReport> RunInit(const Config& config, const InitOptions& options);

}  // namespace posflow::pipeline
