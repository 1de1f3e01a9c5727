#include "cli/etl_command.h"

#include <fmt/format.h>

#include <iostream>
#include <memory>

#include "cli/common_options.h"
#include "cli/pipeline_flags.h"
#include "cli/signals.h"
#include "ops/metrics.h"
#include "pipeline/etl_job.h"

namespace posflow::cli {
namespace {

struct EtlCommandFlags {
  ConfigSources sources;
  EtlFlags etl;
  bool once = false;
  bool follow = false;
  bool json = false;
  // With --once: the exit code when staging was empty (nothing loaded); 0 when unset.
  int skip_exit_code = 0;
};

void PrintStats(const pipeline::EtlStats& stats, bool json) {
  if (json) {
    std::cout << fmt::format(
                     "{{\"batches\":{},\"transactions\":{},\"lines\":{},\"skipped\":{},"
                     "\"inferred_members\":{},\"partitions_created\":{},\"staging_purged\":{},"
                     "\"quarantined\":{}}}",
                     stats.batches, stats.transactions, stats.lines, stats.skipped,
                     stats.inferred_members, stats.partitions_created, stats.staging_purged,
                     stats.quarantined)
              << std::endl;
    return;
  }
  if (stats.transactions == 0 && stats.quarantined == 0) {
    std::cout << "etl: nothing to load" << std::endl;
    return;
  }
  std::cout << "etl: loaded " << stats.transactions << " transactions (" << stats.lines
            << " lines) in " << stats.batches << " batches; inferred dimension members "
            << stats.inferred_members << ", partitions created " << stats.partitions_created;
  if (stats.quarantined > 0) {
    std::cout << "; quarantined " << stats.quarantined
              << " receipts PostgreSQL refused (posflow dlq list --stage etl)";
  }
  std::cout << std::endl;
}

int RunEtlCommand(const EtlCommandFlags& flags) {
  auto config = LoadConfig(flags.sources);
  if (!config.ok()) return ReportFailure("etl", config.status());
  pipeline::EtlOptions options = flags.etl.Resolve();
  options.follow = flags.follow;
  // A one-shot run has nothing to scrape: it serves metrics only when following.
  std::unique_ptr<ops::Metrics> metrics;
  if (options.follow) {
    auto started = ops::Metrics::Start(config->metrics_addr);
    if (!started.ok()) {
      return ReportFailure("etl", started.status().WithContext(
                                      "metrics endpoint (use --metrics-addr off or another port)"));
    }
    metrics = std::move(*started);
  }
  const std::atomic<bool>& stop = InstallStopSignals();
  auto stats = pipeline::RunEtl(*config, options, stop, metrics.get());
  if (!stats.ok()) return ReportFailure("etl", stats.status());
  PrintStats(*stats, flags.json);
  // A scheduler told "nothing to do" can mark its run skipped instead of succeeded.
  if (flags.skip_exit_code != 0 && stats->transactions == 0 && stats->quarantined == 0) {
    return flags.skip_exit_code;
  }
  return kExitOk;
}

}  // namespace

void RegisterEtlCommand(CLI::App& app, std::function<int()>* run) {
  auto flags = std::make_shared<EtlCommandFlags>();
  CLI::App* command = app.add_subcommand(
      "etl",
      "Load staged transactions into the warehouse (dimensions, facts, aggregates) and the store "
      "inventory, one transaction per batch, and remove them from staging. --once (the default) "
      "loads everything staged and exits; --follow keeps loading until SIGINT/SIGTERM.");
  AddCommonOptions(command, &flags->sources);
  AddEtlFlags(command, &flags->etl);
  auto* once = command->add_flag("--once", flags->once, "load everything staged, then exit");
  auto* follow = command->add_flag("--follow", flags->follow,
                                   "keep loading as ingest stages more (until stopped)");
  once->excludes(follow);
  command->add_flag("--json", flags->json, "print the summary as one JSON object");
  command
      ->add_option("--skip-exit-code", flags->skip_exit_code,
                   "with --once: exit with this code instead of 0 when staging was empty and "
                   "nothing was loaded (e.g. 99, which Airflow's BashOperator reports as skipped)")
      ->check(CLI::Range(5, 255))
      ->excludes(follow);
  command->callback([flags, run] { *run = [flags] { return RunEtlCommand(*flags); }; });
}

}  // namespace posflow::cli
