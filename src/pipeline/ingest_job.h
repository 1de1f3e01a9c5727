#pragma once

// `posflow ingest`: Kafka -> staging, exactly once (DESIGN.md, "Exactly-once, the mechanism").
//
// The loop: consume a batch (bounded by count, bytes and time), parse and validate every
// message, and hand the batch to the staging store, which writes the staged transactions, the
// dead letters and every partition's next offset in ONE transaction, the offsets by
// compare-and-set. Dead letters also go to "<topic>.dlq" with their reasons in headers
// (at-least-once: published before the commit). Kafka's committed offsets follow the store's,
// for lag tools only. On assignment each partition starts at the store's offset.
//
// Batch N is written on a writer thread while the calling thread goes on consuming and parsing
// batch N+1 against the offsets N will leave; N+1 is handed over only once N's result is in,
// in order, and is dropped (consumed again) when N was not written (ingest_job.cc says how).
//
// Failures: a store or broker outage is retried with backoff (and /healthz turns unhealthy)
// until it comes back or the job is stopped; a fenced batch is discarded, with whatever was
// consumed after it, and its partitions re-read from the store. Memory stays bounded whatever
// the lag: two batches (the one being written, the one being prepared) plus librdkafka's
// bounded prefetch.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/config.h"
#include "common/status.h"
#include "event/parser.h"

namespace posflow::ops {
class Metrics;
}
namespace posflow::staging {
class StagingStore;
}

namespace posflow::pipeline {

struct IngestOptions {
  // Topics to consume. Empty: the configuration's topic. Dead letters: "<topic>.dlq".
  std::vector<std::string> topics;
  // A batch closes at this many messages... Default 5 000 (measured: see README).
  std::size_t batch_max_messages = 5000;
  // ...or this many payload bytes. Default 16 MiB.
  std::size_t batch_max_bytes = 16u << 20;
  // ...or when its first message has waited this long. Default 100 ms: the freshness bound.
  std::chrono::milliseconds batch_max_wait{100};
  // Messages larger than this are dead letters (message.too_large). Default 1 MiB.
  std::size_t max_message_bytes = 1u << 20;
  // The event's other limits (key and text lengths, lines, dates: event/parser.h); its
  // max_message_bytes is replaced by the one above.
  event::ParserOptions validation;
  // Publish dead letters to "<topic>.dlq" as well as ops.dead_letter. Default on. A failed
  // publication is retried (3 attempts, a new producer each time); after that the batch goes
  // on (ops.dead_letter has every dead letter) and IngestStats counts it.
  bool publish_dead_letters = true;
  // A dead letter's payload (and key) larger than this is published to "<topic>.dlq" cut to
  // it, with headers posflow.truncated (the original size) and posflow.whole_payload (where
  // ops.dead_letter keeps the whole bytes). Default 900 KiB: under the broker's default
  // message.max.bytes (1 MB) with room for the headers.
  std::size_t dead_letter_max_payload_bytes = 900u << 10;
  // Exit once caught up (every assigned partition staged up to its high watermark) and nothing
  // has arrived for this long (0: run until stopped). For batch use and benchmarks.
  std::chrono::milliseconds exit_when_idle{0};
  // Backoff between retries of an unavailable store: doubles from initial up to max.
  std::chrono::milliseconds retry_initial{200};
  std::chrono::milliseconds retry_max{5000};
  // Tests only: kafka::ConsumerOptions::failing_seeks_for_testing. Default 0.
  int failing_seeks_for_testing = 0;
};

struct IngestStats {
  std::uint64_t consumed = 0;
  std::uint64_t staged = 0;
  std::uint64_t duplicates = 0;
  std::uint64_t dead_lettered = 0;
  std::uint64_t batches = 0;
  std::uint64_t fenced_batches = 0;
  // Batches whose dead letters could not be published to "<topic>.dlq" after the retries.
  std::uint64_t dead_letters_unpublished = 0;
};

// Runs until `stop` becomes true (then finishes or abandons the batch in flight, never
// half-writes) or, with exit_when_idle, until idle. `metrics` may be null.
// Failure: InvalidArgument for bad options; Unavailable only for errors that retrying cannot
// cure (a fatal consumer error).
Result<IngestStats> RunIngest(const Config& config, const IngestOptions& options,
                              const std::atomic<bool>& stop, ops::Metrics* metrics);

// The same loop writing its batches to `store` instead of the staging store `config` names
// (`posflow run`'s one-hop path: OneHopStore). REQUIRES: `store` is not null. The store is
// called from the loop's writer thread (WriteBatch) and from the calling thread (LoadOffsets),
// never both at once; it is destroyed, and the writer thread joined, before this returns.
Result<IngestStats> RunIngestInto(const Config& config, const IngestOptions& options,
                                  const std::atomic<bool>& stop, ops::Metrics* metrics,
                                  std::unique_ptr<staging::StagingStore> store);

}  // namespace posflow::pipeline
