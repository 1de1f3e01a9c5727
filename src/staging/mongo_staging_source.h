#pragma once

// MongoDB staging as the warehouse loader's source (warehouse/batch_source.h: staging
// implements the warehouse's source interface), by sealed segments (mongo_staging.h):
//   - When no sealed segment is left, the source seals MongoDB's `transactions` (renames it to
//     a new segment), fenced against ingest batches in flight: in a short PostgreSQL
//     transaction of its own, on a connection of its own, it holds ops.mongo_seal FOR UPDATE
//     while it renames (every ingest batch holds that row FOR SHARE from before its insert to
//     its commit; migration 009). So once the seal commits, each document of the segment
//     belongs to an ingest batch that committed (its id in ops.transaction_seen) or to one
//     that rolled back. The seal is its own transaction, not the batch's, so that the fence is
//     held only for the rename, and a batch rolled back later does not undo the count of a
//     seal that happened. The fence also means the cursor sees every document the segment will
//     ever hold: nothing needs counting afterwards (FerretDB counts a collection by fetching
//     every document: minutes and gigabytes for a million).
//   - Each batch COPYs the segment's next documents into etl_tx / etl_line and quarantines
//     those the ETL cannot load (MongoRefusedDocument) into ops.dead_letter, stage 'etl', in
//     the batch's transaction (SourceFill::quarantine_reasons). Documents may already be in
//     the facts (a crash after a batch committed but before its segment was dropped), and
//     those of ingest batches that never committed must not load: `may_repeat` makes the
//     loader skip both.
//   - A segment read to its end (every batch of it committed) is dropped; then the next one
//     is sealed.
//   - A batch rolled back (or a failure reading) makes the source read its segment again from
//     the start: the facts' keys skip what was loaded.
// Watermark row: "mongodb-staging".
//
// Not thread-safe: used by one loader, on its connection (batch_source.h), from one thread.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "pg/connection.h"
#include "staging/mongo_staging.h"
#include "warehouse/batch_source.h"

namespace posflow::staging {

class MongoStagingSource : public warehouse::BatchSource {
 public:
  // `mongo`: the staging store (not connected yet is fine). `seal_connection`: where the
  // source opens its own PostgreSQL connection for seals (lazily; again after a failure).
  MongoStagingSource(std::unique_ptr<MongoStaging> mongo, pg::ConnectionOptions seal_connection);

  // One step: seals a segment when none is left (transactions 0, more false when there was
  // nothing to seal); drops a segment read to its end (transactions 0, more true); otherwise
  // fills the batch with the segment's next documents (more true).
  // Failure: Unavailable when MongoDB or PostgreSQL cannot be reached; the statement's error
  // otherwise.
  Result<warehouse::SourceFill> Fill(pg::Connection& connection,
                                     std::int64_t max_transactions) override;
  void Committed() override;
  void RolledBack() override;

 private:
  // Seals `transactions` under the fence (see above); "" when there was nothing to seal.
  Result<std::string> SealFenced();
  // Documents the ETL cannot load to the quarantine, in the batch's transaction. Returns the
  // reason of each one quarantined.
  Result<std::vector<std::string>> QuarantineDocuments(
      pg::Connection& connection, const std::vector<MongoRefusedDocument>& documents);

  std::unique_ptr<MongoStaging> mongo_;
  pg::ConnectionOptions seal_options_;
  std::optional<pg::Connection> seal_connection_;
  std::string segment_;             // the sealed segment being loaded
  bool segment_open_ = false;       // its cursor open
  std::int64_t segment_read_ = 0;   // its documents in committed batches
  std::int64_t batch_documents_ = 0;  // its documents in the batch in flight
};

}  // namespace posflow::staging
