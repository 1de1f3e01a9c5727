// The ETL (warehouse/warehouse_loader.h, pipeline/etl_job.h) against the real PostgreSQL of the
// local stack: golden batches with hand-computed facts, dimensions, aggregates and inventory;
// SCD2 versions and late-arriving dimensions; retention; the ETL lock; the check.

#include <gtest/gtest.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "integration/stack_fixture.h"
#include "ops/embedded_migrations.h"
#include "ops/migrator.h"
#include "pg/connection.h"
#include "pipeline/check_job.h"
#include "pipeline/dlq_job.h"
#include "pipeline/etl_job.h"
#include "pipeline/init_job.h"
#include "sim/reference_data.h"
#include "warehouse/reference_loader.h"
#include "warehouse/warehouse_loader.h"

namespace posflow::testing {
namespace {

struct Line {
  std::optional<std::string> product_id;
  std::string item;
  std::string unit_price;
  int quantity;
  std::string line_total;
};

struct Receipt {
  std::string transaction_id;
  std::string local_time;                 // "2026-03-10 14:05:30"
  std::optional<int> utc_offset_minutes;  // nullopt: store-local
  std::string store_id = "S001";
  std::optional<std::string> store_province;
  std::optional<std::string> customer_id;
  std::string payment_type = "Credit Card";
  std::string subtotal, tax, total;
  std::vector<Line> lines;
};

class EtlTest : public StackTest {
 protected:
  void SetUp() override {
    StackTest::SetUp();
    auto report = pipeline::RunInit(config_, {.create_topics = false});
    ASSERT_TRUE(report.ok()) << report.status().ToString();
    auto connection = pg::Connection::Open(pg::OptionsFromConfig(config_));
    ASSERT_TRUE(connection.ok()) << connection.status().ToString();
    connection_.emplace(std::move(connection).value());
  }

  pg::Connection& db() { return *connection_; }

  std::string Scalar(const std::string& sql) {
    auto rows = db().Query(sql);
    EXPECT_TRUE(rows.ok()) << sql << ": " << rows.status().ToString();
    if (!rows.ok() || rows->rows() == 0) return "<no row>";
    return rows->IsNull(0, 0) ? "<null>" : std::string(rows->Get(0, 0));
  }
  // Every row of `sql`, cells joined by '|', rows by '\n'.
  std::string Rows(const std::string& sql) {
    auto rows = db().Query(sql);
    EXPECT_TRUE(rows.ok()) << sql << ": " << rows.status().ToString();
    if (!rows.ok()) return "<error>";
    std::string out;
    for (int row = 0; row < rows->rows(); ++row) {
      for (int column = 0; column < rows->columns(); ++column) {
        if (column > 0) out += '|';
        out += rows->IsNull(row, column) ? "<null>" : std::string(rows->Get(row, column));
      }
      out += '\n';
    }
    return out;
  }
  std::int64_t Count(const std::string& sql) { return std::stoll(Scalar(sql)); }

  static std::string Literal(const std::optional<std::string>& value) {
    if (!value) return "null";
    std::string quoted = "'";
    for (char c : *value) quoted += c == '\'' ? std::string("''") : std::string(1, c);
    return quoted + "'";
  }

  // Stages `receipt` as ingest would (staging rows plus its ops.transaction_seen record).
  void Stage(const Receipt& receipt) {
    static int offset = 0;
    std::string sql =
        "insert into staging.pos_transaction (transaction_id, transaction_time, "
        "utc_offset_minutes, customer_id, customer_first_name, customer_last_name, store_id, "
        "store_name, store_province, line_count, subtotal, tax, total, payment_type, "
        "source_shape, topic, kafka_partition, kafka_offset) values (" +
        Literal(receipt.transaction_id) + ", " + Literal(receipt.local_time) + ", " +
        (receipt.utc_offset_minutes ? std::to_string(*receipt.utc_offset_minutes) : "null") +
        ", " + Literal(receipt.customer_id) + ", " +
        (receipt.customer_id ? "'Zoe', 'Late'" : "null, null") + ", " +
        Literal(receipt.store_id) + ", " + Literal("Store " + receipt.store_id) + ", " +
        Literal(receipt.store_province) + ", " + std::to_string(receipt.lines.size()) + ", " +
        receipt.subtotal + ", " + receipt.tax + ", " + receipt.total + ", " +
        Literal(receipt.payment_type) + ", 'seed', 'Golden', 0, " + std::to_string(offset) +
        ");\n";
    sql += "insert into ops.transaction_seen (transaction_id, topic, kafka_partition, "
           "kafka_offset) values (" +
           Literal(receipt.transaction_id) + ", 'Golden', 0, " + std::to_string(offset) + ");\n";
    sql += "insert into ops.kafka_offsets (consumer_group, topic, kafka_partition, next_offset) "
           "values ('golden', 'Golden', 0, " + std::to_string(offset + 1) +
           ") on conflict (consumer_group, topic, kafka_partition) do update "
           "set next_offset = excluded.next_offset;\n";
    ++offset;
    // The lines as ingest stages them: the receipt's ingested_at (both now() of this one
    // transaction) and the running Σ line_total.
    int number = 1;
    std::string running = "0";
    for (const Line& line : receipt.lines) {
      running += " + " + line.line_total;
      sql += "insert into staging.pos_line (transaction_id, line_number, product_id, item, "
             "unit_price, quantity, line_total, running_line_total) values (" +
             Literal(receipt.transaction_id) + ", " + std::to_string(number++) + ", " +
             Literal(line.product_id) + ", " + Literal(line.item) + ", " + line.unit_price +
             ", " + std::to_string(line.quantity) + ", " + line.line_total + ", " + running +
             ");\n";
    }
    ASSERT_TRUE(db().Execute(sql).ok());
  }

  // `posflow etl --once` in process.
  pipeline::EtlStats Etl(warehouse::LoadOptions load = {}) {
    pipeline::EtlOptions options;
    options.load = load;
    std::atomic<bool> stop{false};
    auto stats = pipeline::RunEtl(config_, options, stop, nullptr);
    EXPECT_TRUE(stats.ok()) << stats.status().ToString();
    return stats.ok() ? *stats : pipeline::EtlStats{};
  }

  void ExpectCheckPasses() {
    pipeline::CheckOptions options;
    options.query_kafka = false;
    auto report = pipeline::RunCheck(config_, options);
    ASSERT_TRUE(report.ok()) << report.status().ToString();
    for (const auto& item : report->items) {
      EXPECT_TRUE(item.ok) << item.name << ": " << item.detail;
    }
  }

  std::int64_t OnHand(const std::string& store, const std::string& product) {
    const std::string value = Scalar("select quantity from inventory.on_hand where store_id = '" +
                                     store + "' and product_id = '" + product + "'");
    return value == "<no row>" ? INT64_MIN : std::stoll(value);
  }

  // The golden stream: three receipts, hand-computed below.
  void StageGolden() {
    // 13 % HST on 14.84 = 1.9292 -> 1.93. Line 3 names only its item (-> P0003).
    Stage({"G1", "2026-03-10 14:05:30", std::nullopt, "S001", std::nullopt, "C00001",
           "Credit Card", "14.84", "1.93", "16.77",
           {{"P0001", "Bananas, per bunch", "1.68", 2, "3.36"},
            {"P0002", "Gala Apples 3 lb Bag", "4.99", 1, "4.99"},
            {std::nullopt, "Navel Oranges 4 lb Bag", "6.49", 1, "6.49"}}});
    // Its own UTC offset; anonymous; a product nobody knows yet and an unknown item returned.
    Stage({"G2", "2026-03-10 14:05:30", 0, "S001", std::nullopt, std::nullopt, "Cash", "1.00",
           "0.13", "1.13",
           {{"P0999", "Dragon Fruit", "3.00", 1, "3.00"},
            {std::nullopt, "Mystery Box", "2.00", -1, "-2.00"}}});
    // An unknown store in Quebec, an unknown customer, an unknown payment type.
    Stage({"G3", "2026-03-11 09:00:00", std::nullopt, "S999", "Quebec", "C99999", "Crypto",
           "1.68", "0.25", "1.93", {{"P0001", "Bananas, per bunch", "1.68", 1, "1.68"}}});
  }

  std::optional<pg::Connection> connection_;
};

TEST_F(EtlTest, GoldenBatchLandsWithHandComputedFactsDimsAggregatesAndInventory) {
  const std::int64_t bananas_s001 = OnHand("S001", "P0001");
  const std::int64_t apples_s001 = OnHand("S001", "P0002");
  StageGolden();
  const pipeline::EtlStats stats = Etl();
  EXPECT_EQ(stats.transactions, 3);
  EXPECT_EQ(stats.lines, 6);
  // S999, Crypto, C99999, P0999 and item:Mystery Box.
  EXPECT_EQ(stats.inferred_members, 5);

  // Receipts: local date and minute, the instant (Toronto is on daylight time from 2026-03-08;
  // G2 carries its own offset), the keys.
  EXPECT_EQ(Rows("select f.transaction_id, f.sale_date, f.date_key, f.time_key, s.store_id, "
                 "coalesce(c.customer_id, 'anonymous'), p.name, f.line_count, f.item_count, "
                 "f.subtotal, f.tax, f.total, to_char(f.sold_at at time zone 'UTC', "
                 "'YYYY-MM-DD HH24:MI:SS') "
                 "from dw.fact_transaction f join dw.dim_store s using (store_key) "
                 "join dw.dim_customer c using (customer_key) "
                 "join dw.dim_payment_type p using (payment_type_key) order by 1"),
            "G1|2026-03-10|20260310|1405|S001|C00001|Credit Card|3|4|14.84|1.93|16.77|2026-03-10 18:05:30\n"
            "G2|2026-03-10|20260310|1405|S001|anonymous|Cash|2|0|1.00|0.13|1.13|2026-03-10 14:05:30\n"
            "G3|2026-03-11|20260311|900|S999|C99999|Crypto|1|1|1.68|0.25|1.93|2026-03-11 13:00:00\n");
  // Lines: the tax split by cumulative rounding (G1: 0.44 + 0.65 + 0.84 = 1.93; G2: 0.39 -
  // 0.26 = 0.13), the item-only line resolved by name, the inferred products.
  EXPECT_EQ(Rows("select l.transaction_id, l.line_number, p.product_id, l.quantity, "
                 "l.unit_price, l.line_total, l.tax_share "
                 "from dw.fact_sales_line l join dw.dim_product p using (product_key) "
                 "order by 1, 2"),
            "G1|1|P0001|2|1.68|3.36|0.44\n"
            "G1|2|P0002|1|4.99|4.99|0.65\n"
            "G1|3|P0003|1|6.49|6.49|0.84\n"
            "G2|1|P0999|1|3.00|3.00|0.39\n"
            "G2|2|item:Mystery Box|-1|2.00|-2.00|-0.26\n"
            "G3|1|P0001|1|1.68|1.68|0.25\n");
  // Inferred members.
  EXPECT_EQ(Rows("select store_id, time_zone, is_inferred, is_current, valid_from from "
                 "dw.dim_store where store_id = 'S999'"),
            "S999|America/Toronto|t|t|-infinity\n");
  EXPECT_EQ(Rows("select product_id, name, category, unit_price, is_inferred from dw.dim_product "
                 "where is_inferred order by 1"),
            "P0999|Dragon Fruit|Unknown|3.00|t\nitem:Mystery Box|Mystery Box|Unknown|2.00|t\n");
  EXPECT_EQ(Rows("select customer_id, first_name, last_name, is_inferred from dw.dim_customer "
                 "where customer_id = 'C99999'"),
            "C99999|Zoe|Late|t\n");
  EXPECT_EQ(Scalar("select is_inferred from dw.dim_payment_type where name = 'Crypto'"), "t");

  // Aggregates.
  EXPECT_EQ(Rows("select date_key, store_id, transactions, items, subtotal, tax, total "
                 "from dw.agg_daily_store_sales order by 1, 2"),
            "20260310|S001|2|4|15.84|2.06|17.90\n20260311|S999|1|1|1.68|0.25|1.93\n");
  EXPECT_EQ(Rows("select date_key, store_id, product_id, quantity, revenue "
                 "from dw.agg_daily_product_sales order by 1, 2, 3"),
            "20260310|S001|P0001|2|3.36\n20260310|S001|P0002|1|4.99\n"
            "20260310|S001|P0003|1|6.49\n20260310|S001|P0999|1|3.00\n"
            "20260310|S001|item:Mystery Box|-1|-2.00\n20260311|S999|P0001|1|1.68\n");
  EXPECT_EQ(Rows("select date_key, hour, store_id, transactions, items, total "
                 "from dw.agg_hourly_store_sales order by 1, 2, 3"),
            "20260310|14|S001|2|4|17.90\n20260311|9|S999|1|1|1.93\n");
  EXPECT_EQ(Rows("select payment_type, transactions, total from dw.agg_daily_payment_sales "
                 "order by 1"),
            "Cash|1|1.13\nCredit Card|1|16.77\nCrypto|1|1.93\n");

  // Inventory: sales decrement, the return increments, unknown pairs get a row (reorder 0).
  EXPECT_EQ(OnHand("S001", "P0001"), bananas_s001 - 2);
  EXPECT_EQ(OnHand("S001", "P0002"), apples_s001 - 1);
  EXPECT_EQ(OnHand("S001", "P0999"), -1);
  EXPECT_EQ(OnHand("S001", "item:Mystery Box"), 1);
  EXPECT_EQ(OnHand("S999", "P0001"), -1);
  EXPECT_EQ(Rows("select kind, count(*), sum(quantity_change) from inventory.movement "
                 "where source_transaction_id is not null group by kind order by kind"),
            "return|1|1\nsale|5|-6\n");

  // Staging emptied, watermark advanced, everything reconciles.
  EXPECT_EQ(Count("select count(*) from staging.pos_transaction"), 0);
  EXPECT_EQ(Count("select count(*) from staging.pos_line"), 0);
  EXPECT_EQ(Scalar("select loaded_transactions from ops.etl_watermark "
                   "where pipeline = 'postgres-staging'"),
            "3");
  ExpectCheckPasses();

  // A second run finds nothing: nothing loads twice.
  EXPECT_EQ(Etl().transactions, 0);
  EXPECT_EQ(Count("select count(*) from dw.fact_transaction"), 3);
}

TEST_F(EtlTest, PriceChangeOpensAVersionAndSalesPointAtTheVersionOfTheirTime) {
  StageGolden();
  ASSERT_EQ(Etl().transactions, 3);

  // The reference data changes: bananas cost more from now on; the late product arrives.
  sim::ReferenceData reference = sim::DefaultReferenceData();
  reference.products[*reference.FindProduct("P0001")].unit_price_cents = 179;
  sim::ProductInfo dragon_fruit;
  dragon_fruit.product_id = "P0999";
  dragon_fruit.name = "Dragon Fruit, each";
  dragon_fruit.category = "Produce";
  dragon_fruit.unit_price_cents = 300;
  dragon_fruit.popularity_rank = static_cast<int>(reference.products.size()) + 1;
  reference.products.push_back(dragon_fruit);
  auto load = warehouse::LoadReferenceData(db(), reference, warehouse::DefaultWarehouseDates());
  ASSERT_TRUE(load.ok()) << load.status().ToString();
  EXPECT_EQ(load->products_versioned, 1);
  EXPECT_EQ(load->products_filled, 1);

  // After the change (a sale dated next month), and before it but loaded after (out of order).
  Stage({"G4", "2027-01-05 10:00:00", std::nullopt, "S001", std::nullopt, std::nullopt, "Cash",
         "1.79", "0.23", "2.02", {{"P0001", "Bananas, per bunch", "1.79", 1, "1.79"}}});
  Stage({"G5", "2026-03-12 10:00:00", std::nullopt, "S001", std::nullopt, std::nullopt, "Cash",
         "4.68", "0.61", "5.29",
         {{"P0001", "Bananas, per bunch", "1.68", 1, "1.68"},
          {"P0999", "Dragon Fruit", "3.00", 1, "3.00"}}});
  ASSERT_EQ(Etl().transactions, 2);

  EXPECT_EQ(Rows("select l.transaction_id, l.line_number, p.product_id, p.unit_price, "
                 "p.is_current, p.valid_from = '-infinity' "
                 "from dw.fact_sales_line l join dw.dim_product p using (product_key) "
                 "where l.transaction_id in ('G1', 'G4', 'G5') and p.product_id in "
                 "('P0001', 'P0999') order by 1, 2"),
            "G1|1|P0001|1.68|f|t\n"
            "G4|1|P0001|1.79|t|f\n"
            "G5|1|P0001|1.68|f|t\n"
            "G5|2|P0999|3.00|t|t\n");
  // The inferred product was filled in place: same key for old and new facts.
  EXPECT_EQ(Rows("select name, category, is_inferred, count(*) over () from dw.dim_product "
                 "where product_id = 'P0999'"),
            "Dragon Fruit, each|Produce|f|1\n");
  // The January sale landed in its own (prepared) month partition.
  EXPECT_EQ(Count("select count(*) from dw.fact_transaction_y2027m01"), 1);
  ExpectCheckPasses();
}

TEST_F(EtlTest, SaleInAMonthWithoutPartitionGetsOneCreated) {
  Stage({"G6", "2035-06-01 12:00:00", std::nullopt, "S001", std::nullopt, std::nullopt, "Cash",
         "1.68", "0.22", "1.90", {{"P0001", "Bananas, per bunch", "1.68", 1, "1.68"}}});
  const pipeline::EtlStats stats = Etl();
  EXPECT_EQ(stats.transactions, 1);
  EXPECT_EQ(Count("select count(*) from dw.fact_transaction_y2035m06"), 1);
  EXPECT_EQ(Count("select count(*) from dw.fact_sales_line_y2035m06"), 1);
  EXPECT_EQ(Count("select count(*) from dw.fact_transaction_default"), 0);
  ExpectCheckPasses();
}

TEST_F(EtlTest, RetentionKeepsLoadedStagingRowsAside) {
  StageGolden();
  warehouse::LoadOptions load;
  load.staging_retention = std::chrono::hours(24);
  EXPECT_EQ(Etl(load).transactions, 3);
  EXPECT_EQ(Count("select count(*) from staging.pos_transaction"), 0);
  EXPECT_EQ(Count("select count(*) from staging.pos_transaction_loaded"), 3);
  EXPECT_EQ(Count("select count(*) from staging.pos_line_loaded"), 6);
  // An ETL without a retention keeps nothing new and leaves the kept rows to `maintain`.
  Stage({"G7", "2026-03-13 12:00:00", std::nullopt, "S001", std::nullopt, std::nullopt, "Cash",
         "1.68", "0.22", "1.90", {{"P0001", "Bananas, per bunch", "1.68", 1, "1.68"}}});
  EXPECT_EQ(Etl().transactions, 1);
  EXPECT_EQ(Count("select count(*) from staging.pos_transaction_loaded"), 3);
  // A retention purges what is older than it: nothing here is older than a day.
  Stage({"G8", "2026-03-13 12:01:00", std::nullopt, "S001", std::nullopt, std::nullopt, "Cash",
         "1.68", "0.22", "1.90", {{"P0001", "Bananas, per bunch", "1.68", 1, "1.68"}}});
  ASSERT_TRUE(db().Execute("update staging.pos_transaction_loaded set loaded_at = now() - "
                           "interval '2 days' where transaction_id = 'G1';"
                           "update staging.pos_line_loaded set loaded_at = now() - "
                           "interval '2 days' where transaction_id = 'G1'")
                  .ok());
  EXPECT_EQ(Etl(load).transactions, 1);
  EXPECT_EQ(Count("select count(*) from staging.pos_transaction_loaded"), 3);  // G2, G3, G8
  EXPECT_EQ(Count("select count(*) from staging.pos_transaction_loaded "
                  "where transaction_id = 'G1'"),
            0);
  EXPECT_EQ(Count("select count(*) from staging.pos_line_loaded where transaction_id = 'G1'"), 0);
  ExpectCheckPasses();
}

// Migration 007 on a database that ingest and the ETL used before it: staged lines get their
// receipt's ingested_at and running totals (so the ETL's range take and tax shares work on
// them), and the stored sale movements leave the table (the view derives them from the facts).
TEST_F(EtlTest, MigrationSevenUpgradesStagedRowsAndStoredSaleMovements) {
  Config old = config_;
  old.db = CreateDatabase();
  auto connection = pg::Connection::Open(pg::OptionsFromConfig(old));
  ASSERT_TRUE(connection.ok()) << connection.status().ToString();
  const auto& all = ops::EmbeddedMigrations();
  std::vector<ops::EmbeddedMigration> before;
  for (const auto& migration : all) {
    if (ops::MigrationVersion(migration.file_name) < 7) before.push_back(migration);
  }
  ASSERT_EQ(before.size(), 6u);
  ASSERT_TRUE(ops::ApplyMigrations(*connection, before).ok());
  // As the old ingest staged them: lines without ingested_at or running totals.
  ASSERT_TRUE(connection
                  ->Execute(R"sql(
insert into staging.pos_transaction (transaction_id, transaction_time, store_id, line_count,
  subtotal, tax, total, payment_type, source_shape, topic, kafka_partition, kafka_offset,
  ingested_at)
values ('U1', '2026-03-10 14:05:30', 'S777', 3, 12.00, 1.56, 13.56, 'Cash', 'seed', 'Old', 0, 0,
        '2026-03-10 19:06:00+00');
insert into staging.pos_line values
  ('U1', 1, 'P0001', 'Coffee', 10.00, 1, 10.00),
  ('U1', 2, 'P0002', 'Milk', 5.00, 1, 5.00),
  ('U1', 3, 'P0003', 'Bread', 3.00, -1, -3.00);
insert into ops.transaction_seen (transaction_id, topic, kafka_partition, kafka_offset)
values ('U1', 'Old', 0, 0);
insert into inventory.on_hand (store_id, product_id, quantity, reorder_point)
values ('S500', 'P0001', 9, 0);
insert into inventory.movement (store_id, product_id, kind, quantity_change,
                                source_transaction_id)
values ('S500', 'P0001', 'initial', 10, null), ('S500', 'P0001', 'sale', -1, 'OLD-1');
)sql")
                  .ok());
  auto upgraded = ops::ApplyMigrations(*connection, all);
  ASSERT_TRUE(upgraded.ok()) << upgraded.status().ToString();
  ASSERT_EQ(upgraded->applied.size(), all.size() - 6);

  auto rows = connection->Query(
      "select string_agg(line_number || ':' || running_line_total || ':' || "
      "(ingested_at = '2026-03-10 19:06:00+00')::text, ',' order by line_number) "
      "from staging.pos_line");
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  EXPECT_EQ(rows->Get(0, 0), "1:10.00:true,2:15.00:true,3:12.00:true");
  rows = connection->Query(
      "select string_agg(kind || ':' || quantity_change, ',') from inventory.recorded_movement");
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  EXPECT_EQ(rows->Get(0, 0), "initial:10");

  pipeline::EtlOptions options;
  std::atomic<bool> stop{false};
  auto stats = pipeline::RunEtl(old, options, stop, nullptr);
  ASSERT_TRUE(stats.ok()) << stats.status().ToString();
  EXPECT_EQ(stats->transactions, 1);
  // Tax 1.56 over 10.00, 5.00, -3.00 (Σ 12.00) by cumulative rounding: 1.30, 0.65, -0.39.
  rows = connection->Query(
      "select string_agg(tax_share::text, ',' order by line_number) from dw.fact_sales_line");
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  EXPECT_EQ(rows->Get(0, 0), "1.30,0.65,-0.39");
  rows = connection->Query(
      "select string_agg(kind || ':' || product_id || ':' || quantity_change || ':' || "
      "coalesce(source_transaction_id, '-'), ',' order by kind, product_id) "
      "from inventory.movement where store_id = 'S777'");
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  EXPECT_EQ(rows->Get(0, 0), "return:P0003:1:U1,sale:P0001:-1:U1,sale:P0002:-1:U1");
  EXPECT_EQ(connection->Query("select 1 from staging.pos_line")->rows(), 0);
}

// Overflow of an aggregate or of on-hand is a refusal like any other: the receipt that causes
// it is quarantined with its SQLSTATE and the rest of the batch loads.
TEST_F(EtlTest, ReceiptThatOverflowsOnHandIsQuarantinedAndTheRestLoads) {
  // One unit sold of a pair already at the bottom of on-hand's integer range overflows it.
  // (An adjustment, recorded as such, so that on-hand still balances with its movements.)
  ASSERT_TRUE(db().Execute("insert into inventory.recorded_movement (store_id, product_id, kind, "
                           "quantity_change, note) select store_id, product_id, 'adjustment', change, 'test' "
                           "from inventory.on_hand, unnest(array[-quantity, -2147483647]) change "
                           "where store_id = 'S002' and product_id = 'P0002'; "
                           "update inventory.on_hand set quantity = -2147483647 "
                           "where store_id = 'S002' and product_id = 'P0002'")
                  .ok());
  for (int index = 0; index < 40; ++index) {
    const std::string store = index == 17 ? "S002" : "S001";
    Stage({"Q" + std::to_string(index), "2026-03-10 14:05:30", std::nullopt, store, std::nullopt,
           std::nullopt, "Cash", "9.98", "1.30", "11.28",
           {{"P0002", "Gala Apples 3 lb Bag", "4.99", 2, "9.98"}}});
  }
  const pipeline::EtlStats stats = Etl();
  EXPECT_EQ(stats.transactions, 39);
  EXPECT_EQ(stats.quarantined, 1);
  EXPECT_EQ(Count("select count(*) from dw.fact_transaction"), 39);
  EXPECT_EQ(Count("select count(*) from dw.fact_transaction where transaction_id = 'Q17'"), 0);
  EXPECT_EQ(Rows("select stage, kafka_partition, reasons[1], "
                 "convert_from(payload, 'UTF8')::jsonb->'transaction'->>'transaction_id', "
                 "jsonb_array_length(convert_from(payload, 'UTF8')::jsonb->'lines') "
                 "from ops.dead_letter"),
            "etl|0|etl.refused:22003|Q17|1\n");
  EXPECT_EQ(Count("select count(*) from staging.pos_transaction"), 0);
  EXPECT_EQ(Count("select count(*) from staging.pos_line"), 0);
  EXPECT_EQ(OnHand("S002", "P0002"), -2147483647);
  ExpectCheckPasses();
}

// A receipt staged before a validation limit existed (a store id too long for the dimension's
// index) is quarantined; replayed after nothing changed, it is quarantined again, once.
TEST_F(EtlTest, ReceiptTheEtlRefusesIsQuarantinedAndAReplayComesBackToTheSameDeadLetter) {
  std::string long_store_id;
  // Incompressible: PostgreSQL compresses a repetitive key below the index row limit.
  std::uint32_t state = 12345;
  for (int index = 0; index < 3000; ++index) {
    state = state * 1103515245u + 12345u;
    long_store_id += static_cast<char>('a' + (state >> 16) % 26);
  }
  Stage({"R1", "2026-03-10 14:05:30", std::nullopt, "S001", std::nullopt, std::nullopt, "Cash",
         "4.99", "0.65", "5.64", {{"P0002", "Gala Apples 3 lb Bag", "4.99", 1, "4.99"}}});
  Stage({"R2", "2026-03-10 14:06:30", std::nullopt, long_store_id, std::nullopt, std::nullopt,
         "Cash", "4.99", "0.65", "5.64", {{"P0002", "Gala Apples 3 lb Bag", "4.99", 1, "4.99"}}});
  pipeline::EtlStats stats = Etl();
  EXPECT_EQ(stats.transactions, 1);
  EXPECT_EQ(stats.quarantined, 1);
  EXPECT_EQ(Rows("select stage, reasons[1] from ops.dead_letter"), "etl|etl.refused:54000\n");
  ExpectCheckPasses();

  const std::string id = Scalar("select dead_letter_id from ops.dead_letter");
  pipeline::ReplayRequest replay;
  replay.ids = {std::stoll(id)};
  auto outcomes = pipeline::ReplayDeadLetters(config_, replay);
  ASSERT_TRUE(outcomes.ok()) << outcomes.status().ToString();
  ASSERT_EQ(outcomes->size(), 1u);
  EXPECT_TRUE((*outcomes)[0].staged);
  EXPECT_EQ(Scalar("select length(store_id) from staging.pos_transaction"), "3000");
  EXPECT_EQ(Count("select count(*) from staging.pos_line"), 1);
  ExpectCheckPasses();  // staged again: seen = 1 staged + 1 loaded

  stats = Etl();
  EXPECT_EQ(stats.quarantined, 1);
  EXPECT_EQ(Rows("select dead_letter_id, stage, replayed_at is null from ops.dead_letter"),
            id + "|etl|t\n");
  ExpectCheckPasses();
}

TEST_F(EtlTest, SecondEtlIsRefusedWhileTheFirstHoldsTheLock) {
  ASSERT_TRUE(warehouse::AcquireEtlLock(db()).ok());
  pipeline::EtlOptions options;
  std::atomic<bool> stop{false};
  auto second = pipeline::RunEtl(config_, options, stop, nullptr);
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), Status::Code::kAlreadyExists);
  EXPECT_NE(second.status().message().find("another ETL is already running"), std::string::npos)
      << second.status().message();
}

TEST_F(EtlTest, CheckFindsATamperedFactAndInventory) {
  StageGolden();
  ASSERT_EQ(Etl().transactions, 3);
  ASSERT_TRUE(db().Execute("update dw.fact_sales_line set tax_share = tax_share + 0.01 "
                           "where transaction_id = 'G1' and line_number = 1;"
                           "update inventory.on_hand set quantity = quantity - 1 "
                           "where store_id = 'S001' and product_id = 'P0002'")
                  .ok());
  pipeline::CheckOptions options;
  options.query_kafka = false;
  auto report = pipeline::RunCheck(config_, options);
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_FALSE(report->ok());
  std::vector<std::string> failed;
  for (const auto& item : report->items) {
    if (!item.ok) failed.push_back(item.name);
  }
  EXPECT_EQ(failed, (std::vector<std::string>{"facts", "inventory"}));
}

}  // namespace
}  // namespace posflow::testing
