#include "warehouse/warehouse_loader.h"

#include <cstdlib>
#include <optional>
#include <string>
#include <vector>

#include <spdlog/spdlog.h>

#include "common/text.h"
#include "pg/advisory_lock.h"

namespace posflow::warehouse {
namespace {

// pg_advisory_lock key of the ETL ("posflow" in ASCII + 2; migrations + 0, reference loads + 1).
constexpr const char* kEtlLockKey = "31650110826786681";

// Session-temporary tables a batch flows through; emptied at every commit or rollback.
constexpr const char* kCreateTempTablesSql = R"sql(
-- ingested_at defaults to now() as in staging: the one-hop batch's receipts get it there.
create temp table if not exists etl_tx (like staging.pos_transaction including defaults)
  on commit delete rows;
create temp table if not exists etl_line (like staging.pos_line including defaults)
  on commit delete rows;
create temp table if not exists etl_fact (
  transaction_id    text not null,
  sale_date         date not null,
  date_key          integer not null,
  time_key          integer not null,
  hour              smallint not null,
  store_id          text not null,
  store_key         bigint not null,
  customer_key      bigint not null,
  payment_type_key  integer not null,
  payment_type      text not null,
  line_count        integer not null,
  item_count        integer not null,
  lines_total       numeric(14,2) not null,
  first_line        integer not null,
  subtotal          numeric(12,2) not null,
  tax               numeric(12,2) not null,
  total             numeric(12,2) not null,
  sold_at           timestamptz not null,
  ingested_at       timestamptz not null
) on commit delete rows;
create temp table if not exists etl_hold_tx (like staging.pos_transaction) on commit delete rows;
create temp table if not exists etl_hold_line (like staging.pos_line including defaults)
  on commit delete rows;
)sql";

// A refused batch's rows wait in etl_hold_* while parts of it are loaded (LoadIsolatingRefusals).
constexpr const char* kHoldBatchSql = R"sql(
insert into etl_hold_tx select * from etl_tx;
insert into etl_hold_line select * from etl_line;
delete from etl_tx;
delete from etl_line;
)sql";
constexpr const char* kTakeHeldReceiptsSql =
    "insert into etl_tx select * from etl_hold_tx where transaction_id = any($1)";
constexpr const char* kTakeHeldLinesSql =
    "insert into etl_line select * from etl_hold_line where transaction_id = any($1)";
constexpr const char* kClearPartSql =
    "delete from etl_tx; delete from etl_line; delete from etl_fact";

// One refused receipt to the quarantine: its staged row (receipt and lines, as JSON) with its
// Kafka coordinates. Again after a crash (a redelivering source) or a replay: the same row.
constexpr const char* kQuarantineSql = R"sql(
insert into ops.dead_letter as d (stage, topic, kafka_partition, kafka_offset, message_key,
                                  payload, reasons, details)
select 'etl', t.topic, t.kafka_partition, t.kafka_offset, null,
       convert_to(jsonb_build_object(
         'transaction', to_jsonb(t),
         'lines', coalesce((select jsonb_agg(to_jsonb(l) order by l.line_number)
                            from etl_hold_line l where l.transaction_id = t.transaction_id),
                           '[]'::jsonb))::text, 'UTF8'),
       array[$2], $3
from etl_hold_tx t where t.transaction_id = any($1)
on conflict (stage, topic, kafka_partition, kafka_offset) do update
set payload = excluded.payload, reasons = excluded.reasons, details = excluded.details,
    first_seen_at = now(), replayed_at = null, replayed_as = null, payload_purged_at = null,
    purged_payload_bytes = null
)sql";

// For redelivering sources: a receipt whose facts exist (same id, same local date) is done.
constexpr const char* kSkipLoadedSql = R"sql(
with skipped as (
  delete from etl_tx t using dw.fact_transaction f
  where f.transaction_id = t.transaction_id and f.sale_date = t.transaction_time::date
  returning t.transaction_id)
delete from etl_line l using skipped s where l.transaction_id = s.transaction_id
)sql";

// For sources outside PostgreSQL (MongoDB): a staged document whose ingest batch never
// committed (its id is not in ops.transaction_seen) is not loaded; its message is consumed again.
constexpr const char* kSkipUncommittedSql = R"sql(
with uncommitted as (
  delete from etl_tx t
  where not exists (select 1 from ops.transaction_seen s where s.transaction_id = t.transaction_id)
  returning t.transaction_id)
delete from etl_line l using uncommitted u where l.transaction_id = u.transaction_id
)sql";

// A line that names only its item: the product of that name (current version first), else the
// inferred product "item:<name>".
constexpr const char* kResolveItemOnlyLinesSql = R"sql(
update etl_line l
set product_id = coalesce(
  (select p.product_id from dw.dim_product p where p.name = l.item
   order by p.is_current desc, p.valid_from desc limit 1),
  'item:' || l.item)
where l.product_id is null
)sql";

// Inferred members. Loaders that run concurrently (one-hop consumers, an ETL beside them) may
// infer the same new member at once: each statement inserts in key order (so two never wait on
// each other crosswise) and `on conflict do nothing` makes the later one wait for the earlier
// one's commit and then use its row.
constexpr const char* kInferStoresSql = R"sql(
insert into dw.dim_store (store_id, name, address, city, province, postal_code, time_zone,
                          valid_from, valid_to, is_current, is_inferred)
select distinct on (t.store_id)
       t.store_id, coalesce(t.store_name, 'Unknown store ' || t.store_id),
       coalesce(t.store_address, ''), coalesce(t.store_city, ''), coalesce(t.store_province, ''),
       coalesce(t.store_postal_code, ''),
       coalesce((select s.time_zone from dw.dim_store s
                 where s.province = t.store_province and s.is_current and not s.is_inferred
                 order by s.store_id limit 1), 'UTC'),
       '-infinity', null, true, true
from etl_tx t
where not exists (select 1 from dw.dim_store s where s.store_id = t.store_id)
order by t.store_id, t.transaction_time
on conflict do nothing
)sql";

constexpr const char* kInferPaymentTypesSql = R"sql(
insert into dw.dim_payment_type (name, is_inferred)
select distinct t.payment_type, true from etl_tx t
where not exists (select 1 from dw.dim_payment_type p where p.name = t.payment_type)
order by 1
on conflict do nothing
)sql";

constexpr const char* kInferCustomersSql = R"sql(
insert into dw.dim_customer (customer_id, first_name, last_name, email, street, city, province,
                             postal_code, is_inferred)
select distinct on (t.customer_id)
       t.customer_id, coalesce(t.customer_first_name, ''), coalesce(t.customer_last_name, ''),
       t.customer_email, t.customer_street, t.customer_city, t.customer_province,
       t.customer_postal_code, true
from etl_tx t
where t.customer_id is not null
  and not exists (select 1 from dw.dim_customer c where c.customer_id = t.customer_id)
order by t.customer_id, t.transaction_time
on conflict do nothing
)sql";

constexpr const char* kInferProductsSql = R"sql(
insert into dw.dim_product (product_id, name, category, unit_price, valid_from, valid_to,
                            is_current, is_inferred)
select distinct on (l.product_id) l.product_id, l.item, 'Unknown', l.unit_price,
       '-infinity', null, true, true
from etl_line l
where not exists (select 1 from dw.dim_product p where p.product_id = l.product_id)
order by l.product_id, l.transaction_id, l.line_number
on conflict do nothing
)sql";

// Monthly partitions for the batch's sale months that have none yet. Creating one is serialised
// between concurrent loaders (kPartitionLockSql, held to the commit); a loader that raced
// another to a partition anyway fails with 42P07 or 23505 and redoes its batch (LoadBatch).
constexpr const char* kMissingPartitionsSql = R"sql(
select count(*)
from (select distinct date_trunc('month', transaction_time)::date as m from etl_tx offset 0) months
where to_regclass(format('dw.fact_transaction_y%sm%s', to_char(m, 'YYYY'), to_char(m, 'MM'))) is null
   or to_regclass(format('dw.fact_sales_line_y%sm%s', to_char(m, 'YYYY'), to_char(m, 'MM'))) is null
)sql";
// pg_advisory_xact_lock key of partition creation ("posflow" in ASCII + 3).
constexpr const char* kPartitionLockSql = "select pg_advisory_xact_lock(31650110826786682)";
constexpr const char* kEnsurePartitionsSql = R"sql(
select coalesce(sum(dw.ensure_month_partitions(m, m)), 0)
from (select distinct date_trunc('month', transaction_time)::date as m from etl_tx
      offset 0) months  -- a fence: the test below runs per month, not per row
where to_regclass(format('dw.fact_transaction_y%sm%s', to_char(m, 'YYYY'), to_char(m, 'MM'))) is null
   or to_regclass(format('dw.fact_sales_line_y%sm%s', to_char(m, 'YYYY'), to_char(m, 'MM'))) is null
)sql";

// One row per receipt with its keys resolved: the store's current time zone gives the instant,
// the instant gives the store version.
constexpr const char* kResolveFactsSql = R"sql(
insert into etl_fact
select t.transaction_id, t.transaction_time::date,
       (extract(year from t.transaction_time) * 10000 + extract(month from t.transaction_time) * 100
        + extract(day from t.transaction_time))::integer,
       (extract(hour from t.transaction_time) * 100 + extract(minute from t.transaction_time))::integer,
       extract(hour from t.transaction_time)::smallint,
       t.store_id, version.store_key, coalesce(c.customer_key, 0), pt.payment_type_key,
       t.payment_type, t.line_count, items.quantity, items.line_total, items.first_line,
       t.subtotal, t.tax, t.total, instant.sold_at, t.ingested_at
from etl_tx t
join dw.dim_store cs on cs.store_id = t.store_id and cs.is_current
cross join lateral (
  select case when t.utc_offset_minutes is null then t.transaction_time at time zone cs.time_zone
              else (t.transaction_time - make_interval(mins => t.utc_offset_minutes::integer))
                   at time zone 'UTC' end as sold_at) instant
join dw.dim_store version
  on version.store_id = t.store_id and version.valid_from <= instant.sold_at
 and (version.valid_to is null or instant.sold_at < version.valid_to)
join dw.dim_payment_type pt on pt.name = t.payment_type
left join dw.dim_customer c on c.customer_id = t.customer_id
join (select transaction_id, sum(quantity)::integer as quantity, sum(line_total) as line_total,
             min(line_number) as first_line
      from etl_line group by 1) items
  on items.transaction_id = t.transaction_id
)sql";

constexpr const char* kInsertTransactionFactsSql = R"sql(
insert into dw.fact_transaction (transaction_id, sale_date, date_key, time_key, store_key,
                                 customer_key, payment_type_key, line_count, item_count, subtotal,
                                 tax, total, sold_at)
select transaction_id, sale_date, date_key, time_key, store_key, customer_key, payment_type_key,
       line_count, item_count, subtotal, tax, total, sold_at
from etl_fact
)sql";

// tax_share by cumulative rounding: line i gets round(tax * C_i / T) - round(tax * C_(i-1) / T)
// where C is the running Σ line_total (staged by ingest: running_line_total) and T the receipt's
// Σ line_total, so the shares telescope to exactly the tax. A receipt whose lines add up to zero
// puts its tax on its first line.
constexpr const char* kInsertLineFactsSql = R"sql(
insert into dw.fact_sales_line (transaction_id, line_number, sale_date, date_key, time_key,
                                store_key, customer_key, payment_type_key, product_key, quantity,
                                unit_price, line_total, tax_share, sold_at)
select l.transaction_id, l.line_number, f.sale_date, f.date_key, f.time_key, f.store_key,
       f.customer_key, f.payment_type_key, version.product_key, l.quantity, l.unit_price,
       l.line_total,
       case when f.lines_total = 0 then case when l.line_number = f.first_line then f.tax else 0 end
            else round(f.tax * l.running_line_total / f.lines_total, 2)
                 - round(f.tax * (l.running_line_total - l.line_total) / f.lines_total, 2) end,
       f.sold_at
from etl_line l
join etl_fact f on f.transaction_id = l.transaction_id
join dw.dim_product version
  on version.product_id = l.product_id and version.valid_from <= f.sold_at
 and (version.valid_to is null or f.sold_at < version.valid_to)
)sql";

constexpr const char* kUpdateAggregatesSql = R"sql(
insert into dw.agg_daily_store_sales as a (date_key, store_id, transactions, items, subtotal, tax, total)
select date_key, store_id, count(*), sum(item_count), sum(subtotal), sum(tax), sum(total)
from etl_fact group by date_key, store_id order by date_key, store_id
on conflict (date_key, store_id) do update
set transactions = a.transactions + excluded.transactions, items = a.items + excluded.items,
    subtotal = a.subtotal + excluded.subtotal, tax = a.tax + excluded.tax,
    total = a.total + excluded.total;

insert into dw.agg_daily_product_sales as a (date_key, store_id, product_id, quantity, revenue)
select f.date_key, f.store_id, l.product_id, sum(l.quantity), sum(l.line_total)
from etl_line l join etl_fact f on f.transaction_id = l.transaction_id
group by f.date_key, f.store_id, l.product_id order by f.date_key, f.store_id, l.product_id
on conflict (date_key, store_id, product_id) do update
set quantity = a.quantity + excluded.quantity, revenue = a.revenue + excluded.revenue;

insert into dw.agg_hourly_store_sales as a (date_key, hour, store_id, transactions, items, total)
select date_key, hour, store_id, count(*), sum(item_count), sum(total)
from etl_fact group by date_key, hour, store_id order by date_key, hour, store_id
on conflict (date_key, hour, store_id) do update
set transactions = a.transactions + excluded.transactions, items = a.items + excluded.items,
    total = a.total + excluded.total;

insert into dw.agg_daily_payment_sales as a (date_key, store_id, payment_type, transactions, total)
select date_key, store_id, payment_type, count(*), sum(total)
from etl_fact group by date_key, store_id, payment_type order by date_key, store_id, payment_type
on conflict (date_key, store_id, payment_type) do update
set transactions = a.transactions + excluded.transactions, total = a.total + excluded.total;
)sql";

// On-hand per store and product, rows locked in (store, product) order so that concurrent
// writers (inventory restock/adjust) never deadlock with the ETL. The sale and return
// movements are the line facts themselves (the view inventory.movement).
constexpr const char* kUpdateInventorySql = R"sql(
insert into inventory.on_hand as o (store_id, product_id, quantity, reorder_point)
select f.store_id, l.product_id, -sum(l.quantity), 0
from etl_line l join etl_fact f on f.transaction_id = l.transaction_id
group by f.store_id, l.product_id order by f.store_id, l.product_id
on conflict (store_id, product_id) do update
set quantity = o.quantity + excluded.quantity, updated_at = now();
)sql";

constexpr const char* kAdvanceWatermarkSql = R"sql(
insert into ops.etl_watermark as w (pipeline, loaded_transactions, last_ingested_at)
select $1, count(*), max(ingested_at) from etl_fact
on conflict (pipeline) do update
set loaded_transactions = w.loaded_transactions + excluded.loaded_transactions,
    last_ingested_at = greatest(w.last_ingested_at, excluded.last_ingested_at),
    updated_at = now()
)sql";


}  // namespace

WarehouseLoader::WarehouseLoader(pg::Connection& connection, LoadOptions options)
    : connection_(connection), options_(std::move(options)) {}

Status WarehouseLoader::Prepare() {
  // Room for a batch's temp tables in memory (must be set before the session's first temp
  // table is touched): 64 MiB holds a 50 000-receipt batch.
  Status status = connection_.Execute("set temp_buffers = '64MB'");
  if (status.ok()) status = connection_.Execute(kCreateTempTablesSql);
  if (!status.ok()) return status.WithContext("preparing the ETL's temporary tables");
  return Status::Ok();
}

Result<WarehouseLoader::BatchCounts> WarehouseLoader::CountBatch() {
  auto rows = connection_.Query(
      "select count(*), coalesce(sum(line_count), 0), (select count(*) from etl_line) "
      "from etl_tx");
  if (!rows.ok()) return rows.status().WithContext("counting the batch");
  BatchCounts counts;
  for (auto [column, into] : {std::pair{0, &counts.transactions},
                              std::pair{1, &counts.announced_lines}, std::pair{2, &counts.lines}}) {
    auto value = rows->GetInt64(0, column);
    if (!value.ok()) return value.status();
    *into = *value;
  }
  return counts;
}

Result<std::int64_t> WarehouseLoader::Count(const char* sql) {
  auto result = connection_.Query(sql);
  if (!result.ok()) return result.status();
  if (result->rows() != 1 || result->columns() != 1) {
    return Status::Internal("a count query returned no single value");
  }
  return result->GetInt64(0, 0);
}

void WarehouseLoader::Rollback() {
  // On a lost connection there is nothing to roll back: the server has done it.
  (void)connection_.Execute("rollback");
  analyzed_transactions_ = 0;  // an analyse in the batch was rolled back with it
}

Result<BatchLoad> WarehouseLoader::LoadStagedRows(bool skip_loaded) {
  BatchLoad load;
  auto counts = CountBatch();
  if (!counts.ok()) return counts.status();
  if (counts->transactions > 2 * analyzed_transactions_) {
    // A small sample is enough for the planner here and analyses in a quarter of the time
    // (bench/README.md, fix 1).
    Status status = connection_.Execute(
        "set local default_statistics_target = 10; analyze etl_tx; analyze etl_line");
    if (!status.ok()) return status.WithContext("analysing the batch");
    analyzed_transactions_ = counts->transactions;
  }
  if (skip_loaded) {
    const std::int64_t staged = counts->transactions;
    Status status = connection_.Execute(kSkipLoadedSql);
    if (status.ok()) status = connection_.Execute(kSkipUncommittedSql);
    if (!status.ok()) return status.WithContext("skipping receipts already loaded");
    counts = CountBatch();
    if (!counts.ok()) return counts.status();
    load.skipped = staged - counts->transactions;
  }
  if (counts->transactions == 0) return load;

  // The whole batch first, under a savepoint: a refusal caused by some receipts' content rolls
  // back to it, and the batch is loaded again in parts that isolate those receipts.
  Status status = connection_.Execute("savepoint etl_batch");
  if (!status.ok()) return status.WithContext("starting an ETL batch");
  status = LoadTempRows(*counts, &load);
  if (status.ok()) {
    status = connection_.Execute("release savepoint etl_batch");
    if (!status.ok()) return status.WithContext("ending an ETL batch");
    return load;
  }
  if (!IsRefusal(status)) return status;
  spdlog::warn("ETL: a batch of {} receipts was refused ({}); isolating the receipts refused",
               counts->transactions, status.message());
  status = connection_.Execute("rollback to savepoint etl_batch; release savepoint etl_batch");
  if (!status.ok()) return status.WithContext("rolling back a refused ETL batch");
  BatchLoad isolated;
  isolated.skipped = load.skipped;
  status = LoadIsolatingRefusals(&isolated);
  if (!status.ok()) return status;
  return isolated;
}

bool WarehouseLoader::IsRefusal(const Status& status) const {
  if (status.code() == Status::Code::kCorruption) return true;  // receipts that did not resolve
  return status.code() == Status::Code::kFailedPrecondition &&
         pg::IsDataDependentSqlState(connection_.last_sqlstate()) &&
         !IsConflict(connection_.last_sqlstate());
}

bool WarehouseLoader::IsConflict(const std::string& sqlstate) {
  // 23505: a unique key another loader wrote meanwhile (a month partition's catalog rows);
  // 42P07: a partition it created meanwhile; 40P01 / 40001: deadlock, serialization failure.
  return sqlstate == "23505" || sqlstate == "42P07" || sqlstate == "40P01" || sqlstate == "40001";
}

Result<BatchLoad> WarehouseLoader::LoadBatch(BatchSource& source) {
  constexpr int kAttempts = 5;
  for (int attempt = 1;; ++attempt) {
    auto load = TryLoadBatch(source);
    if (load.ok() || attempt == kAttempts || !IsConflict(connection_.last_sqlstate())) return load;
    spdlog::info("warehouse: a concurrent loader conflicted with this batch ({}); loading it again",
                 load.status().message());
  }
}

Result<BatchLoad> WarehouseLoader::TryLoadBatch(BatchSource& source) {
  connection_.set_last_sqlstate("");
  Status status = connection_.Execute("begin");
  if (!status.ok()) return status.WithContext("starting a warehouse batch");
  auto fail = [this, &source](const Status& failure) -> Result<BatchLoad> {
    const std::string sqlstate = connection_.last_sqlstate();
    Rollback();
    connection_.set_last_sqlstate(sqlstate);
    source.RolledBack();
    return failure;
  };
  auto fill = source.Fill(connection_, options_.batch_max_transactions);
  if (!fill.ok()) return fail(fill.status());
  watermark_ = fill->watermark.empty() ? options_.pipeline : fill->watermark;
  BatchLoad load;
  if (fill->transactions > 0) {
    auto loaded = LoadStagedRows(fill->may_repeat);
    if (!loaded.ok()) return fail(loaded.status());
    load = std::move(*loaded);
  }
  load.quarantined += static_cast<std::int64_t>(fill->quarantine_reasons.size());
  load.quarantine_reasons.insert(load.quarantine_reasons.end(), fill->quarantine_reasons.begin(),
                                 fill->quarantine_reasons.end());
  load.more = fill->more;
  status = source.BeforeCommit(connection_, &load);
  if (!status.ok()) return fail(status);
  status = connection_.Execute("commit");
  if (!status.ok()) return fail(status.WithContext("committing a warehouse batch"));
  source.Committed();
  return load;
}

Status WarehouseLoader::LoadIsolatingRefusals(BatchLoad* load) {
  auto ids = connection_.Query("select transaction_id from etl_tx order by transaction_id");
  if (!ids.ok()) return ids.status().WithContext("listing a refused batch's receipts");
  std::vector<std::string> receipt_ids;
  receipt_ids.reserve(static_cast<std::size_t>(ids->rows()));
  for (int row = 0; row < ids->rows(); ++row) receipt_ids.emplace_back(ids->Get(row, 0));
  Status status = connection_.Execute(kHoldBatchSql);
  if (!status.ok()) return status.WithContext("holding a refused batch");
  return LoadPart(receipt_ids, 0, receipt_ids.size(), load);
}

Status WarehouseLoader::LoadPart(const std::vector<std::string>& ids, std::size_t begin,
                                 std::size_t end, BatchLoad* load) {
  const std::vector<std::string_view> part(ids.begin() + static_cast<std::ptrdiff_t>(begin),
                                           ids.begin() + static_cast<std::ptrdiff_t>(end));
  for (const char* take : {kTakeHeldReceiptsSql, kTakeHeldLinesSql}) {
    auto taken = connection_.QueryWithTextArray(take, part);
    if (!taken.ok()) return taken.status().WithContext("taking part of a refused batch");
  }
  Status status = connection_.Execute("savepoint etl_part");
  if (!status.ok()) return status.WithContext("loading part of a refused batch");
  BatchLoad part_load;
  auto counts = CountBatch();
  status = counts.ok() ? LoadTempRows(*counts, &part_load) : counts.status();
  if (status.ok()) {
    status = connection_.Execute("release savepoint etl_part");
    if (status.ok()) status = connection_.Execute(kClearPartSql);
    if (!status.ok()) return status.WithContext("loading part of a refused batch");
    load->transactions += part_load.transactions;
    load->lines += part_load.lines;
    load->inferred_members += part_load.inferred_members;
    load->partitions_created += part_load.partitions_created;
    load->sale_to_load_seconds.insert(load->sale_to_load_seconds.end(),
                                      part_load.sale_to_load_seconds.begin(),
                                      part_load.sale_to_load_seconds.end());
    return Status::Ok();
  }
  if (!IsRefusal(status)) return status;
  const std::string reason =
      "etl.refused:" + (status.code() == Status::Code::kCorruption
                            ? std::string("unresolved")
                            : connection_.last_sqlstate());
  Status cleared = connection_.Execute("rollback to savepoint etl_part; release savepoint etl_part");
  if (cleared.ok()) cleared = connection_.Execute(kClearPartSql);
  if (!cleared.ok()) return cleared.WithContext("rolling back part of a refused batch");
  if (end - begin > 1) {
    const std::size_t middle = begin + (end - begin) / 2;
    status = LoadPart(ids, begin, middle, load);
    if (!status.ok()) return status;
    return LoadPart(ids, middle, end, load);
  }
  const std::string details = StorableText(status.message(), 1000);
  spdlog::warn("ETL: quarantined receipt {} ({}): {}", LoggableText(ids[begin], 80), reason,
               details);
  auto quarantined = connection_.QueryWithTextArray(kQuarantineSql, part, {reason, details});
  if (!quarantined.ok()) return quarantined.status().WithContext("quarantining a refused receipt");
  ++load->quarantined;
  load->quarantine_reasons.push_back(reason);
  return Status::Ok();
}

Status WarehouseLoader::LoadTempRows(const BatchCounts& batch, BatchLoad* load) {
  if (batch.announced_lines != batch.lines) {
    return Status::Corruption(
        "ETL: the batch's " + std::to_string(batch.transactions) + " receipts have " +
        std::to_string(batch.announced_lines) + " lines but " + std::to_string(batch.lines) +
        " staged lines came with them (a line's ingested_at must equal its receipt's)");
  }

  auto resolved = connection_.Query(kResolveItemOnlyLinesSql);
  if (!resolved.ok()) return resolved.status().WithContext("resolving item-only lines");
  for (const char* infer :
       {kInferStoresSql, kInferPaymentTypesSql, kInferCustomersSql, kInferProductsSql}) {
    auto inferred = connection_.Query(infer);
    if (!inferred.ok()) return inferred.status().WithContext("inferring dimension members");
    load->inferred_members += inferred->AffectedRows();
  }
  auto missing = Count(kMissingPartitionsSql);
  if (!missing.ok()) return missing.status().WithContext("looking for missing month partitions");
  if (*missing > 0) {
    auto locked = connection_.Query(kPartitionLockSql);
    if (!locked.ok()) return locked.status().WithContext("waiting to create month partitions");
    auto partitions = Count(kEnsurePartitionsSql);
    if (!partitions.ok()) return partitions.status().WithContext("creating month partitions");
    load->partitions_created += *partitions;
  }

  auto facts = connection_.Query(kResolveFactsSql);
  if (!facts.ok()) return facts.status().WithContext("resolving the receipts' keys");
  if (facts->AffectedRows() != batch.transactions) {
    return Status::Corruption("ETL: " + std::to_string(batch.transactions) + " receipts but only " +
                              std::to_string(facts->AffectedRows()) +
                              " resolved their store/payment keys or lines");
  }
  auto transaction_facts = connection_.Query(kInsertTransactionFactsSql);
  if (!transaction_facts.ok()) {
    return transaction_facts.status().WithContext("writing dw.fact_transaction");
  }
  auto line_facts = connection_.Query(kInsertLineFactsSql);
  if (!line_facts.ok()) return line_facts.status().WithContext("writing dw.fact_sales_line");
  if (line_facts->AffectedRows() != batch.lines) {
    return Status::Corruption("ETL: " + std::to_string(batch.lines) + " lines but only " +
                              std::to_string(line_facts->AffectedRows()) +
                              " resolved a product version");
  }
  Status status = connection_.Execute(kUpdateAggregatesSql);
  if (!status.ok()) return status.WithContext("updating the aggregates");
  status = connection_.Execute(kUpdateInventorySql);
  if (!status.ok()) return status.WithContext("updating the inventory");
  auto watermark = connection_.Query(kAdvanceWatermarkSql, {watermark_});
  if (!watermark.ok()) return watermark.status().WithContext("advancing the ETL watermark");
  auto ages = connection_.Query(
      "select extract(epoch from clock_timestamp() - sold_at)::float8 from etl_fact");
  if (!ages.ok()) return ages.status().WithContext("reading the batch's sale instants");
  load->sale_to_load_seconds.reserve(static_cast<std::size_t>(ages->rows()));
  for (int row = 0; row < ages->rows(); ++row) {
    auto age = ages->GetDouble(row, 0);
    if (!age.ok()) return age.status().WithContext("reading the batch's sale instants");
    load->sale_to_load_seconds.push_back(*age);
  }
  load->transactions = batch.transactions;
  load->lines = batch.lines;
  return Status::Ok();
}

Status AcquireEtlLock(pg::Connection& connection) {
  return pg::TryAdvisoryLock(connection, kEtlLockKey, "ETL", "ETL lock");
}

Status ReleaseEtlLock(pg::Connection& connection) {
  auto released =
      connection.Query(std::string("select pg_advisory_unlock(") + kEtlLockKey + ")");
  if (!released.ok()) return released.status().WithContext("releasing the ETL lock");
  return Status::Ok();
}

}  // namespace posflow::warehouse
