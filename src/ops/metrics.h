#pragma once

// The metrics of the ingest and ETL processes, served over HTTP for Prometheus, plus a health
// endpoint for orchestrators and scripts.
//
// Endpoints (when an address is given):
//   GET /metrics  Prometheus text exposition format 0.0.4 (the text Render() returns).
//   GET /healthz  200 "ok\n" when every component is healthy, otherwise
//                 503 "unhealthy: <component>: <reason>[; <component>: <reason> ...]\n";
//                 then one line per component that committed a batch (RecordCommit):
//                 "<component>: last commit <seconds> s ago\n".
// Other paths answer 404, other methods 405 (HEAD is answered like GET, without a body).
//
// Series (metric names are stable: dashboards and alerts use them):
//   posflow_build_info{version}                      1; the version of this build
//   posflow_start_time_seconds                       Unix time Metrics::Start ran
//   posflow_messages_consumed_total                  Kafka messages read by ingest
//   posflow_transactions_staged_total                transactions written to staging
//   posflow_dead_letters_total{reason}               messages dead-lettered, by reason (below)
//   posflow_duplicates_total                         transactions already staged, skipped
//   posflow_batch_messages                           histogram: messages per ingest batch
//   posflow_batch_commit_seconds                     histogram: ingest batch commit time
//   posflow_partition_lag{topic,partition}           messages behind the partition's end
//   posflow_committed_offset{topic,partition}        next offset to read, as committed
//   posflow_transactions_loaded_total                transactions loaded into the warehouse
//   posflow_lines_loaded_total                       receipt lines loaded into the warehouse
//   posflow_event_to_warehouse_seconds               histogram: transaction time -> loaded
//   posflow_etl_batch_seconds                        histogram: ETL batch duration
//   posflow_etl_batch_transactions                   histogram: transactions per ETL batch
//   posflow_component_healthy{component}             1 healthy, 0 not (one per SetHealth name)
//   posflow_last_commit_timestamp_seconds{component} Unix time of the last committed batch
//
// Histogram buckets (upper bounds; +Inf is implicit):
//   posflow_batch_messages, posflow_etl_batch_transactions:
//     1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000
//   posflow_batch_commit_seconds:
//     0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10
//   posflow_event_to_warehouse_seconds (10 ms .. 60 s):
//     0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60
//   posflow_etl_batch_seconds:
//     0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60
//
// Label cardinality is bounded: `reason` goes through DeadLetterReasonLabel() and at most
// kMaxDeadLetterReasons distinct values are kept (later new ones count as "other"); topic and
// partition follow the partitions assigned to this process and are dropped on revocation;
// component names are chosen by our code, never by data. Every label value has registered
// secrets masked (common/secrets.h) before it is used.
//
// Thread-safety: every method may be called from any thread at any time; the HTTP server runs
// on its own small thread pool (2 threads) and reads the same state.
//
// The HTTP server is civetweb and the metrics are prometheus-cpp; neither appears here.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "common/status.h"

namespace posflow::ops {

// The most distinct `reason` label values posflow_dead_letters_total carries; once reached, a
// reason not seen before is counted under "other".
inline constexpr std::size_t kMaxDeadLetterReasons = 64;

// The `reason` label for a dead-letter reason code (see event/problem.h): the code with every
// array index in its detail removed ("field.missing:items[3].price" ->
// "field.missing:items[].price"), characters other than [A-Za-z0-9_.:[]-] replaced by '_', at
// most 80 characters; "unknown" for an empty code. Codes without indices are kept as they are
// ("amount.mismatch:total"). The parser's field names come from a fixed set, so together with
// the cap above the label set stays small.
std::string DeadLetterReasonLabel(std::string_view reason_code);

class Metrics {
 public:
  // Starts an HTTP endpoint on `address` ("host:port": host an IPv4 address such as 127.0.0.1,
  // 0.0.0.0 for every interface, or a name resolving to one; port 0 picks a free port) serving
  // /metrics and /healthz. posflow's default is 127.0.0.1:9464. "off": no endpoint; metrics are
  // still counted and Render() works. The endpoint answers as soon as Start returns.
  // Failure: InvalidArgument when `address` is neither "off" nor host:port, or is IPv6 ("[::1]:
  // 9464": Debian's civetweb is built without IPv6); Unavailable naming the address and the
  // cause when the server cannot listen there, e.g. "cannot serve metrics on 127.0.0.1:9464:
  // cannot bind to 127.0.0.1:9464: 98 (Address already in use)".
  // Cost: the server runs 2 request threads plus civetweb's accept thread.
  static Result<std::unique_ptr<Metrics>> Start(const std::string& address);

  Metrics(const Metrics&) = delete;
  Metrics& operator=(const Metrics&) = delete;
  // Stops the server (waits for requests in progress; typically a few ms), then frees it all.
  ~Metrics();

  // The port actually bound (useful with port 0); 0 when "off".
  int port() const;

  // --- Ingest
  void AddConsumed(std::uint64_t messages);
  void AddStaged(std::uint64_t transactions);
  // `reason_code` as stored with the dead letter, e.g. "amount.mismatch:total"; the label is
  // DeadLetterReasonLabel(reason_code), capped as described above.
  void AddDeadLettered(std::string_view reason_code, std::uint64_t messages);
  void AddDuplicates(std::uint64_t transactions);
  // One ingest batch: its size and the time its commit (staging + offsets) took.
  void ObserveBatch(std::size_t messages, double commit_seconds);
  void SetPartitionLag(std::string_view topic, std::int32_t partition, std::int64_t lag);
  void SetCommittedOffset(std::string_view topic, std::int32_t partition,
                          std::int64_t next_offset);
  // Drops both partition gauges (the partition was revoked). No-op for an unknown partition.
  void RemovePartition(std::string_view topic, std::int32_t partition);

  // --- ETL
  void AddLoaded(std::uint64_t transactions, std::uint64_t lines);
  // From the transaction's own time to its commit in the warehouse.
  void ObserveEventToWarehouse(double seconds);
  void ObserveEtlBatch(std::size_t transactions, double seconds);

  // --- Health
  // Records `component`'s state ("postgres", "kafka", "ingest" ...), replacing the previous one.
  // `reason` says what is wrong when !healthy; it is shown on /healthz (control characters
  // become spaces, registered secrets "****": common/secrets.h).
  void SetHealth(std::string_view component, bool healthy, std::string_view reason = "");
  // `component` ("ingest", "etl") committed a batch now: /healthz shows the age of its last
  // commit (a healthy but stuck pipeline shows a growing age).
  void RecordCommit(std::string_view component);
  // True when every component that called SetHealth last said healthy (true when none did).
  bool healthy() const;
  // The /healthz body: "ok\n" or "unhealthy: ...\n" as described at the top.
  std::string HealthText() const;

  // The text /metrics would serve now (for tests and for a final dump at shutdown).
  std::string Render() const;

 private:
  struct Impl;  // prometheus-cpp registry and civetweb context; defined in metrics.cc
  explicit Metrics(std::unique_ptr<Impl> impl);

  std::unique_ptr<Impl> impl_;
};

}  // namespace posflow::ops
