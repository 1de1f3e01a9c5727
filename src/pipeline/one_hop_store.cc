#include "pipeline/one_hop_store.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <utility>

#include "ops/metrics.h"

namespace posflow::pipeline {
namespace {

using Clock = std::chrono::steady_clock;

// The consumed batch as the loader's source: written by the BatchWriter into the loader's temp
// tables (and the ops tables) inside the loader's transaction. Filled again from the same batch
// when the loader loads it again after a conflict.
class ConsumedBatchSource : public warehouse::BatchSource {
 public:
  ConsumedBatchSource(staging::BatchWriter& writer, const staging::Batch& batch,
                      staging::BatchResult* result)
      : writer_(writer), batch_(batch), result_(result) {}

  Result<warehouse::SourceFill> Fill(pg::Connection& connection,
                                     std::int64_t /*max_transactions: the ingest batch's*/) override {
    *result_ = staging::BatchResult{};
    POSFLOW_RETURN_IF_ERROR(writer_.Write(connection, batch_, result_));
    warehouse::SourceFill fill;
    fill.transactions = static_cast<std::int64_t>(result_->staged);
    fill.watermark = Watermark();
    return fill;
  }

 private:
  // Concurrent consumers hold disjoint partitions, so the batch's first partition names a row
  // no other consumer's batch in flight advances.
  std::string Watermark() const {
    const auto first = std::min_element(
        batch_.progress.begin(), batch_.progress.end(),
        [](const auto& a, const auto& b) { return a.partition < b.partition; });
    if (first == batch_.progress.end()) return "one-hop";
    return "one-hop:" + first->partition.topic + "/" + std::to_string(first->partition.partition);
  }

  staging::BatchWriter& writer_;
  const staging::Batch& batch_;
  staging::BatchResult* result_;
};

}  // namespace

OneHopStore::OneHopStore(pg::ConnectionOptions options, warehouse::LoadOptions load,
                         ops::Metrics* metrics, EtlStats* loaded)
    : options_(std::move(options)),
      load_options_(std::move(load)),
      metrics_(metrics),
      writer_(staging::RowTargets::EtlTempTables(), nullptr),
      loaded_(loaded) {}

OneHopStore::~OneHopStore() = default;

Result<pg::Connection*> OneHopStore::Connection() {
  if (connection_) return &*connection_;
  auto connection = pg::Connection::Open(options_);
  if (!connection.ok()) return connection.status();
  connection_.emplace(std::move(connection).value());
  loader_.emplace(*connection_, load_options_);
  Status status = loader_->Prepare();
  if (!status.ok()) {
    loader_.reset();
    connection_.reset();
    return status;
  }
  return &*connection_;
}

Result<std::map<staging::PartitionKey, std::int64_t>> OneHopStore::LoadOffsets(
    const std::string& consumer_group, const std::vector<staging::PartitionKey>& partitions) {
  auto connection = Connection();
  if (!connection.ok()) return connection.status();
  auto offsets = staging::LoadStoredOffsets(**connection, consumer_group, partitions);
  if (!offsets.ok() && offsets.status().code() == Status::Code::kUnavailable) {
    loader_.reset();
    connection_.reset();
  }
  return offsets;
}

Result<staging::BatchResult> OneHopStore::WriteBatch(const staging::Batch& batch) {
  auto connection = Connection();
  if (!connection.ok()) return connection.status();
  const auto started = Clock::now();
  staging::BatchResult result;
  ConsumedBatchSource source(writer_, batch, &result);
  auto load = loader_->LoadBatch(source);
  if (!load.ok()) {
    if (load.status().code() == Status::Code::kUnavailable) {
      loader_.reset();
      connection_.reset();
    }
    return load.status();
  }
  Record(*load, std::chrono::duration<double>(Clock::now() - started).count());
  return result;
}

void OneHopStore::Record(const warehouse::BatchLoad& load, double seconds) {
  if (loaded_ != nullptr) {
    ++loaded_->batches;
    loaded_->transactions += load.transactions;
    loaded_->lines += load.lines;
    loaded_->inferred_members += load.inferred_members;
    loaded_->partitions_created += load.partitions_created;
    loaded_->quarantined += load.quarantined;
  }
  if (load.quarantined > 0) {
    spdlog::warn("run: quarantined {} receipts PostgreSQL refused (posflow dlq list)",
                 load.quarantined);
  }
  spdlog::debug("run: loaded {} transactions ({} lines) in {:.3f} s", load.transactions,
                load.lines, seconds);
  if (metrics_ == nullptr) return;
  metrics_->RecordCommit("etl");
  metrics_->AddLoaded(static_cast<std::uint64_t>(load.transactions),
                      static_cast<std::uint64_t>(load.lines));
  metrics_->ObserveEtlBatch(static_cast<std::size_t>(load.transactions), seconds);
  for (double age : load.sale_to_load_seconds) metrics_->ObserveEventToWarehouse(age);
  for (const std::string& reason : load.quarantine_reasons) metrics_->AddDeadLettered(reason, 1);
}

}  // namespace posflow::pipeline
