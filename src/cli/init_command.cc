#include "cli/init_command.h"

#include <iostream>
#include <memory>

#include "cli/common_options.h"
#include "pipeline/init_job.h"

namespace posflow::cli {
namespace {

struct InitFlags {
  ConfigSources sources;
  pipeline::InitOptions options;
  bool no_topics = false;
};

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
      "ops.schema_migrations) and create the input and dead-letter topics. Safe to re-run.");
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
  command->add_flag("!--no-create-database", flags->options.create_database,
                    "fail instead of creating the database when it does not exist");
  command->callback([flags, run] { *run = [flags] { return RunInitCommand(*flags); }; });
}

}  // namespace posflow::cli
