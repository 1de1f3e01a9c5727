#include "cli/report_command.h"

#include <algorithm>
#include <cstdint>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cli/common_options.h"
#include "common/civil_time.h"
#include "pg/connection.h"
#include "warehouse/report.h"
#include "warehouse/report_format.h"

namespace posflow::cli {
namespace {

struct ReportFlags {
  ConfigSources sources;
  std::string name;
  std::optional<std::string> from;
  std::optional<std::string> to;
  std::optional<std::string> store;
  std::optional<std::int64_t> limit;
  std::string format = "table";
};

// Parses --from/--to; nullopt for an absent flag.
Result<std::optional<CivilDate>> DateFlag(const std::string& flag,
                                          const std::optional<std::string>& text) {
  if (!text) return std::optional<CivilDate>();
  std::optional<CivilDate> date = ParseDate(*text);
  if (!date) {
    return Status::InvalidArgument(flag + " '" + *text + "' is not a date (YYYY-MM-DD)");
  }
  return date;
}

int Run(const ReportFlags& flags) {
  warehouse::ReportRequest request;
  request.name = flags.name;
  auto from = DateFlag("--from", flags.from);
  if (!from.ok()) return ReportFailure("report", from.status());
  auto to = DateFlag("--to", flags.to);
  if (!to.ok()) return ReportFailure("report", to.status());
  request.from = *from;
  request.to = *to;
  request.store_id = flags.store;
  request.limit = flags.limit;
  if (Status valid = warehouse::ValidateReportRequest(request); !valid.ok()) {
    return ReportFailure("report", valid);
  }
  const std::optional<warehouse::OutputFormat> format =
      warehouse::ParseOutputFormat(flags.format);
  if (!format) {
    return ReportFailure("report", Status::InvalidArgument("--format must be table, csv or json"));
  }

  auto config = LoadConfig(flags.sources);
  if (!config.ok()) return ReportFailure("report", config.status());
  auto connection = pg::Connection::Open(pg::OptionsFromConfig(*config));
  if (!connection.ok()) return ReportFailure("report", connection.status());
  auto table = warehouse::RunReport(*connection, request);
  if (!table.ok()) return ReportFailure("report", table.status());
  std::cout << warehouse::FormatReport(*table, *format) << std::flush;
  return std::cout ? kExitOk : kExitFailure;
}

std::string ReportList() {
  std::string text = "Reports:\n";
  for (const warehouse::ReportInfo& report : warehouse::Reports()) {
    std::string name(report.name);
    name.resize(std::max<std::size_t>(name.size(), 16), ' ');
    text += "  " + name + std::string(report.summary) + "\n";
  }
  return text +
         "Each is one SQL query, sql/reports/NAME.sql (compiled in; its header says how to run\n"
         "it by hand in psql). Money is exact to the cent.";
}

}  // namespace

void RegisterReportCommand(CLI::App& app, std::function<int()>* run) {
  auto flags = std::make_shared<ReportFlags>();
  CLI::App* report = app.add_subcommand(
      "report", "The warehouse's reports (sales, products, hours, baskets, payments, low stock) "
                "as a table, CSV or JSON.");
  AddCommonOptions(report, &flags->sources);
  std::vector<std::string> names;
  for (const warehouse::ReportInfo& info : warehouse::Reports()) {
    names.emplace_back(info.name);
  }
  report->add_option("name", flags->name, "which report (listed below)")
      ->required()
      ->check(CLI::IsMember(names));
  report->add_option("--from", flags->from,
                     "first store-local sale date, inclusive (YYYY-MM-DD; default: the first)");
  report->add_option("--to", flags->to,
                     "last store-local sale date, inclusive (YYYY-MM-DD; default: the last)");
  report->add_option("--store", flags->store, "only this store (S001)");
  report->add_option("--limit", flags->limit,
                     "top-products: how many (default " +
                         std::to_string(warehouse::kDefaultTopProductsLimit) + ")");
  report->add_option("--format", flags->format, "table, csv (RFC 4180) or json")
      ->capture_default_str()
      ->check(CLI::IsMember({"table", "csv", "json"}));
  report->footer(ReportList());
  report->callback([flags, run] { *run = [flags] { return Run(*flags); }; });
}

}  // namespace posflow::cli
