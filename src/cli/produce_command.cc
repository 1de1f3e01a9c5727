#include "cli/produce_command.h"

#include <unistd.h>

#include <cstdio>
#include <memory>
#include <string>

#include "cli/common_options.h"
#include "cli/signals.h"
#include "pipeline/produce_job.h"

namespace posflow::cli {
namespace {

struct ProduceFlags {
  ConfigSources sources;
  pipeline::ProduceOptions options;
  std::string bad_kinds;
};

// "\r<line>" on a terminal: the line is redrawn in place.
void PrintProgress(const pipeline::ProduceProgress& progress) {
  const double rate = progress.seconds > 0 ? static_cast<double>(progress.messages) / progress.seconds : 0;
  std::fprintf(stderr,
               "\r\033[Kproduce: %lld sent (%lld valid, %lld bad, %lld duplicates) in %.1f s, "
               "%.0f msg/s, %lld delivery errors",
               static_cast<long long>(progress.messages), static_cast<long long>(progress.valid),
               static_cast<long long>(progress.bad), static_cast<long long>(progress.duplicates),
               progress.seconds, rate, static_cast<long long>(progress.delivery_errors));
  std::fflush(stderr);
}

std::vector<std::string> SplitList(const std::string& text) {
  std::vector<std::string> items;
  std::size_t begin = 0;
  while (begin <= text.size()) {
    std::size_t end = text.find(',', begin);
    if (end == std::string::npos) end = text.size();
    std::string item = text.substr(begin, end - begin);
    item.erase(0, item.find_first_not_of(' '));
    item.erase(item.find_last_not_of(' ') + 1);
    if (!item.empty()) items.push_back(item);
    begin = end + 1;
  }
  return items;
}

int RunProduceCommand(ProduceFlags& flags) {
  auto config = LoadConfig(flags.sources);
  if (!config.ok()) return ReportFailure("produce", config.status());
  pipeline::ProduceOptions options = flags.options;
  options.bad_kinds = SplitList(flags.bad_kinds);
  const bool terminal = ::isatty(STDERR_FILENO) == 1;
  if (terminal) options.on_progress = PrintProgress;
  // SIGINT/SIGTERM end the run cleanly: flush, write the manifest of what was sent, exit 0
  // (a second signal ends the process at once).
  options.stop = &InstallStopSignals();
  auto report = pipeline::RunProduce(*config, options);
  if (terminal) std::fputc('\n', stderr);
  if (!report.ok()) return ReportFailure("produce", report.status());
  if (terminal) {
    const sim::Manifest& manifest = report->manifest;
    std::fprintf(stderr, "produce: done, %lld messages to %s in %.2f s (%.0f msg/s), stopped by %s\n",
                 static_cast<long long>(manifest.messages), manifest.sink.c_str(), report->seconds,
                 report->seconds > 0 ? static_cast<double>(manifest.messages) / report->seconds : 0.0,
                 manifest.stopped_by.c_str());
  }
  return kExitOk;
}

}  // namespace

void RegisterProduceCommand(CLI::App& app, std::function<int()>* run) {
  auto flags = std::make_shared<ProduceFlags>();
  pipeline::ProduceOptions& options = flags->options;
  CLI::App* command = app.add_subcommand(
      "produce",
      "Simulate Boreal Market's point-of-sale transactions into Kafka (key = store_id) or an "
      "NDJSON file, optionally with malformed messages and duplicates, and write a manifest of "
      "what was sent. Without --count, --days or --duration it sends 1000 messages.");
  AddCommonOptions(command, &flags->sources);
  command->add_option("--count", options.count,
                      "messages to send (valid + bad + duplicates); default 1000 when nothing "
                      "else bounds the run")
      ->check(CLI::Range(std::int64_t{1}, std::int64_t{1} << 50));
  command->add_option("--rate", options.rate,
                      "steady rate in messages/s (default: as fast as possible); alone, "
                      "transactions carry the current time")
      ->check(CLI::PositiveNumber);
  command->add_option("--duration", options.duration_seconds, "stop after this many seconds")
      ->check(CLI::PositiveNumber);
  command->add_option("--seed", options.seed,
                      "seed of everything random: same seed, same messages")
      ->capture_default_str();
  command->add_option("--stores", options.stores, "use only the first N stores (default: all)")
      ->check(CLI::PositiveNumber);
  command->add_option("--start-date", options.start_date,
                      "historical backfill from this day, YYYY-MM-DD (simulated clock; default "
                      "2026-01-01 unless --rate/--duration give live time)");
  command->add_option("--days", options.days,
                      "days of history to generate (with --count: spread exactly that many)")
      ->check(CLI::Range(1, 36600));
  command->add_option("--bad-ratio", options.bad_ratio,
                      "share of malformed messages, 0..1 (each kind tagged in the manifest)")
      ->check(CLI::Range(0.0, 1.0));
  command->add_option("--duplicate-ratio", options.duplicate_ratio,
                      "share of re-sent earlier transactions (same transaction_id), 0..1")
      ->check(CLI::Range(0.0, 1.0));
  command->add_option("--bad-kinds", flags->bad_kinds,
                      "comma-separated problem kinds to inject (default all), e.g. "
                      "json.syntax,field.missing,amount.mismatch:total");
  command->add_option("--out", options.out,
                      "write NDJSON to FILE ('-' = stdout) instead of Kafka")
      ->type_name("FILE|-");
  command->add_option("--manifest", options.manifest_path,
                      "write the manifest (counts, sums per store and product) to FILE")
      ->type_name("FILE");
  command->add_option("--compression", options.compression, "Kafka compression")
      ->capture_default_str()
      ->check(CLI::IsMember({"none", "gzip", "snappy", "lz4", "zstd"}));
  command->callback([flags, run] { *run = [flags] { return RunProduceCommand(*flags); }; });
}

}  // namespace posflow::cli
