#include "pipeline/etl_job.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include "ops/metrics.h"
#include "pg/connection.h"
#include "staging/staging_factory.h"
#include "staging/staging_store.h"
#include "warehouse/batch_source.h"

namespace posflow::pipeline {
namespace {

using Clock = std::chrono::steady_clock;
constexpr const char* kHealthComponent = "etl";

class EtlLoop {
 public:
  EtlLoop(const Config& config, const EtlOptions& options,
          std::unique_ptr<warehouse::BatchSource> source, const std::atomic<bool>& stop,
          ops::Metrics* metrics)
      : config_(config), options_(options), source_(std::move(source)), stop_(stop),
        metrics_(metrics) {}

  ~EtlLoop() {
    // A failed connection has lost the lock with its session already.
    if (connection_) (void)warehouse::ReleaseEtlLock(*connection_);
  }

  Result<EtlStats> Run() {
    std::chrono::milliseconds delay = options_.retry_initial;
    while (!stop_) {
      if (!connection_) {
        Status status = Connect();
        if (!status.ok()) {
          if (!Retryable(status)) return status;
          if (!Backoff(status, &delay)) break;
          continue;
        }
      }
      if (options_.follow && Clock::now() >= next_partition_check_) {
        Status status = EnsurePartitionsAhead();
        if (!status.ok()) {
          if (!Retryable(status)) return status;
          Disconnect();
          if (!Backoff(status, &delay)) break;
          continue;
        }
      }
      // Read before the batch: an empty batch after ingest finished means nothing more comes.
      const bool upstream_finished =
          options_.upstream_done != nullptr && options_.upstream_done->load();
      const auto started = Clock::now();
      auto batch = loader_->LoadBatch(*source_);
      if (!batch.ok()) {
        if (!Retryable(batch.status())) return batch.status();
        Disconnect();
        if (!Backoff(batch.status(), &delay)) break;
        continue;
      }
      delay = options_.retry_initial;
      SetHealth(true, "");
      if (batch->transactions > 0 || batch->quarantined > 0 || batch->skipped > 0 ||
          batch->more) {
        if (batch->transactions > 0 || batch->quarantined > 0) {
          Record(*batch, std::chrono::duration<double>(Clock::now() - started).count());
        }
        stats_.skipped += batch->transactions > 0 ? 0 : batch->skipped;
        continue;  // more may be staged already
      }
      stats_.staging_purged += batch->staging_purged;
      if (!options_.follow || upstream_finished) break;
      auto waited = WaitForStaged();
      if (!waited.ok()) {
        if (!Retryable(waited)) return waited;
        Disconnect();
        if (!Backoff(waited, &delay)) break;
      }
    }
    return stats_;
  }

 private:
  Status Connect() {
    auto connection = pg::Connection::Open(pg::OptionsFromConfig(config_));
    if (!connection.ok()) return connection.status();
    connection_.emplace(std::move(*connection));
    Status status = warehouse::AcquireEtlLock(*connection_);
    if (status.ok()) {
      loader_.emplace(*connection_, options_.load);
      status = loader_->Prepare();
    }
    if (status.ok() && options_.follow) {
      status = connection_->Execute("listen " + std::string(staging::kStagedChannel));
    }
    if (status.ok()) status = EnsurePartitionsAhead();
    if (!status.ok()) Disconnect();
    return status;
  }

  void Disconnect() {
    loader_.reset();
    connection_.reset();  // ends the session: the ETL lock goes with it
  }

  Status EnsurePartitionsAhead() {
    auto created = connection_->Query(
        "select dw.ensure_month_partitions(current_date, "
        "(current_date + make_interval(months => $1::integer))::date)",
        {std::to_string(options_.partition_months_ahead)});
    if (!created.ok()) return created.status().WithContext("creating the coming months' partitions");
    auto count = created->GetInt64(0, 0);
    if (!count.ok()) return count.status().WithContext("creating the coming months' partitions");
    stats_.partitions_created += *count;
    next_partition_check_ = Clock::now() + std::chrono::hours(1);
    return Status::Ok();
  }

  // Waits for ingest's notification, the poll interval, or stop, whichever comes first.
  Status WaitForStaged() {
    const auto deadline = Clock::now() + options_.poll_interval;
    while (!stop_ && Clock::now() < deadline) {
      if (options_.upstream_done != nullptr && options_.upstream_done->load()) return Status::Ok();
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
      auto notified = connection_->WaitForNotification(
          static_cast<int>(std::clamp<std::int64_t>(left.count(), 1, 200)));
      if (!notified.ok()) return notified.status();
      if (*notified) return Status::Ok();
    }
    return Status::Ok();
  }

  // Following, an outage is waited out, and so is another ETL's lock: a second `run` is a
  // standby, and a restart right after a crash must wait until the server has noticed the dead
  // session (its statement in flight still holds the lock). Once, both end the run (exit 1 or 4).
  bool Retryable(const Status& status) const {
    return options_.follow && (status.code() == Status::Code::kUnavailable ||
                               status.code() == Status::Code::kAlreadyExists);
  }

  // Waits `*delay` (doubling it for next time) unless stopped. False when stopped.
  bool Backoff(const Status& status, std::chrono::milliseconds* delay) {
    if (status.code() == Status::Code::kAlreadyExists) {
      // A standby waiting for another ETL's lock is doing its job, not failing: with several
      // `posflow run` processes (one hop), all but one wait so, and /healthz must not fail them.
      spdlog::info("etl: standby: {} (trying again in {} ms)", status.message(), delay->count());
      SetHealth(true, "");
    } else {
      spdlog::error("etl: {} (retrying in {} ms)", status.message(), delay->count());
      SetHealth(false, status.message());
    }
    const auto until = Clock::now() + *delay;
    while (!stop_ && Clock::now() < until) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    *delay = std::min(*delay * 2, options_.retry_max);
    return !stop_;
  }

  void Record(const warehouse::BatchLoad& batch, double seconds) {
    ++stats_.batches;
    stats_.transactions += batch.transactions;
    stats_.lines += batch.lines;
    stats_.skipped += batch.skipped;
    stats_.inferred_members += batch.inferred_members;
    stats_.partitions_created += batch.partitions_created;
    stats_.staging_purged += batch.staging_purged;
    stats_.quarantined += batch.quarantined;
    if (batch.quarantined > 0) {
      spdlog::warn("etl: quarantined {} receipts PostgreSQL refused (posflow dlq list)",
                   batch.quarantined);
    }
    spdlog::info("etl: loaded {} transactions ({} lines) in {:.3f} s", batch.transactions,
                 batch.lines, seconds);
    if (metrics_ != nullptr) {
      metrics_->RecordCommit(kHealthComponent);
      metrics_->AddLoaded(static_cast<std::uint64_t>(batch.transactions),
                          static_cast<std::uint64_t>(batch.lines));
      metrics_->ObserveEtlBatch(static_cast<std::size_t>(batch.transactions), seconds);
      for (double age : batch.sale_to_load_seconds) metrics_->ObserveEventToWarehouse(age);
      for (const std::string& reason : batch.quarantine_reasons) {
        metrics_->AddDeadLettered(reason, 1);
      }
    }
  }

  void SetHealth(bool healthy, const std::string& reason) {
    if (metrics_ != nullptr) metrics_->SetHealth(kHealthComponent, healthy, reason);
  }

  const Config& config_;
  const EtlOptions& options_;
  // Where batches come from. It outlives reconnects: a batch that failed has told it so
  // (BatchSource::RolledBack), and it hands that batch's receipts over again.
  std::unique_ptr<warehouse::BatchSource> source_;
  const std::atomic<bool>& stop_;
  ops::Metrics* metrics_;
  std::optional<pg::Connection> connection_;
  std::optional<warehouse::WarehouseLoader> loader_;
  Clock::time_point next_partition_check_{};
  EtlStats stats_;
};

}  // namespace

Result<EtlStats> RunEtl(const Config& config, const EtlOptions& options,
                        const std::atomic<bool>& stop, ops::Metrics* metrics) {
  if (options.load.batch_max_transactions < 1) {
    return Status::InvalidArgument("etl: the batch size must be at least 1 transaction");
  }
  // The staging `config` names, as the loader's source of batches (staging/staging_factory.h).
  auto source = staging::OpenBatchSource(
      config, staging::BatchSourceOptions{.staging_retention = options.load.staging_retention});
  if (!source.ok()) return source.status();
  EtlLoop loop(config, options, std::move(*source), stop, metrics);
  return loop.Run();
}

}  // namespace posflow::pipeline
