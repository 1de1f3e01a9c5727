#include "cli/check_command.h"

#include <fmt/format.h>

#include <iostream>
#include <memory>

#include "cli/common_options.h"
#include "pipeline/check_job.h"

namespace posflow::cli {
namespace {

struct CheckFlags {
  ConfigSources sources;
  pipeline::CheckOptions options;
  bool no_kafka = false;
  bool json = false;
};

std::string JsonString(const std::string& text) {
  std::string out = "\"";
  for (char c : text) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      out += fmt::format("\\u{:04x}", static_cast<unsigned char>(c));
    } else {
      out += c;
    }
  }
  return out + "\"";
}

int RunCheckCommand(const CheckFlags& flags) {
  auto config = LoadConfig(flags.sources);
  if (!config.ok()) return ReportFailure("check", config.status());
  pipeline::CheckOptions options = flags.options;
  options.query_kafka = !flags.no_kafka;
  auto report = pipeline::RunCheck(*config, options);
  if (!report.ok()) return ReportFailure("check", report.status());
  std::size_t differences = 0;
  for (const auto& item : report->items) differences += item.ok ? 0 : 1;
  if (flags.json) {
    std::string out = fmt::format("{{\"ok\":{},\"checks\":[", report->ok() ? "true" : "false");
    for (std::size_t index = 0; index < report->items.size(); ++index) {
      const auto& item = report->items[index];
      out += fmt::format("{}{{\"name\":{},\"ok\":{},\"detail\":{}}}", index == 0 ? "" : ",",
                         JsonString(item.name), item.ok ? "true" : "false",
                         JsonString(item.detail));
    }
    std::cout << out << "]}" << std::endl;
  } else {
    for (const auto& item : report->items) {
      std::cout << fmt::format("{:<14} {:<10} {}", item.name, item.ok ? "OK" : "DIFFERENCE",
                               item.detail)
                << '\n';
    }
    if (report->ok()) {
      std::cout << "check: OK, " << report->items.size() << " checks agree" << std::endl;
    } else {
      std::cout << "check: DIFFERENCE in " << differences << " of " << report->items.size()
                << " checks" << std::endl;
    }
  }
  return report->ok() ? kExitOk : kExitDifference;
}

}  // namespace

void RegisterCheckCommand(CLI::App& app, std::function<int()>* run) {
  auto flags = std::make_shared<CheckFlags>();
  CLI::App* command = app.add_subcommand(
      "check",
      "Reconcile Kafka offsets, staging, dead letters, facts, aggregates and inventory against "
      "each other (and against producer manifests) and print a verdict; exit 3 on any "
      "difference.");
  AddCommonOptions(command, &flags->sources);
  command->add_option("--manifest", flags->options.manifest_paths,
                      "producer manifest(s) of everything sent to the database's topics; "
                      "repeatable")
      ->check(CLI::ExistingFile);
  command->add_flag("--no-kafka", flags->no_kafka,
                    "do not ask the broker for watermarks (lag, skipped messages)");
  command->add_flag("--json", flags->json, "print the checks as one JSON object");
  command->callback([flags, run] { *run = [flags] { return RunCheckCommand(*flags); }; });
}

}  // namespace posflow::cli
