#pragma once

// Where a warehouse batch comes from: the ONE interface through which the warehouse loader
// (warehouse_loader.h) takes its receipts, whatever holds them. Implemented by PostgreSQL
// staging (the oldest staged rows, moved out of staging in the batch's transaction), MongoDB
// staging (a sealed segment's documents, COPYed in) and the consumed Kafka batch itself (`posflow
// run`'s one-hop path: parsed messages COPYed in together with their offsets, seen ids,
// duplicates and dead letters).
//
// The protocol of one batch, driven by WarehouseLoader::LoadBatch:
//   begin; source.Fill(connection) fills the session's temp tables etl_tx / etl_line (shaped
//   like staging.pos_transaction / staging.pos_line) and writes whatever bookkeeping of its own
//   must commit with the facts; the loader writes dimensions, facts, aggregates, inventory and
//   the watermark; source.BeforeCommit(connection); commit; source.Committed().
//   Any failure: rollback; source.RolledBack().
// So a source's own writes and the warehouse's commit or vanish together: exactly once, as
// long as the source can hand over again what a rolled-back batch held.
//
// Thread-safety: a source is used by one loader, on the loader's connection, from one thread.

#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"
#include "pg/connection.h"

namespace posflow::warehouse {

// What Fill put into the batch.
struct SourceFill {
  // Receipts in etl_tx. 0: nothing to load now (the loader commits the source's own writes, if
  // any, and returns a batch of 0).
  std::int64_t transactions = 0;
  // The source has more to load right away (the caller should not wait before the next batch).
  bool more = false;
  // The receipts may already be in the facts (a source that can hand a receipt over again after
  // a crash: MongoDB). The loader then drops those first: receipts already in the facts, and
  // those whose ingest batch never committed (not in ops.transaction_seen).
  bool may_repeat = false;
  // Records the source itself quarantined in this batch (ops.dead_letter, stage 'etl'), one
  // reason code each; counted in BatchLoad::quarantined.
  std::vector<std::string> quarantine_reasons;
  // The ops.etl_watermark row this batch advances. Empty: LoadOptions::pipeline. Writers that
  // run concurrently (several one-hop consumers) each name their own row so that no two batches
  // wait for one another on it.
  std::string watermark;
};

struct BatchLoad;

class BatchSource {
 public:
  virtual ~BatchSource() = default;

  // Fills etl_tx / etl_line with at most `max_transactions` receipts, inside the batch's open
  // transaction on `connection` (REQUIRES: the loader's, with its temp tables). Failure: the
  // batch is rolled back (Unavailable when the connection or the source's store went away).
  virtual Result<SourceFill> Fill(pg::Connection& connection, std::int64_t max_transactions) = 0;

  // After the warehouse statements, before the commit, in the same transaction: e.g. purging kept
  // staging rows. Default: nothing.
  virtual Status BeforeCommit(pg::Connection& connection, BatchLoad* load) {
    (void)connection;
    (void)load;
    return Status::Ok();
  }

  // After the batch committed / was rolled back (e.g. MongoDB: move on in the segment, or read
  // it again). Default: nothing.
  virtual void Committed() {}
  virtual void RolledBack() {}
};

}  // namespace posflow::warehouse
