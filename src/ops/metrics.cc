#include "ops/metrics.h"

#include <civetweb.h>
#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <array>
#include <atomic>
#include <chrono>
#include <cstring>
#include <map>
#include <mutex>
#include <optional>
#include <utility>
#include <vector>

#include "common/secrets.h"
#include "common/version.h"
#include "ops/http_listener.h"

// Says which mutex guards a member. Documentation only: libstdc++'s std::mutex carries no
// Clang capability attribute, so Clang's -Wthread-safety could not check it anyway.
#define POSFLOW_GUARDED_BY(mutex)

namespace posflow::ops {
namespace {

constexpr std::string_view kOff = "off";
constexpr std::size_t kMaxReasonLabelLength = 80;
constexpr const char* kMetricsContentType = "text/plain; version=0.0.4; charset=utf-8";
constexpr const char* kPlainContentType = "text/plain; charset=utf-8";

// Batch sizes (messages or transactions): the ingest poll and the ETL batch cap at 10 000.
const prometheus::Histogram::BucketBoundaries kBatchSizeBuckets = {
    1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000};
// A staging commit is a COPY plus an offset upsert: milliseconds normally, seconds when slow.
const prometheus::Histogram::BucketBoundaries kCommitSecondsBuckets = {
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
// End-to-end freshness: tens of milliseconds when streaming, up to a minute behind a backlog.
const prometheus::Histogram::BucketBoundaries kEventToWarehouseBuckets = {
    0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60};
const prometheus::Histogram::BucketBoundaries kEtlBatchSecondsBuckets = {
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60};

bool IsLabelChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         c == '_' || c == '.' || c == ':' || c == '[' || c == ']' || c == '-';
}


// One line, no control characters, no registered secret: the reason is printed on a single
// /healthz line, and it often quotes a library's error text.
std::string OneLine(std::string_view text) {
  std::string line = RedactSecrets(text);
  for (char& c : line) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = ' ';
  }
  return line;
}

double UnixSecondsNow() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}


}  // namespace

std::string DeadLetterReasonLabel(std::string_view reason_code) {
  if (reason_code.empty()) return "unknown";
  std::string label;
  label.reserve(reason_code.size());
  for (std::size_t i = 0; i < reason_code.size(); ++i) {
    const char c = reason_code[i];
    if (c == '[') {
      // An index ("[3]") would make one series per receipt line: keep only the brackets.
      const std::size_t close = reason_code.find(']', i);
      if (close != std::string_view::npos) {
        label += "[]";
        i = close;
        continue;
      }
    }
    label += IsLabelChar(c) ? c : '_';
  }
  if (label.size() > kMaxReasonLabelLength) label.resize(kMaxReasonLabelLength);
  return label;
}

struct Metrics::Impl {
  struct PartitionGauges {
    prometheus::Gauge* lag = nullptr;
    prometheus::Gauge* committed_offset = nullptr;
  };
  struct ComponentHealth {
    bool healthy = true;
    std::string reason;
  };
  using SteadyClock = std::chrono::steady_clock;

  Impl()
      : consumed(prometheus::BuildCounter()
                     .Name("posflow_messages_consumed_total")
                     .Help("Kafka messages read by ingest.")
                     .Register(registry)
                     .Add({})),
        staged(prometheus::BuildCounter()
                   .Name("posflow_transactions_staged_total")
                   .Help("Transactions written to staging.")
                   .Register(registry)
                   .Add({})),
        dead_letters(prometheus::BuildCounter()
                         .Name("posflow_dead_letters_total")
                         .Help("Messages dead-lettered, by reason code (indices removed).")
                         .Register(registry)),
        duplicates(prometheus::BuildCounter()
                       .Name("posflow_duplicates_total")
                       .Help("Transactions already staged, skipped.")
                       .Register(registry)
                       .Add({})),
        batch_messages(prometheus::BuildHistogram()
                           .Name("posflow_batch_messages")
                           .Help("Messages per ingest batch.")
                           .Register(registry)
                           .Add({}, kBatchSizeBuckets)),
        batch_commit_seconds(prometheus::BuildHistogram()
                                 .Name("posflow_batch_commit_seconds")
                                 .Help("Time to commit an ingest batch (staging and offsets).")
                                 .Register(registry)
                                 .Add({}, kCommitSecondsBuckets)),
        partition_lag(prometheus::BuildGauge()
                          .Name("posflow_partition_lag")
                          .Help("Messages between the committed offset and the partition's end.")
                          .Register(registry)),
        committed_offset(prometheus::BuildGauge()
                             .Name("posflow_committed_offset")
                             .Help("Next offset to read, as committed with the staged data.")
                             .Register(registry)),
        transactions_loaded(prometheus::BuildCounter()
                                .Name("posflow_transactions_loaded_total")
                                .Help("Transactions loaded into the warehouse.")
                                .Register(registry)
                                .Add({})),
        lines_loaded(prometheus::BuildCounter()
                         .Name("posflow_lines_loaded_total")
                         .Help("Receipt lines loaded into the warehouse.")
                         .Register(registry)
                         .Add({})),
        event_to_warehouse_seconds(
            prometheus::BuildHistogram()
                .Name("posflow_event_to_warehouse_seconds")
                .Help("From a transaction's own time to its commit in the warehouse.")
                .Register(registry)
                .Add({}, kEventToWarehouseBuckets)),
        etl_batch_seconds(prometheus::BuildHistogram()
                              .Name("posflow_etl_batch_seconds")
                              .Help("Duration of an ETL batch.")
                              .Register(registry)
                              .Add({}, kEtlBatchSecondsBuckets)),
        etl_batch_transactions(prometheus::BuildHistogram()
                                   .Name("posflow_etl_batch_transactions")
                                   .Help("Transactions per ETL batch.")
                                   .Register(registry)
                                   .Add({}, kBatchSizeBuckets)),
        component_healthy(prometheus::BuildGauge()
                              .Name("posflow_component_healthy")
                              .Help("1 when the component last reported healthy, 0 otherwise.")
                              .Register(registry)),
        last_commit(prometheus::BuildGauge()
                        .Name("posflow_last_commit_timestamp_seconds")
                        .Help("Unix time of the component's last committed batch.")
                        .Register(registry)) {
    prometheus::BuildGauge()
        .Name("posflow_build_info")
        .Help("The version of this build; always 1.")
        .Register(registry)
        .Add({{"version", kVersion}})
        .Set(1);
    prometheus::BuildGauge()
        .Name("posflow_start_time_seconds")
        .Help("Unix time at which the metrics of this process started.")
        .Register(registry)
        .Add({})
        .Set(UnixSecondsNow());
  }

  // The server must stop before the registry it reads goes away.
  ~Impl() {
    if (context != nullptr) StopCivetweb(context, wake_address);
  }

  static std::string PartitionKey(std::string_view topic, std::int32_t partition) {
    std::string key(topic);
    key += '\0';  // cannot appear in a topic name, so keys never collide
    key += std::to_string(partition);
    return key;
  }

  // REQUIRES: partitions_mutex held.
  prometheus::Gauge& PartitionGauge(std::string_view topic, std::int32_t partition,
                                    bool lag_gauge) {
    PartitionGauges& gauges = partitions[PartitionKey(topic, partition)];
    prometheus::Gauge*& gauge = lag_gauge ? gauges.lag : gauges.committed_offset;
    if (gauge == nullptr) {
      prometheus::Family<prometheus::Gauge>& family =
          lag_gauge ? partition_lag : committed_offset;
      gauge = &family.Add({{"topic", RedactSecrets(topic)},
                           {"partition", std::to_string(partition)}});
    }
    return *gauge;
  }

  std::string HealthText() const {
    std::string unhealthy;
    {
      std::lock_guard<std::mutex> lock(health_mutex);
      for (const auto& [component, state] : health) {
        if (state.healthy) continue;
        if (!unhealthy.empty()) unhealthy += "; ";
        unhealthy += component;
        if (!state.reason.empty()) {
          unhealthy += ": ";
          unhealthy += state.reason;
        }
      }
    }
    std::string text = unhealthy.empty() ? "ok\n" : "unhealthy: " + unhealthy + "\n";
    std::lock_guard<std::mutex> lock(health_mutex);
    const auto now = SteadyClock::now();
    for (const auto& [component, at] : last_commits) {
      const std::chrono::duration<double> age = now - at;
      text += fmt::format("{}: last commit {:.1f} s ago\n", component, age.count());
    }
    return text;
  }

  std::string Render() const {
    return prometheus::TextSerializer().Serialize(registry.Collect());
  }

  // --- civetweb callbacks (run on the server's threads)

  static int Respond(mg_connection* connection, int status, const char* content_type,
                     const std::string& body) {
    const mg_request_info* request = mg_get_request_info(connection);
    const bool head = request != nullptr && std::strcmp(request->request_method, "HEAD") == 0;
    const std::string length = std::to_string(body.size());
    mg_response_header_start(connection, status);
    mg_response_header_add(connection, "Content-Type", content_type, -1);
    mg_response_header_add(connection, "Content-Length", length.c_str(), -1);
    mg_response_header_add(connection, "Cache-Control", "no-store", -1);
    if (status == 405) mg_response_header_add(connection, "Allow", "GET, HEAD", -1);
    mg_response_header_send(connection);
    if (!head && !body.empty()) mg_write(connection, body.data(), body.size());
    return status;  // civetweb: a handled request returns its HTTP status
  }

  static bool IsGetOrHead(mg_connection* connection) {
    const mg_request_info* request = mg_get_request_info(connection);
    return request != nullptr && (std::strcmp(request->request_method, "GET") == 0 ||
                                  std::strcmp(request->request_method, "HEAD") == 0);
  }

  static int HandleMetrics(mg_connection* connection, void* impl) {
    if (!IsGetOrHead(connection)) {
      return Respond(connection, 405, kPlainContentType, "method not allowed\n");
    }
    return Respond(connection, 200, kMetricsContentType, static_cast<Impl*>(impl)->Render());
  }

  static int HandleHealth(mg_connection* connection, void* impl) {
    if (!IsGetOrHead(connection)) {
      return Respond(connection, 405, kPlainContentType, "method not allowed\n");
    }
    const auto* self = static_cast<Impl*>(impl);
    std::string text = self->HealthText();
    const int status = text.rfind("ok\n", 0) == 0 ? 200 : 503;
    return Respond(connection, status, kPlainContentType, text);
  }

  // civetweb's own diagnostics. Until the server is up they are kept for Start's Status (the
  // first one says why, e.g. "cannot bind to 127.0.0.1:9464: 98 (Address already in use)");
  // afterwards they are logged.
  static int LogMessage(const mg_connection* connection, const char* message) {
    const mg_context* server = mg_get_context(connection);
    auto* impl = server == nullptr ? nullptr : static_cast<Impl*>(mg_get_user_data(server));
    if (impl == nullptr || impl->serving.load(std::memory_order_acquire)) {
      spdlog::warn("metrics server: {}", message);
    } else {
      std::lock_guard<std::mutex> lock(impl->startup_errors_mutex);
      impl->startup_errors.emplace_back(message);
    }
    return 1;  // handled: civetweb writes nothing to stderr
  }

  prometheus::Registry registry;
  prometheus::Counter& consumed;
  prometheus::Counter& staged;
  prometheus::Family<prometheus::Counter>& dead_letters;
  prometheus::Counter& duplicates;
  prometheus::Histogram& batch_messages;
  prometheus::Histogram& batch_commit_seconds;
  prometheus::Family<prometheus::Gauge>& partition_lag;
  prometheus::Family<prometheus::Gauge>& committed_offset;
  prometheus::Counter& transactions_loaded;
  prometheus::Counter& lines_loaded;
  prometheus::Histogram& event_to_warehouse_seconds;
  prometheus::Histogram& etl_batch_seconds;
  prometheus::Histogram& etl_batch_transactions;
  prometheus::Family<prometheus::Gauge>& component_healthy;
  prometheus::Family<prometheus::Gauge>& last_commit;

  // Counters handed out by dead_letters, by label; also the cardinality cap's ledger.
  std::mutex dead_letters_mutex;
  std::map<std::string, prometheus::Counter*, std::less<>> dead_letter_counters
      POSFLOW_GUARDED_BY(dead_letters_mutex);

  // Held across lookup-and-set and removal, so that a gauge is never set after it was removed.
  std::mutex partitions_mutex;
  std::map<std::string, PartitionGauges> partitions POSFLOW_GUARDED_BY(partitions_mutex);

  mutable std::mutex health_mutex;
  std::map<std::string, ComponentHealth, std::less<>> health POSFLOW_GUARDED_BY(health_mutex);
  std::map<std::string, SteadyClock::time_point, std::less<>> last_commits
      POSFLOW_GUARDED_BY(health_mutex);

  mg_callbacks callbacks{};
  mg_context* context = nullptr;  // null when "off"
  int port = 0;
  std::optional<WakeAddress> wake_address;  // where to connect to wake the server; see ~Impl
  std::atomic<bool> serving{false};
  std::mutex startup_errors_mutex;
  std::vector<std::string> startup_errors POSFLOW_GUARDED_BY(startup_errors_mutex);
};

Result<std::unique_ptr<Metrics>> Metrics::Start(const std::string& address) {
  auto impl = std::make_unique<Impl>();
  if (address != kOff) {
    POSFLOW_RETURN_IF_ERROR(CheckHttpAddress(address, "metrics address",
                                             "is neither host:port (e.g. 127.0.0.1:9464) nor 'off'",
                                             "127.0.0.1:9464"));
    impl->callbacks.log_message = &Impl::LogMessage;
    // Two scrapers at once is plenty; each thread costs a stack.
    std::string detail;
    impl->context = StartCivetweb(address, 2, 10000, &impl->callbacks, impl.get(), &detail);
    if (impl->context == nullptr) {
      {
        std::lock_guard<std::mutex> lock(impl->startup_errors_mutex);
        if (!impl->startup_errors.empty()) detail = impl->startup_errors.front();
      }
      return Status::Unavailable("cannot serve metrics on " + address + ": " + detail);
    }
    mg_set_request_handler(impl->context, "/metrics$", &Impl::HandleMetrics, impl.get());
    mg_set_request_handler(impl->context, "/healthz$", &Impl::HandleHealth, impl.get());
    std::array<mg_server_port, 4> ports{};
    const int count = mg_get_server_ports(impl->context, static_cast<int>(ports.size()),
                                          ports.data());
    if (count < 1 || ports[0].port <= 0) {
      return Status::Internal("metrics server on " + address + " reports no listening port");
    }
    impl->port = ports[0].port;
    impl->wake_address =
        WakeAddressFor(address, impl->port);
    impl->serving.store(true, std::memory_order_release);
  }
  return std::unique_ptr<Metrics>(new Metrics(std::move(impl)));
}

Metrics::Metrics(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Metrics::~Metrics() = default;

int Metrics::port() const { return impl_->port; }

void Metrics::AddConsumed(std::uint64_t messages) {
  impl_->consumed.Increment(static_cast<double>(messages));
}

void Metrics::AddStaged(std::uint64_t transactions) {
  impl_->staged.Increment(static_cast<double>(transactions));
}

void Metrics::AddDeadLettered(std::string_view reason_code, std::uint64_t messages) {
  // Masked before the label's character rule turns a secret's bytes into '_'.
  std::string label = DeadLetterReasonLabel(RedactSecrets(reason_code));
  prometheus::Counter* counter = nullptr;
  {
    std::lock_guard<std::mutex> lock(impl_->dead_letters_mutex);
    auto& counters = impl_->dead_letter_counters;
    auto it = counters.find(label);
    if (it == counters.end()) {
      // Past the cap, "other" takes every new reason (and is itself allowed past the cap).
      if (counters.size() >= kMaxDeadLetterReasons) label = "other";
      it = counters.find(label);
      if (it == counters.end()) {
        prometheus::Counter* added = &impl_->dead_letters.Add({{"reason", label}});
        it = counters.emplace(std::move(label), added).first;
      }
    }
    counter = it->second;
  }
  counter->Increment(static_cast<double>(messages));
}

void Metrics::AddDuplicates(std::uint64_t transactions) {
  impl_->duplicates.Increment(static_cast<double>(transactions));
}

void Metrics::ObserveBatch(std::size_t messages, double commit_seconds) {
  impl_->batch_messages.Observe(static_cast<double>(messages));
  impl_->batch_commit_seconds.Observe(commit_seconds);
}

void Metrics::SetPartitionLag(std::string_view topic, std::int32_t partition, std::int64_t lag) {
  std::lock_guard<std::mutex> lock(impl_->partitions_mutex);
  impl_->PartitionGauge(topic, partition, /*lag_gauge=*/true).Set(static_cast<double>(lag));
}

void Metrics::SetCommittedOffset(std::string_view topic, std::int32_t partition,
                                 std::int64_t next_offset) {
  std::lock_guard<std::mutex> lock(impl_->partitions_mutex);
  impl_->PartitionGauge(topic, partition, /*lag_gauge=*/false)
      .Set(static_cast<double>(next_offset));
}

void Metrics::RemovePartition(std::string_view topic, std::int32_t partition) {
  std::lock_guard<std::mutex> lock(impl_->partitions_mutex);
  const auto it = impl_->partitions.find(Impl::PartitionKey(topic, partition));
  if (it == impl_->partitions.end()) return;
  if (it->second.lag != nullptr) impl_->partition_lag.Remove(it->second.lag);
  if (it->second.committed_offset != nullptr) {
    impl_->committed_offset.Remove(it->second.committed_offset);
  }
  impl_->partitions.erase(it);
}

void Metrics::AddLoaded(std::uint64_t transactions, std::uint64_t lines) {
  impl_->transactions_loaded.Increment(static_cast<double>(transactions));
  impl_->lines_loaded.Increment(static_cast<double>(lines));
}

void Metrics::ObserveEventToWarehouse(double seconds) {
  impl_->event_to_warehouse_seconds.Observe(seconds);
}

void Metrics::ObserveEtlBatch(std::size_t transactions, double seconds) {
  impl_->etl_batch_transactions.Observe(static_cast<double>(transactions));
  impl_->etl_batch_seconds.Observe(seconds);
}

void Metrics::SetHealth(std::string_view component, bool healthy, std::string_view reason) {
  std::lock_guard<std::mutex> lock(impl_->health_mutex);
  auto it = impl_->health.find(component);
  if (it == impl_->health.end()) {
    it = impl_->health.emplace(std::string(component), Impl::ComponentHealth{}).first;
  }
  it->second.healthy = healthy;
  it->second.reason = healthy ? std::string() : OneLine(reason);
  // Under the same lock, so that racing calls for one component leave gauge and map agreeing.
  impl_->component_healthy.Add({{"component", RedactSecrets(component)}}).Set(healthy ? 1 : 0);
}

void Metrics::RecordCommit(std::string_view component) {
  std::lock_guard<std::mutex> lock(impl_->health_mutex);
  impl_->last_commits.insert_or_assign(std::string(component), Impl::SteadyClock::now());
  const std::chrono::duration<double> since_epoch =
      std::chrono::system_clock::now().time_since_epoch();
  impl_->last_commit.Add({{"component", RedactSecrets(component)}}).Set(since_epoch.count());
}

bool Metrics::healthy() const {
  std::lock_guard<std::mutex> lock(impl_->health_mutex);
  for (const auto& [component, state] : impl_->health) {
    if (!state.healthy) return false;
  }
  return true;
}

std::string Metrics::HealthText() const { return impl_->HealthText(); }

std::string Metrics::Render() const { return impl_->Render(); }

}  // namespace posflow::ops
