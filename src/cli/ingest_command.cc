#include "cli/ingest_command.h"

#include <iostream>
#include <memory>

#include "cli/common_options.h"
#include "cli/pipeline_flags.h"
#include "cli/signals.h"
#include "ops/metrics.h"
#include "pipeline/ingest_job.h"

namespace posflow::cli {
namespace {

struct IngestCommandFlags {
  ConfigSources sources;
  IngestFlags ingest;
};

int RunIngestCommand(const IngestCommandFlags& flags) {
  auto config = LoadConfig(flags.sources);
  if (!config.ok()) return ReportFailure("ingest", config.status());
  const pipeline::IngestOptions options = flags.ingest.Resolve();
  auto metrics = ops::Metrics::Start(config->metrics_addr);
  if (!metrics.ok()) {
    return ReportFailure("ingest", metrics.status().WithContext(
                                       "metrics endpoint (use --metrics-addr off or another port)"));
  }
  const std::atomic<bool>& stop = InstallStopSignals();
  auto stats = pipeline::RunIngest(*config, options, stop, metrics->get());
  if (!stats.ok()) return ReportFailure("ingest", stats.status());
  std::cout << "ingest: consumed " << stats->consumed << ", staged " << stats->staged
            << ", duplicates " << stats->duplicates << ", dead letters " << stats->dead_lettered
            << ", batches " << stats->batches << " (fenced " << stats->fenced_batches << ")"
            << std::endl;
  return kExitOk;
}

}  // namespace

void RegisterIngestCommand(CLI::App& app, std::function<int()>* run) {
  auto flags = std::make_shared<IngestCommandFlags>();
  CLI::App* command = app.add_subcommand(
      "ingest",
      "Consume the POS topic(s) into PostgreSQL staging exactly once: each batch's rows, dead "
      "letters and Kafka offsets in one transaction. Runs until SIGINT/SIGTERM.");
  AddCommonOptions(command, &flags->sources);
  AddIngestFlags(command, &flags->ingest);
  command->callback([flags, run] { *run = [flags] { return RunIngestCommand(*flags); }; });
}

}  // namespace posflow::cli
