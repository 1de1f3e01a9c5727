#include "cli/ingest_command.h"

#include <iostream>
#include <memory>

#include "cli/common_options.h"
#include "cli/signals.h"
#include "ops/metrics.h"
#include "pipeline/ingest_job.h"

namespace posflow::cli {
namespace {

struct IngestFlags {
  ConfigSources sources;
  pipeline::IngestOptions options;
  int batch_ms = 100;
  double exit_when_idle_seconds = 0;
  bool no_dlq_topic = false;
};

int RunIngestCommand(const IngestFlags& flags) {
  auto config = LoadConfig(flags.sources);
  if (!config.ok()) return ReportFailure("ingest", config.status());
  pipeline::IngestOptions options = flags.options;
  options.batch_max_wait = std::chrono::milliseconds(flags.batch_ms);
  options.exit_when_idle =
      std::chrono::milliseconds(static_cast<long>(flags.exit_when_idle_seconds * 1000));
  options.publish_dead_letters = !flags.no_dlq_topic;
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
  auto flags = std::make_shared<IngestFlags>();
  CLI::App* command = app.add_subcommand(
      "ingest",
      "Consume the POS topic(s) into PostgreSQL staging exactly once: each batch's rows, dead "
      "letters and Kafka offsets in one transaction. Runs until SIGINT/SIGTERM.");
  AddCommonOptions(command, &flags->sources);
  command->add_option("--batch-messages", flags->options.batch_max_messages,
                      "close a batch at this many messages")
      ->capture_default_str()
      ->check(CLI::Range(size_t{1}, size_t{1000000}));
  command->add_option("--batch-bytes", flags->options.batch_max_bytes,
                      "close a batch at this many payload bytes")
      ->capture_default_str()
      ->check(CLI::Range(size_t{1024}, size_t{1} << 30));
  command->add_option("--batch-ms", flags->batch_ms,
                      "close a batch when its first message has waited this long")
      ->capture_default_str()
      ->check(CLI::Range(1, 60000));
  command->add_option("--max-message-bytes", flags->options.max_message_bytes,
                      "larger messages are dead letters (message.too_large)")
      ->capture_default_str()
      ->check(CLI::Range(size_t{64}, size_t{64} << 20));
  command->add_option("--exit-when-idle", flags->exit_when_idle_seconds,
                      "exit once no message has arrived for this many seconds (0: never)")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 86400.0));
  command->add_flag("--no-dlq-topic", flags->no_dlq_topic,
                    "keep dead letters in ops.dead_letter only, not in <topic>.dlq");
  command->callback([flags, run] { *run = [flags] { return RunIngestCommand(*flags); }; });
}

}  // namespace posflow::cli
