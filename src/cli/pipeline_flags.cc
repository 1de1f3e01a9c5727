#include "cli/pipeline_flags.h"

#include <cstdint>
#include <string>

#include "common/civil_time.h"

namespace posflow::cli {

event::ParserOptions ValidationFlags::Resolve(std::size_t max_message_bytes) const {
  event::ParserOptions resolved = options;
  resolved.max_message_bytes = max_message_bytes;
  // The flags' check has parsed them already.
  if (auto date = ParseDate(min_date)) resolved.min_date = *date;
  if (auto date = ParseDate(max_date)) resolved.max_date = *date;
  return resolved;
}

void AddValidationFlags(CLI::App* command, ValidationFlags* flags) {
  command->add_option("--max-key-bytes", flags->options.max_key_bytes,
                      "longest key field (transaction_id, store_id, customer_id, payment_type, "
                      "item, product_id) in bytes; longer: field.too_long")
      ->capture_default_str()
      ->check(CLI::Range(std::size_t{1}, std::size_t{2048}));
  command->add_option("--max-text-bytes", flags->options.max_text_bytes,
                      "longest free-text field (names, addresses) in bytes; longer: "
                      "field.too_long")
      ->capture_default_str()
      ->check(CLI::Range(std::size_t{1}, std::size_t{1} << 20));
  command->add_option("--max-items", flags->options.max_items,
                      "most lines in one receipt; more: items.too_many")
      ->capture_default_str()
      ->check(CLI::Range(std::size_t{1}, std::size_t{100000}));
  const auto date = CLI::Validator(
      [](std::string& text) {
        return ParseDate(text) ? std::string()
                               : "'" + text + "' is not a date YYYY-MM-DD in 1900..2999";
      },
      "DATE");
  command->add_option("--min-date", flags->min_date,
                      "earliest transaction date accepted (default 1900-01-01); earlier: "
                      "date.out_of_range")
      ->check(date);
  command->add_option("--max-date", flags->max_date,
                      "latest transaction date accepted (default 2999-12-31); later: "
                      "date.out_of_range")
      ->check(date);
}

pipeline::IngestOptions IngestFlags::Resolve() const {
  pipeline::IngestOptions resolved = options;
  resolved.validation = validation.Resolve(options.max_message_bytes);
  resolved.batch_max_wait = std::chrono::milliseconds(batch_ms);
  resolved.exit_when_idle =
      std::chrono::milliseconds(static_cast<long>(exit_when_idle_seconds * 1000));
  resolved.publish_dead_letters = !no_dlq_topic;
  return resolved;
}

pipeline::EtlOptions EtlFlags::Resolve() const {
  pipeline::EtlOptions resolved = options;
  resolved.load.staging_retention = std::chrono::hours(staging_retention_hours);
  resolved.poll_interval = std::chrono::milliseconds(poll_ms);
  return resolved;
}

void AddIngestFlags(CLI::App* command, IngestFlags* flags) {
  command->add_option("--batch-messages", flags->options.batch_max_messages,
                      "close an ingest batch at this many messages")
      ->capture_default_str()
      ->check(CLI::Range(size_t{1}, size_t{1000000}));
  command->add_option("--batch-bytes", flags->options.batch_max_bytes,
                      "close an ingest batch at this many payload bytes")
      ->capture_default_str()
      ->check(CLI::Range(size_t{1024}, size_t{1} << 30));
  command->add_option("--batch-ms", flags->batch_ms,
                      "close an ingest batch when its first message has waited this long")
      ->capture_default_str()
      ->check(CLI::Range(1, 60000));
  command->add_option("--max-message-bytes", flags->options.max_message_bytes,
                      "larger messages are dead letters (message.too_large)")
      ->capture_default_str()
      ->check(CLI::Range(size_t{64}, size_t{64} << 20));
  command->add_option("--exit-when-idle", flags->exit_when_idle_seconds,
                      "exit once caught up and no message has arrived for this many seconds "
                      "(0: never)")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 86400.0));
  command->add_flag("--no-dlq-topic", flags->no_dlq_topic,
                    "keep dead letters in ops.dead_letter only, not in <topic>.dlq");
  AddValidationFlags(command, &flags->validation);
}

void AddEtlFlags(CLI::App* command, EtlFlags* flags) {
  command->add_option("--batch-transactions", flags->options.load.batch_max_transactions,
                      "most receipts per ETL batch (one transaction)")
      ->capture_default_str()
      ->check(CLI::Range(std::int64_t{1}, std::int64_t{1000000}));
  command->add_option("--staging-retention-hours", flags->staging_retention_hours,
                      "keep loaded staging rows this long (in staging.*_loaded); 0 deletes them")
      ->capture_default_str()
      ->check(CLI::Range(0, 24 * 366));
  command->add_option("--poll-ms", flags->poll_ms,
                      "when following: longest wait for ingest's signal before looking again")
      ->capture_default_str()
      ->check(CLI::Range(10, 600000));
}

}  // namespace posflow::cli
