#pragma once

// The staging a configuration names, for each job that uses it: PostgreSQL staging (`staging:
// postgres`), or MongoDB staging (`staging: mongodb://host:port/db`: the staged transactions in
// MongoDB, the offsets, seen ids, duplicates and dead letters in PostgreSQL; see
// ExternalStaging). The pipeline asks here and never branches on the backend itself.
//
// Dependency note: staging implements the warehouse's source interface
// (warehouse/batch_source.h), so this layer includes that header-only interface (and
// warehouse_loader.h for BatchLoad); it does not link the warehouse library.

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/config.h"
#include "common/status.h"
#include "staging/staged_receipt.h"
#include "staging/staging_store.h"
#include "warehouse/batch_source.h"

namespace posflow::staging {

// Whether `config` stages in MongoDB.
bool UsesMongoStaging(const Config& config);

// Opens (without connecting yet) the store `config` names, for ingest. Failure:
// InvalidArgument for a malformed MongoDB URI.
Result<std::unique_ptr<StagingStore>> OpenStagingStore(const Config& config);

struct BatchSourceOptions {
  // PostgreSQL staging: keep loaded staging rows (staging.*_loaded) this long instead of
  // deleting them, each batch purging kept rows older than that (pg_staging_source.h). 0 keeps
  // none. Ignored by MongoDB staging. Default 0.
  std::chrono::hours staging_retention{0};
};

// Opens (without connecting yet) the ETL's source of batches from the staging `config` names:
// PgStagingSource or MongoStagingSource (which opens a PostgreSQL connection of its own from
// `config` for its seals). Failure: InvalidArgument for a staging that is neither 'postgres'
// nor a well-formed mongodb:// URI.
Result<std::unique_ptr<warehouse::BatchSource>> OpenBatchSource(const Config& config,
                                                                const BatchSourceOptions& options);

// Prepares the staging `config` names beyond the migrations (`posflow init`; idempotent):
// MongoDB staging pings the server and creates its index. Returns where (password masked), or
// "" when there is nothing to prepare (PostgreSQL staging: the migrations did it).
// Failure: InvalidArgument for a malformed URI, Unavailable when MongoDB cannot be reached.
Result<std::string> PrepareStaging(const Config& config);

// Every receipt staged outside PostgreSQL (MongoDB staging: `transactions` and the sealed
// segments, in ingest's shape), for `posflow check`; nullopt when `config` stages in PostgreSQL
// (its staged receipts are tables, read in the check's own snapshot). A receipt may also be in
// the facts already, or belong to an ingest batch that never committed (not in
// ops.transaction_seen), or be listed twice (a segment and `transactions`): only the caller's
// snapshot of PostgreSQL can say which are pending. Failure: Unavailable.
Result<std::optional<std::vector<StagedReceiptFigures>>> ReadReceiptsStagedOutsidePostgres(
    const Config& config);

}  // namespace posflow::staging
