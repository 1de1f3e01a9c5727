#include "cli/run_command.h"

#include <iostream>
#include <memory>

#include "cli/common_options.h"
#include "cli/pipeline_flags.h"
#include "cli/signals.h"
#include "ops/metrics.h"
#include "pipeline/run_job.h"

namespace posflow::cli {
namespace {

struct RunCommandFlags {
  ConfigSources sources;
  IngestFlags ingest;
  EtlFlags etl;
};

int RunRunCommand(const RunCommandFlags& flags) {
  auto config = LoadConfig(flags.sources);
  if (!config.ok()) return ReportFailure("run", config.status());
  auto metrics = ops::Metrics::Start(config->metrics_addr);
  if (!metrics.ok()) {
    return ReportFailure("run", metrics.status().WithContext(
                                    "metrics endpoint (use --metrics-addr off or another port)"));
  }
  const std::atomic<bool>& stop = InstallStopSignals();
  auto stats = pipeline::RunPipeline(*config, flags.ingest.Resolve(), flags.etl.Resolve(), stop,
                                     metrics->get());
  if (!stats.ok()) return ReportFailure("run", stats.status());
  std::cout << "run: consumed " << stats->ingest.consumed << ", staged " << stats->ingest.staged
            << ", duplicates " << stats->ingest.duplicates << ", dead letters "
            << stats->ingest.dead_lettered << "; loaded " << stats->etl.transactions
            << " transactions (" << stats->etl.lines << " lines) in " << stats->etl.batches
            << " ETL batches" << std::endl;
  return kExitOk;
}

}  // namespace

void RegisterRunCommand(CLI::App& app, std::function<int()>* run) {
  auto flags = std::make_shared<RunCommandFlags>();
  CLI::App* command = app.add_subcommand(
      "run",
      "Ingest and ETL in one process: Kafka -> staging -> warehouse + inventory, each step "
      "exactly once. Runs until SIGINT/SIGTERM (or, with --exit-when-idle, until caught up and "
      "loaded).");
  AddCommonOptions(command, &flags->sources);
  AddIngestFlags(command, &flags->ingest);
  AddEtlFlags(command, &flags->etl);
  command->callback([flags, run] { *run = [flags] { return RunRunCommand(*flags); }; });
}

}  // namespace posflow::cli
