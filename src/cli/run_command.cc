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
  bool via_staging = false;
  bool batch_messages_given = false;
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
  pipeline::IngestOptions ingest = flags.ingest.Resolve();
  if (!flags.via_staging && !flags.batch_messages_given) {
    ingest.batch_max_messages = pipeline::kOneHopBatchMessages;
  }
  auto stats = pipeline::RunPipeline(
      *config, ingest, flags.etl.Resolve(),
      flags.via_staging ? pipeline::RunPath::kViaStaging : pipeline::RunPath::kOneHop, stop,
      metrics->get());
  if (!stats.ok()) return ReportFailure("run", stats.status());
  const bool one_hop = stats->path == pipeline::RunPath::kOneHop;
  std::cout << "run (" << (one_hop ? "one hop" : "via staging") << "): consumed "
            << stats->ingest.consumed << ", " << (one_hop ? "new " : "staged ")
            << stats->ingest.staged << ", duplicates " << stats->ingest.duplicates
            << ", dead letters " << stats->ingest.dead_lettered << "; loaded "
            << stats->etl.transactions << " transactions (" << stats->etl.lines << " lines) in "
            << stats->etl.batches << " batches";
  if (stats->etl.quarantined > 0) std::cout << ", quarantined " << stats->etl.quarantined;
  std::cout << std::endl;
  return kExitOk;
}

}  // namespace

void RegisterRunCommand(CLI::App& app, std::function<int()>* run) {
  auto flags = std::make_shared<RunCommandFlags>();
  CLI::App* command = app.add_subcommand(
      "run",
      "Kafka -> warehouse + inventory in one process, exactly once: each consumed batch loaded "
      "in one transaction with its offsets (one hop; --via-staging: ingest to staging and the "
      "ETL from it, as `ingest` + `etl`). Runs until SIGINT/SIGTERM (or, with --exit-when-idle, "
      "until caught up and loaded).");
  AddCommonOptions(command, &flags->sources);
  AddIngestFlags(command, &flags->ingest);
  AddEtlFlags(command, &flags->etl);
  command->add_flag("--via-staging", flags->via_staging,
                    "Ingest into staging and load the warehouse from it on a second thread (the "
                    "two-hop path; always so with MongoDB staging). Default: one hop, whose "
                    "batches close at 8000 messages unless --batch-messages is given");
  command->callback([flags, run, command] {
    flags->batch_messages_given = command->get_option("--batch-messages")->count() > 0;
    *run = [flags] { return RunRunCommand(*flags); };
  });
}

}  // namespace posflow::cli
