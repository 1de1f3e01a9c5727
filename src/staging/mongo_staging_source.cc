#include "staging/mongo_staging_source.h"

#include <spdlog/spdlog.h>

#include <utility>

#include "common/text.h"
#include "staging/staging_rows.h"

namespace posflow::staging {
namespace {

constexpr const char* kWatermark = "mongodb-staging";

// A staged document the ETL cannot load, to the quarantine. A document with Kafka coordinates
// counts only if its ingest batch committed (as in the load); one without (not in ingest's
// shape) always.
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

}  // namespace

MongoStagingSource::MongoStagingSource(std::unique_ptr<MongoStaging> mongo,
                                       pg::ConnectionOptions seal_connection)
    : mongo_(std::move(mongo)), seal_options_(std::move(seal_connection)) {}

Result<warehouse::SourceFill> MongoStagingSource::Fill(pg::Connection& connection,
                                                       std::int64_t max_transactions) {
  warehouse::SourceFill fill;
  fill.may_repeat = true;
  fill.watermark = kWatermark;
  batch_documents_ = 0;
  if (segment_.empty()) {
    auto segments = mongo_->SealedSegments();
    if (!segments.ok()) return segments.status();
    if (segments->empty()) {
      auto sealed = SealFenced();
      if (!sealed.ok()) return sealed.status();
      if (sealed->empty()) return fill;  // nothing staged
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
  }
  auto batch = mongo_->ReadSegment(max_transactions);
  if (!batch.ok()) return batch.status();
  if (batch->ids.empty()) {
    // Read to its end, and every batch read from it committed (a rolled-back one would have
    // made the source read it again): done with it.
    POSFLOW_RETURN_IF_ERROR(mongo_->DropSegment(segment_));
    spdlog::info("etl: segment {} loaded ({} documents) and dropped", segment_, segment_read_);
    segment_.clear();
    fill.more = true;  // more may have been staged meanwhile
    return fill;
  }
  Status status = connection.CopyIn(std::string("copy etl_tx (") + kStagedTransactionColumns +
                                        ", ingested_at) from stdin",
                                    batch->transaction_rows);
  if (status.ok()) {
    status = connection.CopyIn(
        std::string("copy etl_line (") + kStagedLineColumns + ") from stdin", batch->line_rows);
  }
  if (!status.ok()) return status.WithContext("copying staged documents into the batch");
  if (!batch->refused.empty()) {
    auto quarantined = QuarantineDocuments(connection, batch->refused);
    if (!quarantined.ok()) return quarantined.status();
    fill.quarantine_reasons = std::move(*quarantined);
  }
  batch_documents_ = static_cast<std::int64_t>(batch->ids.size());
  fill.transactions = batch_documents_ - static_cast<std::int64_t>(batch->refused.size());
  fill.more = true;
  return fill;
}

void MongoStagingSource::Committed() {
  segment_read_ += batch_documents_;
  batch_documents_ = 0;
}

void MongoStagingSource::RolledBack() {
  segment_.clear();  // read it again from its start
  batch_documents_ = 0;
}

Result<std::vector<std::string>> MongoStagingSource::QuarantineDocuments(
    pg::Connection& connection, const std::vector<MongoRefusedDocument>& documents) {
  std::vector<std::string> reasons;
  for (const auto& document : documents) {
    auto inserted = connection.Query(
        kQuarantineDocumentSql,
        {document.topic, std::to_string(document.partition), std::to_string(document.offset),
         document.document, document.reason, document.details, document.transaction_id});
    if (!inserted.ok()) return inserted.status().WithContext("quarantining a staged document");
    if (inserted->AffectedRows() > 0) {
      spdlog::warn("etl: quarantined MongoDB staging document '{}' ({}): {}",
                   LoggableText(document.transaction_id, 80), document.reason,
                   LoggableText(document.details, 1000));
      reasons.push_back(document.reason);
    }
  }
  return reasons;
}

Result<std::string> MongoStagingSource::SealFenced() {
  if (!seal_connection_) {
    auto opened = pg::Connection::Open(seal_options_);
    if (!opened.ok()) return opened.status().WithContext("sealing MongoDB staging");
    seal_connection_.emplace(std::move(*opened));
  }
  pg::Connection& connection = *seal_connection_;
  // Any failure: a new session for the next seal (the one in hand may be broken).
  auto fail = [this](const Status& failure) -> Result<std::string> {
    (void)seal_connection_->Execute("rollback");
    seal_connection_.reset();
    return failure;
  };
  Status status = connection.Execute("begin");
  if (!status.ok()) return fail(status.WithContext("sealing MongoDB staging"));
  auto locked = connection.Query("select 1 from ops.mongo_seal for update");
  if (!locked.ok()) return fail(locked.status().WithContext("taking the MongoDB seal fence"));
  auto sealed = mongo_->Seal();
  if (!sealed.ok()) return fail(sealed.status());
  if (!sealed->empty()) {
    auto counted = connection.Query(
        "update ops.mongo_seal set sealed_segments = sealed_segments + 1, "
        "last_sealed_at = now()");
    if (!counted.ok()) return fail(counted.status().WithContext("recording a MongoDB seal"));
  }
  status = connection.Execute("commit");
  if (!status.ok()) return fail(status.WithContext("sealing MongoDB staging"));
  return sealed;
}

}  // namespace posflow::staging
