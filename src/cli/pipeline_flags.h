#pragma once

// The flags of the long-running pipeline commands, shared by `ingest`, `etl` and `run`.

#include <CLI/CLI.hpp>

#include "pipeline/etl_job.h"
#include "pipeline/ingest_job.h"

namespace posflow::cli {

struct IngestFlags {
  pipeline::IngestOptions options;
  int batch_ms = 100;
  double exit_when_idle_seconds = 0;
  bool no_dlq_topic = false;

  // The options with the flag-only values folded in.
  pipeline::IngestOptions Resolve() const;
};

struct EtlFlags {
  pipeline::EtlOptions options;
  int staging_retention_hours = 0;
  int poll_ms = 1000;

  pipeline::EtlOptions Resolve() const;
};

// --batch-messages, --batch-bytes, --batch-ms, --max-message-bytes, --exit-when-idle,
// --no-dlq-topic.
void AddIngestFlags(CLI::App* command, IngestFlags* flags);
// --batch-transactions, --staging-retention-hours, --poll-ms.
void AddEtlFlags(CLI::App* command, EtlFlags* flags);

}  // namespace posflow::cli
