#include "cli/maintain_command.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <iostream>
#include <iterator>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cli/common_options.h"
#include "pipeline/maintain_job.h"

namespace posflow::cli {
namespace {

constexpr const char* kSteps[] = {"partitions", "calendar", "staging", "dead-letters",
                                  "statistics"};

struct MaintainFlags {
  ConfigSources sources;
  pipeline::MaintainOptions options;
  int staging_retention_hours = 168;
  std::vector<std::string> steps;  // empty: all
  bool json = false;
};

std::string JsonNumber(const std::optional<std::int64_t>& value) {
  return value ? std::to_string(*value) : "null";
}

std::string JsonText(const std::string& text) {
  // Dates and months only: nothing to escape.
  return text.empty() ? "null" : "\"" + text + "\"";
}

void PrintReport(const pipeline::MaintainReport& report, const pipeline::MaintainOptions& options,
                 bool json) {
  if (json) {
    std::cout << fmt::format(
                     "{{\"partitions_created\":{},\"partitions_through\":{},"
                     "\"calendar_days_added\":{},\"calendar_ends\":{},"
                     "\"staging_transactions_purged\":{},\"staging_lines_purged\":{},"
                     "\"dead_letters_purged\":{},\"tables_vacuumed\":{},\"seconds\":{:.3f}}}",
                     JsonNumber(report.partitions_created), JsonText(report.partitions_through),
                     JsonNumber(report.calendar_days_added), JsonText(report.calendar_ends),
                     JsonNumber(report.staging_transactions_purged),
                     JsonNumber(report.staging_lines_purged),
                     JsonNumber(report.dead_letters_purged), JsonNumber(report.tables_vacuumed),
                     report.seconds)
              << std::endl;
    return;
  }
  if (report.partitions_created) {
    std::cout << "partitions: " << *report.partitions_created
              << " fact partitions created; prepared through " << report.partitions_through
              << "\n";
  }
  if (report.calendar_days_added) {
    std::cout << "calendar: " << *report.calendar_days_added << " days added; dw.dim_date ends "
              << (report.calendar_ends.empty() ? "(empty)" : report.calendar_ends) << "\n";
  }
  if (report.staging_transactions_purged) {
    std::cout << "staging: " << *report.staging_transactions_purged << " kept receipts and "
              << report.staging_lines_purged.value_or(0) << " lines purged (loaded over "
              << options.staging_retention.count() << " h ago)\n";
  }
  if (report.dead_letters_purged) {
    std::cout << "dead letters: payload erased from " << *report.dead_letters_purged
              << " (first seen over " << options.dead_letter_retention_days << " days ago)\n";
  } else if (options.dead_letters) {
    std::cout << "dead letters: kept (no retention)\n";
  }
  if (report.tables_vacuumed) {
    std::cout << "statistics: " << *report.tables_vacuumed << " tables vacuumed and analyzed\n";
  }
  std::cout << fmt::format("maintain: done in {:.1f} s", report.seconds) << std::endl;
}

int RunMaintainCommand(const MaintainFlags& flags) {
  auto config = LoadConfig(flags.sources);
  if (!config.ok()) return ReportFailure("maintain", config.status());
  pipeline::MaintainOptions options = flags.options;
  options.staging_retention = std::chrono::hours(flags.staging_retention_hours);
  if (!flags.steps.empty()) {
    auto wanted = [&](const std::string& step) {
      return std::find(flags.steps.begin(), flags.steps.end(), step) != flags.steps.end();
    };
    options.partitions = wanted("partitions");
    options.calendar = wanted("calendar");
    options.staging = wanted("staging");
    options.dead_letters = wanted("dead-letters");
    options.statistics = wanted("statistics");
  }
  auto report = pipeline::RunMaintain(*config, options);
  if (!report.ok()) return ReportFailure("maintain", report.status());
  PrintReport(*report, options, flags.json);
  return kExitOk;
}

}  // namespace

void RegisterMaintainCommand(CLI::App& app, std::function<int()>* run) {
  auto flags = std::make_shared<MaintainFlags>();
  CLI::App* command = app.add_subcommand(
      "maintain",
      "Periodic upkeep the incremental ETL does not do, each step one transaction: the coming "
      "months' fact partitions and calendar days, purge of kept staging rows and of dead-letter "
      "payloads past their retention (the dead letters themselves stay), VACUUM ANALYZE of the "
      "warehouse. Safe beside a running pipeline; exit 4 when another maintain is running.");
  AddCommonOptions(command, &flags->sources);
  command->add_option("--months-ahead", flags->options.months_ahead,
                      "prepare fact partitions (and calendar days) this many months past the "
                      "current one")
      ->capture_default_str()
      ->check(CLI::Range(0, 120));
  command->add_option("--staging-retention-hours", flags->staging_retention_hours,
                      "purge kept staging rows (staging.*_loaded) loaded longer ago; 0 purges "
                      "them all")
      ->capture_default_str()
      ->check(CLI::Range(0, 24 * 3660));
  command->add_option("--dead-letter-retention-days",
                      flags->options.dead_letter_retention_days,
                      "erase the raw payload and key of dead letters first seen longer ago (the "
                      "row, its reasons and offset stay); 0 keeps them forever")
      ->capture_default_str()
      ->check(CLI::Range(0, 36600));
  command->add_option("--steps", flags->steps,
                      "only these steps, comma-separated: partitions, calendar, staging, "
                      "dead-letters, statistics (default: all)")
      ->delimiter(',')
      ->check(CLI::IsMember(std::vector<std::string>(std::begin(kSteps), std::end(kSteps))));
  command->add_flag("--json", flags->json, "print the summary as one JSON object");
  command->callback([flags, run] { *run = [flags] { return RunMaintainCommand(*flags); }; });
}

}  // namespace posflow::cli
