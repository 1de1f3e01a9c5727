#include "cli/init_command.h"

#include <cstdint>
#include <iostream>
#include <memory>
#include <string>

#include "cli/common_options.h"
#include "pipeline/init_job.h"

namespace posflow::cli {
namespace {

struct InitFlags {
  ConfigSources sources;
  pipeline::InitOptions options;
  bool no_topics = false;
  bool no_reference_data = false;
  std::string dates;  // "FROM:TO", empty: the default range
};

// "reference data: 15 stores, ... loaded" or "reference data: up to date", then what else
// changed: new SCD2 versions, updated or filled-in members, calendar days and fact partitions.
void PrintReferenceData(const warehouse::ReferenceLoadReport& loaded) {
  const std::int64_t inserted = loaded.stores_inserted + loaded.products_inserted +
                                loaded.customers_inserted + loaded.payment_types_inserted +
                                loaded.inventory_seeded;
  const std::int64_t filled =
      loaded.stores_filled + loaded.products_filled + loaded.payment_types_filled;
  const std::int64_t changed =
      loaded.stores_versioned + loaded.products_versioned + loaded.customers_updated + filled;
  if (inserted != 0) {
    std::cout << "reference data: " << loaded.stores_inserted << " stores, "
              << loaded.products_inserted << " products, " << loaded.customers_inserted
              << " customers, " << loaded.payment_types_inserted << " payment types, "
              << loaded.inventory_seeded << " inventory records loaded\n";
  }
  if (changed != 0) {
    std::cout << "reference data: " << loaded.stores_versioned << " stores and "
              << loaded.products_versioned << " products changed (new versions), "
              << loaded.customers_updated << " customers updated, " << filled
              << " inferred members filled in\n";
  }
  if (inserted == 0 && changed == 0) std::cout << "reference data: up to date\n";
  if (loaded.dates_inserted + loaded.times_inserted + loaded.partitions_created != 0) {
    std::cout << "calendar: " << loaded.dates_inserted << " days, " << loaded.times_inserted
              << " minutes, " << loaded.partitions_created << " fact partitions created\n";
  }
}

void PrintReport(const pipeline::InitReport& report) {
  std::cout << "database " << report.database << ": "
            << (report.database_created ? "created" : "exists") << "\n";
  for (const std::string& migration : report.migrations_applied) {
    std::cout << "migration " << migration << ": applied\n";
  }
  std::cout << "schema: at version " << report.schema_version
            << (report.migrations_applied.empty() ? " (up to date)" : "") << "\n";
  for (const pipeline::TopicReport& topic : report.topics) {
    std::cout << "topic " << topic.name << ": " << (topic.created ? "created" : "exists") << " ("
              << topic.partitions << " partitions)\n";
  }
  if (report.reference_data) PrintReferenceData(*report.reference_data);
  if (!report.mongo_staging.empty()) {
    std::cout << "MongoDB staging " << report.mongo_staging << ": index ready\n";
  }
  if (report.Changed()) {
    std::cout << "init: done\n";
  } else {
    std::cout << "init: nothing to do, everything was already in place\n";
  }
}

int RunInitCommand(const InitFlags& flags) {
  auto config = LoadConfig(flags.sources);
  if (!config.ok()) return ReportFailure("init", config.status());
  pipeline::InitOptions options = flags.options;
  options.create_topics = !flags.no_topics;
  options.load_reference_data = !flags.no_reference_data;
  if (!flags.dates.empty()) {
    auto dates = ParseDateRange(flags.dates);
    if (!dates) {
      std::cerr << "init: --dates must be YYYY-MM-DD:YYYY-MM-DD (first day, last day), got '"
                << flags.dates << "'\n";
      return kExitUsage;
    }
    options.warehouse_dates = *dates;
  }
  auto report = pipeline::RunInit(*config, options);
  if (!report.ok()) return ReportFailure("init", report.status());
  PrintReport(*report);
  return kExitOk;
}

}  // namespace

void RegisterInitCommand(CLI::App& app, std::function<int()>* run) {
  auto flags = std::make_shared<InitFlags>();
  CLI::App* command = app.add_subcommand(
      "init",
      "Prepare PostgreSQL and Kafka: apply the SQL migrations (recorded in "
      "ops.schema_migrations), load the reference data into the warehouse (calendar, "
      "dimensions, opening inventory, fact partitions) and create the input and dead-letter "
      "topics. Safe to re-run.");
  AddCommonOptions(command, &flags->sources);
  command->add_option("--partitions", flags->options.partitions,
                      "partitions of the input topic when it is created")
      ->capture_default_str()
      ->check(CLI::Range(1, 10000));
  command->add_option("--replication-factor", flags->options.replication_factor,
                      "replication factor of the topics; -1 = the broker's default")
      ->capture_default_str()
      ->check(CLI::Range(-1, 100));
  command->add_flag("--no-topics", flags->no_topics,
                    "do not create Kafka topics (they are managed elsewhere)");
  command->add_flag("--no-reference-data", flags->no_reference_data,
                    "do not load the reference data (dimensions, calendar, opening inventory) "
                    "into the warehouse");
  command->add_option("--dates", flags->dates,
                      "days of dw.dim_date and months of fact partitions to prepare, "
                      "FROM:TO (YYYY-MM-DD:YYYY-MM-DD); default 2020-01-01:2030-12-31");
  command->add_flag("!--no-create-database", flags->options.create_database,
                    "fail instead of creating the database when it does not exist");
  command->callback([flags, run] { *run = [flags] { return RunInitCommand(*flags); }; });
}

}  // namespace posflow::cli
