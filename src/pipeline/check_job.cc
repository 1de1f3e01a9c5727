#include "pipeline/check_job.h"

#include <fmt/format.h>

#include <map>
#include <memory>
#include <optional>
#include <set>
#include <utility>

#include "kafka/consumer.h"
#include "pg/connection.h"
#include "sim/manifest.h"
#include "staging/staging_factory.h"

namespace posflow::pipeline {
namespace {

// Every offset a message can leave a trace at: first staged, duplicate, or dead letter (a
// replayed dead letter is also "seen" at the same offset; the union counts it once).
constexpr const char* kOffsetsSql = R"sql(
with recorded as (
  select topic, kafka_partition, kafka_offset from ops.transaction_seen
  union select topic, kafka_partition, kafka_offset from ops.duplicate_message
  union select topic, kafka_partition, kafka_offset from ops.dead_letter
        where kafka_partition >= 0),  -- < 0: a MongoDB staging document with no Kafka source
per_partition as (
  select topic, kafka_partition, count(*) as messages, min(kafka_offset) as first_offset,
         max(kafka_offset) as last_offset
  from recorded group by topic, kafka_partition),
stored as (
  select topic, kafka_partition, max(next_offset) as next_offset
  from ops.kafka_offsets group by topic, kafka_partition)
select coalesce(s.topic, p.topic), coalesce(s.kafka_partition, p.kafka_partition),
       coalesce(s.next_offset, -1), coalesce(p.messages, 0), coalesce(p.first_offset, -1),
       coalesce(p.last_offset, -1)
from stored s full join per_partition p using (topic, kafka_partition)
order by 1, 2
)sql";

constexpr const char* kStagingSql = R"sql(
select (select count(*) from ops.transaction_seen),
       (select count(*) from staging.pos_transaction),
       (select count(*) from dw.fact_transaction),
       (select coalesce(sum(loaded_transactions), 0) from ops.etl_watermark),
       (select count(*) from staging.pos_transaction t
        where t.line_count <> (select count(*) from staging.pos_line l
                               where l.transaction_id = t.transaction_id)),
       (select count(*) from staging.pos_line l
        where not exists (select 1 from staging.pos_transaction t
                          where t.transaction_id = l.transaction_id)),
       (select count(*) from ops.dead_letter
        where stage = 'etl' and replayed_at is null and kafka_partition >= 0)
)sql";

constexpr const char* kFactsSql = R"sql(
select (select count(*) from dw.fact_transaction),
       (select count(*) from dw.fact_sales_line),
       (select coalesce(sum(total), 0) from dw.fact_transaction),
       (select count(*) - count(distinct transaction_id) from dw.fact_transaction),
       (select count(*)
        from dw.fact_transaction f
        full join (select transaction_id, sale_date, count(*) as lines, sum(quantity) as quantity,
                          sum(tax_share) as tax, count(distinct line_number) as distinct_lines
                   from dw.fact_sales_line group by transaction_id, sale_date) l
          using (transaction_id, sale_date)
        -- distinct_lines: no index keeps a line fact unique (migration 010); this does
        where l.lines is distinct from f.line_count or l.distinct_lines is distinct from f.line_count
           or l.quantity is distinct from f.item_count or l.tax is distinct from f.tax)
)sql";

// Keys of each aggregate whose figures differ from the same sums over the facts.
constexpr const char* kAggregatesSql = R"sql(
select
 (select count(*)
  from (select f.date_key, s.store_id, count(*) as transactions, sum(f.item_count) as items,
               sum(f.subtotal) as subtotal, sum(f.tax) as tax, sum(f.total) as total
        from dw.fact_transaction f join dw.dim_store s on s.store_key = f.store_key
        group by 1, 2) x
  full join dw.agg_daily_store_sales a using (date_key, store_id)
  where x.transactions is distinct from a.transactions or x.items is distinct from a.items
     or x.subtotal is distinct from a.subtotal or x.tax is distinct from a.tax
     or x.total is distinct from a.total),
 (select count(*)
  from (select l.date_key, s.store_id, p.product_id, sum(l.quantity) as quantity,
               sum(l.line_total) as revenue
        from dw.fact_sales_line l join dw.dim_store s on s.store_key = l.store_key
        join dw.dim_product p on p.product_key = l.product_key
        group by 1, 2, 3) x
  full join dw.agg_daily_product_sales a using (date_key, store_id, product_id)
  where x.quantity is distinct from a.quantity or x.revenue is distinct from a.revenue),
 (select count(*)
  from (select f.date_key, (f.time_key / 100)::smallint as hour, s.store_id,
               count(*) as transactions, sum(f.item_count) as items, sum(f.total) as total
        from dw.fact_transaction f join dw.dim_store s on s.store_key = f.store_key
        group by 1, 2, 3) x
  full join dw.agg_hourly_store_sales a using (date_key, hour, store_id)
  where x.transactions is distinct from a.transactions or x.items is distinct from a.items
     or x.total is distinct from a.total),
 (select count(*)
  from (select f.date_key, s.store_id, pt.name as payment_type, count(*) as transactions,
               sum(f.total) as total
        from dw.fact_transaction f join dw.dim_store s on s.store_key = f.store_key
        join dw.dim_payment_type pt on pt.payment_type_key = f.payment_type_key
        group by 1, 2, 3) x
  full join dw.agg_daily_payment_sales a using (date_key, store_id, payment_type)
  where x.transactions is distinct from a.transactions or x.total is distinct from a.total)
)sql";

// inventory.movement is the recorded movements plus one sale or return per line fact, so
// on-hand = Σ movements also says that on-hand moved by exactly the units sold in the facts.
constexpr const char* kInventorySql = R"sql(
select
 (select count(*) from inventory.on_hand),
 (select count(*)
  from inventory.on_hand o
  full join (select store_id, product_id, sum(quantity_change) as quantity
             from inventory.movement group by 1, 2) m using (store_id, product_id)
  where o.quantity is distinct from m.quantity),
 (select count(*) from inventory.on_hand where quantity < 0)
)sql";

// Dead letters are "refused" when the validator passed the message and PostgreSQL refused it
// (db.refused at ingest, any ETL dead letter): a producer's manifest counts those as valid.
constexpr const char* kManifestSql = R"sql(
with letters as (
  select replayed_at is not null as replayed,
         (stage = 'etl' or exists (select 1 from unnest(reasons) r where r like 'db.refused:%'))
           as refused
  from ops.dead_letter
  where kafka_partition >= 0)  -- < 0: a MongoDB staging document with no Kafka source
select (select count(*) from dw.fact_transaction) + (select count(*) from staging.pos_transaction),
       (((select coalesce(sum(total), 0) from dw.fact_transaction)
        + (select coalesce(sum(total), 0) from staging.pos_transaction)) * 100)::bigint,
       (select coalesce(sum(line_count), 0) from dw.fact_transaction)
        + (select count(*) from staging.pos_line),
       (select count(*) from ops.duplicate_message),
       (select count(*) from letters where not refused),
       (select count(*) from letters where not refused and replayed),
       (select count(*) from letters where refused and not replayed)
)sql";

// The dead letters of messages the validator refused, by reason: what a producer's manifest
// counts as bad.
constexpr const char* kDeadByCodeSql = R"sql(
select code, count(*) from ops.dead_letter d, unnest(d.reasons) as code
where not (d.stage = 'etl' or exists (select 1 from unnest(d.reasons) r where r like 'db.refused:%'))
  and d.kafka_partition >= 0
group by code
)sql";

constexpr const char* kQuantityByStoreProductSql = R"sql(
select store_id, product_id, sum(quantity) from (
  select s.store_id, p.product_id, l.quantity
  from dw.fact_sales_line l join dw.dim_store s on s.store_key = l.store_key
  join dw.dim_product p on p.product_key = l.product_key
  union all
  select t.store_id, coalesce(l.product_id, 'item:' || l.item), l.quantity
  from staging.pos_line l join staging.pos_transaction t using (transaction_id)) sold
group by 1, 2
)sql";

std::int64_t Number(const pg::QueryResult& rows, int row, int column) {
  if (rows.IsNull(row, column)) return 0;
  return std::stoll(std::string(rows.Get(row, column)));
}

// A no-op listener: the check's consumer never joins a group, it only asks for watermarks.
class NoRebalance : public kafka::RebalanceListener {
 public:
  void OnAssign(std::vector<kafka::TopicPartitionOffset>*) override {}
  void OnRevoke(const std::vector<kafka::TopicPartitionOffset>&, bool) override {}
};

// What staging outside PostgreSQL (MongoDB) holds and the warehouse does not (yet).
struct PendingElsewhere {
  std::int64_t transactions = 0;
  std::int64_t total_cents = 0;
  std::int64_t lines = 0;
  std::map<std::string, std::map<std::string, std::int64_t>> quantity;
};

class Checker {
 public:
  Checker(const Config& config, const CheckOptions& options, pg::Connection& connection,
          std::optional<std::vector<staging::StagedReceiptFigures>> staged_elsewhere)
      : config_(config), options_(options), connection_(connection),
        staged_elsewhere_(std::move(staged_elsewhere)) {}

  Result<CheckReport> Run() {
    // One snapshot for every figure: a check while ingest and the ETL run sees a consistent
    // state, never a batch half counted.
    Status status = connection_.Execute("begin isolation level repeatable read read only");
    if (!status.ok()) return status;
    if (staged_elsewhere_) {
      status = CountPendingElsewhere();
      if (!status.ok()) return status;
    }
    for (auto step : {&Checker::CheckOffsets, &Checker::CheckStaging, &Checker::CheckFacts,
                      &Checker::CheckAggregates, &Checker::CheckInventory}) {
      status = (this->*step)();
      if (!status.ok()) return status;
    }
    if (!options_.manifest_paths.empty()) {
      status = CheckManifests();
      if (!status.ok()) return status;
    }
    (void)connection_.Execute("commit");
    return report_;
  }

 private:
  // Receipts staged outside PostgreSQL may be loaded already (a segment is dropped only once
  // all of it is loaded): only those whose receipt is not in the facts are pending.
  Status CountPendingElsewhere() {
    std::vector<std::string_view> ids;
    ids.reserve(staged_elsewhere_->size());
    for (const auto& document : *staged_elsewhere_) ids.push_back(document.transaction_id);
    // Pending: committed by ingest (in ops.transaction_seen; a document of a batch that rolled
    // back is never loaded) and not in the facts yet.
    auto pending = connection_.QueryWithTextArray(
        "select s.transaction_id from ops.transaction_seen s where s.transaction_id = any($1) "
        "and not exists (select 1 from dw.fact_transaction f "
        "                where f.transaction_id = s.transaction_id)",
        ids);
    if (!pending.ok()) return pending.status().WithContext("check: matching MongoDB staging");
    std::set<std::string> committed_unloaded;
    for (int row = 0; row < pending->rows(); ++row) committed_unloaded.emplace(pending->Get(row, 0));
    pending_.emplace();
    for (const auto& document : *staged_elsewhere_) {
      // A sealed segment and `transactions` may both hold an id (after a rolled-back batch):
      // counted once.
      if (committed_unloaded.erase(document.transaction_id) == 0) continue;
      ++pending_->transactions;
      pending_->total_cents += document.total_cents;
      pending_->lines += static_cast<std::int64_t>(document.lines.size());
      for (const auto& [product, quantity] : document.lines) {
        pending_->quantity[document.store_id][product] += quantity;
      }
    }
    return Status::Ok();
  }

  void Add(std::string name, bool ok, std::string detail) {
    report_.items.push_back({std::move(name), ok, std::move(detail)});
  }

  Result<pg::QueryResult> Query(const char* sql, const char* what) {
    auto rows = connection_.Query(sql);
    if (!rows.ok()) return rows.status().WithContext(std::string("check: reading ") + what);
    return rows;
  }

  Status CheckOffsets() {
    auto rows = Query(kOffsetsSql, "the Kafka offsets");
    if (!rows.ok()) return rows.status();
    std::unique_ptr<kafka::Consumer> consumer;
    NoRebalance no_rebalance;
    std::string kafka_note;
    if (options_.query_kafka && rows->rows() > 0) {
      Config check_config = config_;
      check_config.group = config_.group + ".check";
      auto created = kafka::Consumer::Create(check_config, kafka::ConsumerOptions{}, &no_rebalance);
      if (created.ok()) consumer = std::move(*created);
    }
    bool ok = true;
    std::int64_t messages = 0;
    std::int64_t lag = 0;
    std::string problems;
    for (int row = 0; row < rows->rows(); ++row) {
      const std::string topic(rows->Get(row, 0));
      const auto partition = static_cast<std::int32_t>(Number(*rows, row, 1));
      const std::int64_t next = Number(*rows, row, 2);
      const std::int64_t count = Number(*rows, row, 3);
      const std::int64_t first = Number(*rows, row, 4);
      const std::int64_t last = Number(*rows, row, 5);
      const std::string name = fmt::format("{}[{}]", topic, partition);
      messages += count;
      if (next < 0) {
        ok = false;
        problems += fmt::format("; {}: {} messages recorded but no stored offset", name, count);
        continue;
      }
      if (count == 0) {
        if (next != 0) {
          ok = false;
          problems += fmt::format("; {}: next offset {} but nothing recorded", name, next);
        }
        continue;
      }
      if (last - first + 1 != count) {
        ok = false;
        problems += fmt::format("; {}: {} offsets missing between {} and {}", name,
                                last - first + 1 - count, first, last);
      }
      if (last + 1 != next) {
        ok = false;
        problems += fmt::format("; {}: last recorded offset {} but next offset {}", name, last, next);
      }
      // Records `posflow offsets archive` renamed belong to a topic Kafka no longer has ('~' is
      // not allowed in a topic name).
      if (consumer && topic.find('~') == std::string::npos) {
        std::int64_t low = -1;
        std::int64_t high = -1;
        if (consumer->QueryWatermarks(topic, partition, std::chrono::seconds(5), &low, &high).ok()) {
          lag += std::max<std::int64_t>(0, high - next);
          if (low < first) {
            ok = false;
            problems += fmt::format("; {}: Kafka holds offsets from {} but the first recorded is {}",
                                    name, low, first);
          }
        } else {
          kafka_note = "; Kafka not reachable: lag unknown";
        }
      }
    }
    if (options_.query_kafka && !consumer && rows->rows() > 0) kafka_note = "; Kafka not reachable: lag unknown";
    std::string detail = fmt::format("{} partitions, {} messages accounted for, no gaps",
                                     rows->rows(), messages);
    if (!ok) detail = fmt::format("{} partitions, {} messages recorded", rows->rows(), messages);
    if (consumer && kafka_note.empty()) detail += fmt::format("; lag {}", lag);
    Add("kafka-offsets", ok, detail + problems + kafka_note);
    return Status::Ok();
  }

  Status CheckStaging() {
    auto rows = Query(kStagingSql, "staging");
    if (!rows.ok()) return rows.status();
    const std::int64_t seen = Number(*rows, 0, 0);
    const std::int64_t staged = Number(*rows, 0, 1) + (pending_ ? pending_->transactions : 0);
    const std::int64_t loaded = Number(*rows, 0, 2);
    const std::int64_t watermark = Number(*rows, 0, 3);
    const std::int64_t bad_line_counts = Number(*rows, 0, 4);
    const std::int64_t orphan_lines = Number(*rows, 0, 5);
    const std::int64_t quarantined = Number(*rows, 0, 6);
    const std::int64_t accounted = staged + loaded + quarantined;
    const bool ok = seen == accounted && bad_line_counts == 0 && orphan_lines == 0;
    std::string detail = fmt::format("{} transactions seen = {} staged + {} loaded", seen, staged, loaded);
    if (quarantined > 0) detail += fmt::format(" + {} quarantined by the ETL", quarantined);
    if (seen != accounted) detail += fmt::format(" (differs by {})", seen - accounted);
    if (bad_line_counts > 0) detail += fmt::format("; {} staged receipts with a wrong number of lines", bad_line_counts);
    if (orphan_lines > 0) detail += fmt::format("; {} staged lines without their receipt", orphan_lines);
    Add("staging", ok, detail);
    Add("watermark", watermark == loaded,
        fmt::format("ETL watermark {} loaded, facts hold {}", watermark, loaded));
    return Status::Ok();
  }

  Status CheckFacts() {
    auto rows = Query(kFactsSql, "the facts");
    if (!rows.ok()) return rows.status();
    const std::int64_t twice = Number(*rows, 0, 3);
    const std::int64_t inconsistent = Number(*rows, 0, 4);
    std::string detail = fmt::format("{} receipts, {} lines, total {}", Number(*rows, 0, 0),
                                     Number(*rows, 0, 1), rows->Get(0, 2));
    if (twice > 0) detail += fmt::format("; {} receipts loaded more than once", twice);
    if (inconsistent > 0) {
      detail += fmt::format("; {} receipts whose lines, items or tax shares disagree", inconsistent);
    }
    Add("facts", twice == 0 && inconsistent == 0, detail);
    return Status::Ok();
  }

  Status CheckAggregates() {
    auto rows = Query(kAggregatesSql, "the aggregates");
    if (!rows.ok()) return rows.status();
    static const char* const kNames[] = {"agg_daily_store_sales", "agg_daily_product_sales",
                                         "agg_hourly_store_sales", "agg_daily_payment_sales"};
    bool ok = true;
    std::string detail;
    for (int column = 0; column < 4; ++column) {
      const std::int64_t differing = Number(*rows, 0, column);
      if (differing > 0) {
        ok = false;
        detail += fmt::format("{}{}: {} keys differ from the facts", detail.empty() ? "" : "; ",
                              kNames[column], differing);
      }
    }
    Add("aggregates", ok, ok ? "4 aggregates equal the facts, key by key" : detail);
    return Status::Ok();
  }

  Status CheckInventory() {
    auto rows = Query(kInventorySql, "the inventory");
    if (!rows.ok()) return rows.status();
    const std::int64_t unbalanced = Number(*rows, 0, 1);
    std::string detail = fmt::format("{} store x product rows", Number(*rows, 0, 0));
    if (unbalanced > 0) {
      detail += fmt::format("; {} whose on-hand differs from Σ movements (recorded movements "
                            "minus the units sold in the facts)",
                            unbalanced);
    } else {
      detail += " balance with their movements (recorded movements minus the units sold in the "
                "facts)";
    }
    const std::int64_t oversold = Number(*rows, 0, 2);
    if (oversold > 0) detail += fmt::format(" ({} oversold: see report low-stock)", oversold);
    Add("inventory", unbalanced == 0, detail);
    return Status::Ok();
  }

  Status CheckManifests() {
    sim::Manifest expected;
    for (const std::string& path : options_.manifest_paths) {
      auto manifest = sim::ReadManifest(path);
      if (!manifest.ok()) return manifest.status();
      expected.messages += manifest->messages;
      expected.valid += manifest->valid;
      expected.duplicates += manifest->duplicates;
      expected.bad_total += manifest->bad_total;
      expected.lines += manifest->lines;
      expected.total_cents += manifest->total_cents;
      for (const auto& [code, count] : manifest->bad) expected.bad[code] += count;
      for (const auto& [store, products] : manifest->by_store_product) {
        for (const auto& [product, quantity] : products) {
          expected.by_store_product[store][product] += quantity;
        }
      }
    }
    auto rows = Query(kManifestSql, "the totals");
    if (!rows.ok()) return rows.status();
    const std::int64_t transactions = Number(*rows, 0, 0) + (pending_ ? pending_->transactions : 0);
    const std::int64_t cents = Number(*rows, 0, 1) + (pending_ ? pending_->total_cents : 0);
    const std::int64_t lines = Number(*rows, 0, 2) + (pending_ ? pending_->lines : 0);
    const std::int64_t duplicates = Number(*rows, 0, 3);
    const std::int64_t dead = Number(*rows, 0, 4);
    const std::int64_t replayed = Number(*rows, 0, 5);
    // Valid messages PostgreSQL refused (at ingest or in the ETL) and not replayed since.
    const std::int64_t refused = Number(*rows, 0, 6);
    std::vector<std::string> differences;
    auto compare = [&](const char* what, std::int64_t want, std::int64_t have) {
      if (want != have) differences.push_back(fmt::format("{}: produced {}, found {}", what, want, have));
    };
    // A replayed dead letter was counted bad by the producer and is loaded now.
    compare("valid transactions", expected.valid, transactions + refused - replayed);
    compare("dead letters", expected.bad_total, dead);
    compare("duplicates", expected.duplicates, duplicates);
    // Money, lines and units are compared while every valid transaction is a fact or staged.
    const bool all_loaded = replayed == 0 && refused == 0;
    if (all_loaded) {
      compare("total cents", expected.total_cents, cents);
      compare("lines", expected.lines, lines);
    }
    auto codes = Query(kDeadByCodeSql, "the dead letters");
    if (!codes.ok()) return codes.status();
    std::map<std::string, std::int64_t> dead_by_code;
    for (int row = 0; row < codes->rows(); ++row) {
      dead_by_code[std::string(codes->Get(row, 0))] = Number(*codes, row, 1);
    }
    if (dead_by_code != expected.bad) differences.push_back("dead letters by reason differ");
    if (all_loaded) {
      auto sold = Query(kQuantityByStoreProductSql, "the quantities sold");
      if (!sold.ok()) return sold.status();
      std::map<std::string, std::map<std::string, std::int64_t>> found;
      for (int row = 0; row < sold->rows(); ++row) {
        found[std::string(sold->Get(row, 0))][std::string(sold->Get(row, 1))] += Number(*sold, row, 2);
      }
      if (pending_) {
        for (const auto& [store, products] : pending_->quantity) {
          for (const auto& [product, quantity] : products) found[store][product] += quantity;
        }
      }
      for (auto& [store, products] : found) {
        std::erase_if(products, [](const auto& entry) { return entry.second == 0; });
      }
      std::erase_if(found, [](const auto& entry) { return entry.second.empty(); });
      auto& want = expected.by_store_product;
      for (auto& [store, products] : want) {
        std::erase_if(products, [](const auto& entry) { return entry.second == 0; });
      }
      std::erase_if(want, [](const auto& entry) { return entry.second.empty(); });
      if (found != want) differences.push_back("quantities per store x product differ");
    }
    std::string detail = fmt::format(
        "{} messages produced: {} valid (total {}.{:02}, {} lines), {} dead letters, {} duplicates",
        expected.messages, expected.valid, expected.total_cents / 100, expected.total_cents % 100,
        expected.lines, expected.bad_total, expected.duplicates);
    if (replayed > 0) detail += fmt::format(" ({} dead letters replayed: cents not compared)", replayed);
    if (refused > 0) {
      detail += fmt::format(" ({} valid messages refused by PostgreSQL, quarantined: cents not "
                            "compared)", refused);
    }
    for (const std::string& difference : differences) detail += "; " + difference;
    Add("manifest", differences.empty(), detail);
    return Status::Ok();
  }

  const Config& config_;
  const CheckOptions& options_;
  pg::Connection& connection_;
  // Receipts staged outside PostgreSQL (MongoDB staging); nullopt with PostgreSQL staging.
  std::optional<std::vector<staging::StagedReceiptFigures>> staged_elsewhere_;
  std::optional<PendingElsewhere> pending_;  // with staging outside PostgreSQL
  CheckReport report_;
};

}  // namespace

bool CheckReport::ok() const {
  for (const CheckItem& item : items) {
    if (!item.ok) return false;
  }
  return true;
}

Result<CheckReport> RunCheck(const Config& config, const CheckOptions& options) {
  auto staged_elsewhere = staging::ReadReceiptsStagedOutsidePostgres(config);
  if (!staged_elsewhere.ok()) return staged_elsewhere.status().WithContext("check");
  auto connection = pg::Connection::Open(pg::OptionsFromConfig(config));
  if (!connection.ok()) return connection.status();
  Checker checker(config, options, *connection, std::move(*staged_elsewhere));
  return checker.Run();
}

}  // namespace posflow::pipeline
