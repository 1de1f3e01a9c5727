#pragma once

// The flags of the long-running pipeline commands, shared by `ingest`, `etl` and `run`.

#include <CLI/CLI.hpp>

#include "event/parser.h"
#include "pipeline/etl_job.h"
#include "pipeline/ingest_job.h"

namespace posflow::cli {

// The event's limits (event::ParserOptions) as flags, shared by every command that validates
// messages (ingest, run, dlq replay, validate), so that they all judge alike.
struct ValidationFlags {
  event::ParserOptions options;
  std::string min_date;  // "YYYY-MM-DD"; empty: the default
  std::string max_date;

  // The options with the dates folded in and the message size limit given.
  event::ParserOptions Resolve(std::size_t max_message_bytes) const;
};

// --max-key-bytes, --max-text-bytes, --max-items, --min-date, --max-date.
void AddValidationFlags(CLI::App* command, ValidationFlags* flags);

struct IngestFlags {
  pipeline::IngestOptions options;
  ValidationFlags validation;
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
// --no-dlq-topic, and the validation flags.
void AddIngestFlags(CLI::App* command, IngestFlags* flags);
// --batch-transactions, --staging-retention-hours, --poll-ms.
void AddEtlFlags(CLI::App* command, EtlFlags* flags);

}  // namespace posflow::cli
