#include "pipeline/etl_job.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include "ops/metrics.h"
#include "pg/connection.h"
#include "staging/mongo_staging.h"
#include "staging/staging_factory.h"
#include "staging/staging_rows.h"
#include "staging/staging_store.h"

namespace posflow::pipeline {
namespace {

using Clock = std::chrono::steady_clock;
constexpr const char* kHealthComponent = "etl";

class EtlLoop {
 public:
  EtlLoop(const Config& config, const EtlOptions& options, const std::atomic<bool>& stop,
          ops::Metrics* metrics)
      : config_(config), options_(options), stop_(stop), metrics_(metrics) {}

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
      auto batch = mongo_ ? LoadMongoBatch() : loader_->LoadPgStagingBatch();
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
  // One batch from MongoDB staging (see MongoStaging: sealed segments): seal the staged
  // documents as a segment, fenced against ingest batches in flight (SealFenced), stream it
  // into the warehouse in batches, each ONE PostgreSQL transaction in which receipts already in
  // the facts, and those of ingest batches that never committed, are skipped; at its end drop
  // it, then seal the next. The fence means the cursor sees every document the segment will
  // ever hold, so nothing needs counting afterwards (FerretDB counts a collection by fetching
  // every document: minutes and gigabytes for a million).
  Result<warehouse::BatchLoad> LoadMongoBatch() {
    if (segment_.empty()) {
      auto segments = mongo_->SealedSegments();
      if (!segments.ok()) return segments.status();
      if (segments->empty()) {
        auto sealed = SealFenced();
        if (!sealed.ok()) return sealed.status();
        if (sealed->empty()) return warehouse::BatchLoad{};  // nothing staged
        // The index goes with the renamed collection; the next one gets its own.
        POSFLOW_RETURN_IF_ERROR(mongo_->Prepare());
        segment_ = *sealed;
      } else {
        segment_ = segments->front();
      }
      segment_open_ = false;
    }
    if (!segment_open_) {
      POSFLOW_RETURN_IF_ERROR(mongo_->OpenSegment(segment_));
      segment_open_ = true;
      segment_read_ = 0;
      segment_exhausted_ = false;
    }
    if (segment_exhausted_) {
      POSFLOW_RETURN_IF_ERROR(mongo_->DropSegment(segment_));
      spdlog::info("etl: segment {} loaded ({} documents) and dropped", segment_, segment_read_);
      segment_.clear();
      warehouse::BatchLoad done;
      done.more = true;  // more may have been staged meanwhile
      return done;
    }
    POSFLOW_RETURN_IF_ERROR(loader_->BeginFilledBatch());
    auto batch = mongo_->ReadSegment(options_.load.batch_max_transactions);
    if (!batch.ok()) {
      loader_->Rollback();
      segment_.clear();  // re-read from its start
      return batch.status();
    }
    if (batch->ids.empty()) {
      loader_->Rollback();
      segment_exhausted_ = true;
      warehouse::BatchLoad next;
      next.more = true;  // drop it on the next call
      return next;
    }
    Status status = connection_->CopyIn(
        std::string("copy etl_tx (") + staging::kStagedTransactionColumns +
            ", ingested_at) from stdin",
        batch->transaction_rows);
    if (status.ok()) {
      status = connection_->CopyIn(
          std::string("copy etl_line (") + staging::kStagedLineColumns + ") from stdin",
          batch->line_rows);
    }
    if (!status.ok()) {
      loader_->Rollback();
      segment_.clear();
      return status.WithContext("copying staged documents into the batch");
    }
    std::vector<std::string> refused_reasons;
    if (!batch->refused.empty()) {
      auto quarantined = QuarantineDocuments(batch->refused);
      if (!quarantined.ok()) {
        loader_->Rollback();
        segment_.clear();
        return quarantined.status();
      }
      refused_reasons = std::move(*quarantined);
    }
    auto load = loader_->LoadFilledBatch();
    if (!load.ok()) {
      segment_.clear();
      return load.status();
    }
    load->quarantined += static_cast<std::int64_t>(refused_reasons.size());
    load->quarantine_reasons.insert(load->quarantine_reasons.end(), refused_reasons.begin(),
                                    refused_reasons.end());
    segment_read_ += static_cast<std::int64_t>(batch->ids.size());
    load->more = true;
    return load;
  }

  // Staged documents the ETL cannot load (MongoBatch::refused) to the quarantine, in the batch's
  // transaction. A document with Kafka coordinates counts only if its ingest batch committed (as
  // in the load); one without (not in ingest's shape) always. Returns the reason of each one
  // quarantined.
  Result<std::vector<std::string>> QuarantineDocuments(
      const std::vector<staging::MongoRefusedDocument>& documents) {
    constexpr const char* kQuarantineDocumentSql = R"sql(
insert into ops.dead_letter as d (stage, topic, kafka_partition, kafka_offset, message_key,
                                  payload, reasons, details)
select 'etl', $1, $2::integer, $3::bigint, null, convert_to($4, 'UTF8'), array[$5], $6
where $2::integer < 0
   or exists (select 1 from ops.transaction_seen s where s.transaction_id = $7)
on conflict (stage, topic, kafka_partition, kafka_offset) do update
set payload = excluded.payload, reasons = excluded.reasons, details = excluded.details,
    first_seen_at = now(), replayed_at = null, replayed_as = null, payload_purged_at = null,
    purged_payload_bytes = null
)sql";
    std::vector<std::string> reasons;
    for (const auto& document : documents) {
      auto inserted = connection_->Query(
          kQuarantineDocumentSql,
          {document.topic, std::to_string(document.partition), std::to_string(document.offset),
           document.document, document.reason, document.details, document.transaction_id});
      if (!inserted.ok()) {
        return inserted.status().WithContext("quarantining a staged document");
      }
      if (inserted->AffectedRows() > 0) {
        spdlog::warn("etl: quarantined MongoDB staging document '{}' ({}): {}",
                     document.transaction_id, document.reason, document.details);
        reasons.push_back(document.reason);
      }
    }
    return reasons;
  }

  // Seals MongoDB's `transactions` while holding ops.mongo_seal FOR UPDATE: every ingest batch
  // holds it FOR SHARE from before its insert to its commit, so the seal waits for the batches
  // in flight and no insert lands in the segment after it (MongoStaging::Seal).
  Result<std::string> SealFenced() {
    Status status = connection_->Execute("begin");
    if (!status.ok()) return status.WithContext("sealing MongoDB staging");
    auto fail = [this](const Status& failure) -> Result<std::string> {
      (void)connection_->Execute("rollback");
      return failure;
    };
    auto locked = connection_->Query("select 1 from ops.mongo_seal for update");
    if (!locked.ok()) return fail(locked.status().WithContext("taking the MongoDB seal fence"));
    auto sealed = mongo_->Seal();
    if (!sealed.ok()) return fail(sealed.status());
    if (!sealed->empty()) {
      auto counted = connection_->Query(
          "update ops.mongo_seal set sealed_segments = sealed_segments + 1, "
          "last_sealed_at = now()");
      if (!counted.ok()) return fail(counted.status().WithContext("recording a MongoDB seal"));
    }
    status = connection_->Execute("commit");
    if (!status.ok()) return fail(status.WithContext("sealing MongoDB staging"));
    return sealed;
  }

  Status Connect() {
    if (staging::UsesMongoStaging(config_) && !mongo_) {
      auto mongo = staging::MongoStaging::Open(config_.staging);
      if (!mongo.ok()) return mongo.status();
      mongo_ = std::move(*mongo);
    }
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
    segment_.clear();  // a batch read from it may have been rolled back: read it again
    loader_.reset();
    connection_.reset();  // ends the session: the ETL lock goes with it
  }

  Status EnsurePartitionsAhead() {
    auto created = connection_->Query(
        "select dw.ensure_month_partitions(current_date, "
        "(current_date + make_interval(months => $1::integer))::date)",
        {std::to_string(options_.partition_months_ahead)});
    if (!created.ok()) return created.status().WithContext("creating the coming months' partitions");
    stats_.partitions_created += std::stoll(std::string(created->Get(0, 0)));
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
    spdlog::error("etl: {} (retrying in {} ms)", status.message(), delay->count());
    SetHealth(false, status.message());
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
  const std::atomic<bool>& stop_;
  ops::Metrics* metrics_;
  std::optional<pg::Connection> connection_;
  std::optional<warehouse::WarehouseLoader> loader_;
  std::unique_ptr<staging::MongoStaging> mongo_;  // with MongoDB staging
  std::string segment_;                          // the sealed segment being loaded
  bool segment_open_ = false;                    // past its grace, its cursor open
  std::int64_t segment_read_ = 0;                // its documents read so far
  bool segment_exhausted_ = false;               // read to its end, not dropped yet
  Clock::time_point next_partition_check_{};
  EtlStats stats_;
};

}  // namespace

Result<EtlStats> RunEtl(const Config& config, const EtlOptions& options,
                        const std::atomic<bool>& stop, ops::Metrics* metrics) {
  if (options.load.batch_max_transactions < 1) {
    return Status::InvalidArgument("etl: the batch size must be at least 1 transaction");
  }
  EtlOptions resolved = options;
  if (staging::UsesMongoStaging(config)) {
    // Documents can outlive their load (a crash before their delete): skip what is loaded.
    resolved.load.skip_loaded = true;
    if (resolved.load.pipeline == warehouse::LoadOptions{}.pipeline) {
      resolved.load.pipeline = "mongodb-staging";
    }
  } else if (config.staging != "postgres") {
    return Status::InvalidArgument("etl: staging must be 'postgres' or a mongodb:// URI");
  }
  EtlLoop loop(config, resolved, stop, metrics);
  return loop.Run();
}

}  // namespace posflow::pipeline
