#pragma once

// Loads staged transactions into the warehouse (DESIGN.md, "Storage" and "Exactly-once"): the
// dimensions (inferred members for what the reference data does not know yet), both facts, the
// aggregates, the store inventory (on-hand; the line facts are its sale movements) and the ETL
// watermark, all
// in ONE PostgreSQL transaction per batch, set-based (a handful of statements per batch, none
// per row).
//
// A batch flows through two session-temporary tables, etl_tx and etl_line, shaped like
// staging.pos_transaction and staging.pos_line. Whatever holds the receipts fills them as the
// loader's source (batch_source.h), inside the batch's transaction; LoadBatch does the rest,
// then commits the source's own writes with the warehouse's. The sources: PostgreSQL staging
// (staging/pg_staging_source.h: moves the oldest staged rows in, so taking them out of staging
// and writing their facts commit or roll back together), MongoDB staging
// (staging/mongo_staging_source.h: a sealed segment's documents, COPYed in) and `posflow run`'s
// one-hop batches. A source that may hand a receipt over again after a crash says so
// (SourceFill::may_repeat): receipts whose facts exist already, and those whose ingest batch
// never committed (not in ops.transaction_seen), are dropped from the batch first (the facts'
// key is (transaction_id, sale_date) and sale_date is a function of the row).
//
// Semantics of one batch:
//   - sold_at: the receipt's local time in the store's time zone (from the store's current
//     dw.dim_store version), or its own UTC offset when the message gave one; sale_date is the
//     receipt's local date (the partition key), time_key its local minute.
//   - SCD2: facts point at the dw.dim_store / dw.dim_product version whose [valid_from,
//     valid_to) holds sold_at, so late and out-of-order sales land on the version of their time.
//   - Inferred members: an unknown store or product gets a first version valid from -infinity,
//     marked is_inferred (placeholder attributes from the message; an unknown store's time zone
//     is that of a known store in the same province, else UTC); an unknown customer is inserted
//     from the message's customer fields; an unknown payment type is added. The reference load
//     (`posflow init`) fills inferred members in place later. A line that names only its item
//     resolves to the product of that name, else to the inferred product "item:<name>".
//   - tax_share: the receipt's tax split over its lines in proportion to line_total, by
//     cumulative rounding (over the staged running_line_total), so a receipt's shares add up to
//     its tax exactly.
//   - Inventory: on-hand of (store, product) decreases by the quantity sold (a return adds); a
//     pair without an on-hand row gets one (reorder point 0), negative when oversold. The sale
//     or return movement of each line is its line fact (the view inventory.movement), not
//     stored a second time.
//   - Month partitions missing for a batch's sale months are created in the batch.
//   - Every written line is checked to have resolved its keys: a count mismatch refuses the
//     batch rather than dropping a sale.
//   - Quarantine: when PostgreSQL refuses the batch because of some receipts' content (a
//     data-dependent SQLSTATE: pg::IsDataDependentSqlState, e.g. 54000 for a key too large for
//     its index, 22003 for an aggregate that overflows) or some receipts do not resolve, the
//     batch is loaded again in halves under savepoints, down to the single receipts refused;
//     each of those moves to ops.dead_letter (stage 'etl', reason etl.refused:<SQLSTATE> or
//     etl.refused:unresolved, its Kafka coordinates, its staged row as JSON) in the batch's
//     transaction, and the rest loads. Other failures (lost connection, a missing table) fail
//     the batch as before.
//
// Concurrency: a loader uses its connection exclusively. One staging ETL per database at a time
// (AcquireEtlLock: two would take the same staged rows in turn), but loaders of other sources
// (one-hop consumers of disjoint partitions) load beside it and each other: inferred members are
// inserted in key order with `on conflict do nothing`, aggregate and on-hand upserts lock their
// rows in key order, month partitions are created under a transaction advisory lock, and a batch
// that still meets another loader (IsConflict) is loaded again.

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"
#include "pg/connection.h"
#include "warehouse/batch_source.h"

namespace posflow::warehouse {

struct LoadOptions {
  // Most receipts per batch (one transaction). Default 10 000: big enough that per-statement
  // costs vanish (measured: bench/README.md), small enough that a batch commits in well under a
  // second and that its temporary rows stay in memory.
  std::int64_t batch_max_transactions = 10000;
  // PostgreSQL staging: keep loaded staging rows (moved to staging.*_loaded) for this long
  // instead of deleting them; 0 deletes them at once. With a retention, each batch also purges
  // kept rows older than it; without one, rows kept earlier stay for `posflow maintain` to
  // purge. Default 0. Not read by the loader: the ETL hands it to its source
  // (staging::OpenBatchSource, staging/pg_staging_source.h).
  std::chrono::hours staging_retention{0};
  // The watermark row (ops.etl_watermark.pipeline) of a batch whose source names none
  // (SourceFill::watermark). Default "postgres-staging".
  std::string pipeline = "postgres-staging";
};

// What one batch did.
struct BatchLoad {
  std::int64_t transactions = 0;        // receipts loaded
  std::int64_t lines = 0;               // fact_sales_line rows written
  std::int64_t skipped = 0;             // receipts dropped as already loaded (may_repeat)
  std::int64_t inferred_members = 0;    // dimension rows inferred
  std::int64_t partitions_created = 0;
  std::int64_t staging_purged = 0;      // kept staging rows purged past the retention
  // Receipts PostgreSQL refused to load because of their content, moved to the quarantine
  // (ops.dead_letter, stage 'etl') in the batch's transaction; one reason code each
  // ("etl.refused:<SQLSTATE>", or "etl.refused:unresolved" when its keys did not resolve).
  std::int64_t quarantined = 0;
  std::vector<std::string> quarantine_reasons;
  bool more = false;                    // the source has more to load right away
  // Per receipt: seconds from its sale instant to the batch's last statement (for the
  // event-to-warehouse histogram; the commit follows within milliseconds).
  std::vector<double> sale_to_load_seconds;
};

class WarehouseLoader {
 public:
  // REQUIRES: `connection` outlives the loader, holds no open transaction, and its database is
  // migrated (004_etl_support.sql).
  WarehouseLoader(pg::Connection& connection, LoadOptions options);

  // Creates the session's temporary tables (once per connection; again after a reconnect).
  Status Prepare();

  // One batch from `source` (batch_source.h has the protocol): begin, source.Fill, the
  // warehouse statements, source.BeforeCommit, commit. A batch that conflicted with a concurrent
  // loader (IsConflict) is rolled back and loaded again, up to 5 times.
  // Failure: Unavailable when the connection is lost, the refusing statement's error otherwise;
  // the transaction is rolled back either way (and source.RolledBack() called).
  Result<BatchLoad> LoadBatch(BatchSource& source);

  // Whether `sqlstate` means that a concurrent loader got in this batch's way (a unique key or a
  // partition it wrote meanwhile, a deadlock, a serialization failure): the batch can simply be
  // loaded again. Never a refusal of the batch's content.
  static bool IsConflict(const std::string& sqlstate);

 private:
  // The batch's receipts, the lines they announce (Σ line_count) and the lines in etl_line.
  struct BatchCounts {
    std::int64_t transactions = 0;
    std::int64_t announced_lines = 0;
    std::int64_t lines = 0;
  };

  // Loads what etl_tx/etl_line hold, inside the open transaction (does not commit). When
  // PostgreSQL refuses the batch because of some receipts' content, those receipts are found by
  // bisection and quarantined, and the rest is loaded.
  Result<BatchLoad> LoadStagedRows(bool skip_loaded);
  Result<BatchLoad> TryLoadBatch(BatchSource& source);
  // The batch's statements over what etl_tx/etl_line hold (`batch` counts them); adds to
  // `load`. Leaves etl_fact filled.
  Status LoadTempRows(const BatchCounts& batch, BatchLoad* load);
  // Whether `status` (from LoadTempRows) is a refusal caused by the rows' content: a
  // data-dependent SQLSTATE (pg::IsDataDependentSqlState) or receipts that did not resolve.
  bool IsRefusal(const Status& status) const;
  // After a refusal (rolled back): moves the batch to etl_hold_* and loads it in parts.
  Status LoadIsolatingRefusals(BatchLoad* load);
  // Loads the held receipts ids[begin, end) under a savepoint; refused, it halves the part,
  // down to single receipts, which it quarantines.
  Status LoadPart(const std::vector<std::string>& ids, std::size_t begin, std::size_t end,
                  BatchLoad* load);
  Result<std::int64_t> Count(const char* sql);
  Result<BatchCounts> CountBatch();
  // Rolls the batch's transaction back (nothing to do on a lost connection).
  void Rollback();

  pg::Connection& connection_;
  LoadOptions options_;
  // Receipts in the batch the temp tables' statistics were last taken from (0: none, or lost
  // with a rollback). Statistics of a temporary table outlive its `on commit delete rows`, and
  // the planner scales them to the table's current size, so a batch is analysed only when it is
  // more than twice that big: the first batch, or the first big one after small ones.
  std::int64_t analyzed_transactions_ = 0;
  // The ops.etl_watermark row of the batch in flight.
  std::string watermark_;
};

// Takes the database's ETL lock (a session advisory lock on `connection`) so that two ETLs
// never overlap. Failure: AlreadyExists naming the holder's pid and application when another
// session holds it; the query's error otherwise.
Status AcquireEtlLock(pg::Connection& connection);

// Releases the lock AcquireEtlLock took. Call it before closing the connection: the server
// frees a closed session's locks only once its backend has exited, which a next ETL started
// right away could otherwise beat.
Status ReleaseEtlLock(pg::Connection& connection);

}  // namespace posflow::warehouse
