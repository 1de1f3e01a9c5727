#include "staging/pg_staging_source.h"

#include <string>

#include "warehouse/warehouse_loader.h"

namespace posflow::staging {
namespace {

// The oldest staged receipts and their lines, out of staging and into the batch, in the batch's
// transaction. ONE statement, so both deletes see the same snapshot: a receipt and its lines
// are committed together by ingest with the same ingested_at (its transaction's now()), so the
// same range of (ingested_at, transaction_id) takes a receipt exactly when it takes its lines.
// Both are range scans over adjacent index entries; probing the primary keys once per receipt
// cost twice as much (bench/README.md, fix 6). No join with the batch: whatever staging's
// statistics say (still "empty" while ingest floods it), the worst plan is one sequential pass
// over each staging table, never a nested loop over one.
constexpr const char* kMoveStagedSql = R"sql(
with bound as (
  select ingested_at, transaction_id
  from (select ingested_at, transaction_id from staging.pos_transaction
        order by ingested_at, transaction_id limit $1) oldest
  order by ingested_at desc, transaction_id desc limit 1),
taken as (
  delete from staging.pos_transaction t using bound b
  where (t.ingested_at, t.transaction_id) <= (b.ingested_at, b.transaction_id)
  returning t.*),
taken_lines as (
  delete from staging.pos_line l using bound b
  where (l.ingested_at, l.transaction_id) <= (b.ingested_at, b.transaction_id)
  returning l.*),
receipts as (insert into etl_tx select * from taken returning 1),
lines as (insert into etl_line select * from taken_lines returning 1)
select (select count(*) from receipts), (select count(*) from lines)
)sql";

constexpr const char* kKeepStagedSql = R"sql(
insert into staging.pos_transaction_loaded select etl_tx.*, now() from etl_tx;
insert into staging.pos_line_loaded (transaction_id, line_number, product_id, item, unit_price,
                                     quantity, line_total, ingested_at, running_line_total)
select transaction_id, line_number, product_id, item, unit_price, quantity, line_total,
       ingested_at, running_line_total
from etl_line;
)sql";

constexpr const char* kPurgeKeptTransactionsSql =
    "delete from staging.pos_transaction_loaded where loaded_at < now() - $1::interval";
constexpr const char* kPurgeKeptLinesSql =
    "delete from staging.pos_line_loaded where loaded_at < now() - $1::interval";

}  // namespace

PgStagingSource::PgStagingSource(std::chrono::hours staging_retention)
    : staging_retention_(staging_retention) {}

Result<warehouse::SourceFill> PgStagingSource::Fill(pg::Connection& connection,
                                                    std::int64_t max_transactions) {
  taken_ = 0;
  auto moved = connection.Query(kMoveStagedSql, {std::to_string(max_transactions)});
  if (!moved.ok()) return moved.status().WithContext("taking staged transactions");
  auto taken = moved->GetInt64(0, 0);
  if (!taken.ok()) return taken.status();
  warehouse::SourceFill fill;
  if (*taken == 0) return fill;  // staging is empty
  if (staging_retention_.count() > 0) {
    Status status = connection.Execute(kKeepStagedSql);
    if (!status.ok()) return status.WithContext("keeping loaded staging rows");
  }
  taken_ = *taken;
  fill.transactions = *taken;
  fill.more = *taken >= max_transactions;
  return fill;
}

Status PgStagingSource::BeforeCommit(pg::Connection& connection, warehouse::BatchLoad* load) {
  // Kept rows past this ETL's retention. Without one it keeps nothing and purges nothing:
  // rows kept by an earlier run are `posflow maintain`'s (its --staging-retention-hours).
  if (taken_ == 0 || staging_retention_.count() <= 0) return Status::Ok();
  const std::string retention = std::to_string(staging_retention_.count()) + " hours";
  for (const char* purge : {kPurgeKeptTransactionsSql, kPurgeKeptLinesSql}) {
    auto purged = connection.Query(purge, {retention});
    if (!purged.ok()) return purged.status().WithContext("purging kept staging rows");
    load->staging_purged += purged->AffectedRows();
  }
  return Status::Ok();
}

}  // namespace posflow::staging
