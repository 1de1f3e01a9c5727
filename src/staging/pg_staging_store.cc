#include "staging/pg_staging_store.h"

#include <spdlog/spdlog.h>

#include <string>
#include <utility>

namespace posflow::staging {
namespace {

constexpr const char* kUniqueViolation = "23505";

}  // namespace

PgStagingStore::PgStagingStore(pg::ConnectionOptions options,
                               std::unique_ptr<ExternalStaging> external)
    : options_(std::move(options)),
      external_(std::move(external)),
      writer_(RowTargets::Staging(), external_.get()) {}
PgStagingStore::~PgStagingStore() = default;

Result<pg::Connection*> PgStagingStore::Connection() {
  if (connection_) return &*connection_;
  auto connection = pg::Connection::Open(options_);
  if (!connection.ok()) return connection.status();
  // Each batch's commit must be durable before its Kafka offsets move: keep synchronous commit.
  connection_.emplace(std::move(connection).value());
  return &*connection_;
}

void PgStagingStore::Reset(const Status& status) {
  if (status.code() == Status::Code::kUnavailable) connection_.reset();
}

Result<std::map<PartitionKey, std::int64_t>> PgStagingStore::LoadOffsets(
    const std::string& consumer_group, const std::vector<PartitionKey>& partitions) {
  auto connection = Connection();
  if (!connection.ok()) return connection.status();
  auto offsets = LoadStoredOffsets(**connection, consumer_group, partitions);
  if (!offsets.ok()) Reset(offsets.status());
  return offsets;
}

Result<BatchResult> PgStagingStore::WriteBatch(const Batch& batch) {
  // A unique violation means another writer staged one of this batch's ids between our look-up
  // and our COPY (possible only across partitions): redo the batch, which then sees it as a
  // duplicate. Bounded: each retry sees strictly more ids as staged.
  constexpr int kAttempts = 5;
  for (int attempt = 1;; ++attempt) {
    auto result = TryWriteBatch(batch);
    if (result.ok() || attempt == kAttempts ||
        result.status().code() != Status::Code::kFailedPrecondition ||
        connection_ == std::nullopt || connection_->last_sqlstate() != kUniqueViolation) {
      return result;
    }
    spdlog::info("staging: concurrent writer staged a transaction of this batch; redoing it");
  }
}

Result<BatchResult> PgStagingStore::TryWriteBatch(const Batch& batch) {
  auto connection = Connection();
  if (!connection.ok()) return connection.status();
  BatchResult result;
  auto fail = [&](Status status) -> Status {
    const std::string sqlstate = connection_->last_sqlstate();
    (void)connection_->Execute("rollback");
    Reset(status);
    if (connection_) connection_->set_last_sqlstate(sqlstate);
    return status;
  };
  Status status = connection_->Execute("begin");
  if (!status.ok()) return fail(status);
  if (external_) {
    // The seal fence (staging/mongo_staging.h, Seal): from before the external insert to the
    // commit, so that no seal happens while this batch's documents are uncommitted.
    auto fenced = connection_->Query("select 1 from ops.mongo_seal for share");
    if (!fenced.ok()) return fail(fenced.status().WithContext("taking the MongoDB seal fence"));
  }
  status = writer_.Write(*connection_, batch, &result);
  if (!status.ok()) return fail(status);
  if (result.staged > 0) {
    // Wakes a following ETL (`posflow etl --follow`, `posflow run`) at commit, so freshness is
    // not bound by its polling interval. Delivered only if the batch commits.
    status = connection_->Execute("notify " + std::string(kStagedChannel));
    if (!status.ok()) return fail(status.WithContext("signalling the ETL"));
  }
  status = connection_->Execute("commit");
  if (!status.ok()) return fail(status.WithContext("committing the batch"));
  return result;
}

}  // namespace posflow::staging
