#pragma once

// PostgreSQL staging as the warehouse loader's source (warehouse/batch_source.h: staging
// implements the warehouse's source interface). Each batch moves the oldest staged receipts
// out of staging.pos_transaction / staging.pos_line into the loader's temp tables etl_tx /
// etl_line with DELETE ... RETURNING, inside the batch's transaction: taking rows out of
// staging and writing their facts commit or roll back together, so nothing is lost and nothing
// is loaded twice, whatever crashes when. The batch is a range of (ingested_at,
// transaction_id), taken from both staging tables in one statement; ingest gives a receipt's
// lines its ingested_at.
//
// With a retention, the rows taken are also kept in staging.*_loaded (loaded_at = the batch's
// time), and each batch that loads something purges kept rows older than the retention before
// it commits (BatchLoad::staging_purged). Without one, nothing is kept and nothing purged: rows
// kept by an earlier run are `posflow maintain`'s.
//
// Not thread-safe: used by one loader, on its connection (batch_source.h).

#include <chrono>
#include <cstdint>

#include "common/status.h"
#include "pg/connection.h"
#include "warehouse/batch_source.h"

namespace posflow::staging {

class PgStagingSource : public warehouse::BatchSource {
 public:
  // `staging_retention`: how long loaded staging rows are kept (see above); 0 keeps none.
  explicit PgStagingSource(std::chrono::hours staging_retention);

  // Moves up to `max_transactions` of the oldest staged receipts (and their lines) into the
  // batch; keeps a copy with a retention. `more`: the batch is full (more may be staged).
  // Failure: the statement's error (Unavailable when the connection is lost).
  Result<warehouse::SourceFill> Fill(pg::Connection& connection,
                                     std::int64_t max_transactions) override;
  // With a retention and a batch that took rows: purges kept rows older than the retention.
  Status BeforeCommit(pg::Connection& connection, warehouse::BatchLoad* load) override;
  void Committed() override { taken_ = 0; }
  void RolledBack() override { taken_ = 0; }

 private:
  std::chrono::hours staging_retention_;
  std::int64_t taken_ = 0;  // receipts the batch in flight took out of staging
};

}  // namespace posflow::staging
