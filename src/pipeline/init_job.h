#pragma once

// `posflow init`: brings a PostgreSQL database and a Kafka cluster to what posflow needs.
// Idempotent: a second run changes nothing and its report says so.

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "common/civil_time.h"
#include "common/config.h"
#include "common/status.h"
#include "warehouse/reference_loader.h"

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
  // Load the chain's reference data (sim::DefaultReferenceData) into the warehouse dimensions
  // and the opening inventory, after the migrations. Default on; costs ~1-2 s on a fresh
  // database (50 000 customers, 264 fact partitions), well under a second when up to date.
  bool load_reference_data = true;
  // Days pre-filled in dw.dim_date and months given fact partitions. Default 2020-01-01 ..
  // 2030-12-31.
  CivilDateRange warehouse_dates = warehouse::DefaultWarehouseDates();
};

struct TopicReport {
  std::string name;
  bool created = false;
  int partitions = 0;
};

struct InitReport {
  std::string database;  // where, password masked
  // MongoDB staging (staging: mongodb://...): where, password masked; empty with PostgreSQL
  // staging. Its index is created (idempotently) by every init.
  std::string mongo_staging;
  bool database_created = false;
  std::vector<std::string> migrations_applied;
  int schema_version = 0;
  std::vector<TopicReport> topics;
  // What the reference-data load did; nullopt when it was skipped.
  std::optional<warehouse::ReferenceLoadReport> reference_data;

  // Whether this run changed anything.
  bool Changed() const;
};

// Failure: Unavailable when PostgreSQL or Kafka cannot be reached, Corruption for a changed
// migration, InvalidArgument for a reversed warehouse_dates, FailedPrecondition for a refused
// statement or topic. A failed reference-data load changes nothing (one transaction).
Result<InitReport> RunInit(const Config& config, const InitOptions& options);

}  // namespace posflow::pipeline
