// The warehouse schema (003_create_warehouse.sql) and the reference-data load of `posflow init`
// (warehouse/reference_loader.h), against the real PostgreSQL of the local stack.

#include <gtest/gtest.h>

#include <cstdint>
#include <optional>
#include <string>

#include "integration/stack_fixture.h"
#include "pg/connection.h"
#include "pipeline/init_job.h"
#include "sim/reference_data.h"
#include "warehouse/reference_loader.h"

namespace posflow::testing {
namespace {

class WarehouseSchemaTest : public StackTest {
 protected:
  // Runs `posflow init` (no topics: this suite is about PostgreSQL) and opens a connection.
  void SetUp() override {
    StackTest::SetUp();
    pipeline::InitOptions options;
    options.create_topics = false;
    auto report = pipeline::RunInit(config_, options);
    ASSERT_TRUE(report.ok()) << report.status().ToString();
    ASSERT_TRUE(report->reference_data.has_value());
    first_load_ = *report->reference_data;
    auto connection = pg::Connection::Open(pg::OptionsFromConfig(config_));
    ASSERT_TRUE(connection.ok()) << connection.status().ToString();
    connection_.emplace(std::move(connection).value());
  }

  pg::Connection& db() { return *connection_; }

  // The first cell of `sql`'s result, as text ("" for NULL).
  std::string Scalar(const std::string& sql) {
    auto rows = db().Query(sql);
    EXPECT_TRUE(rows.ok()) << sql << ": " << rows.status().ToString();
    if (!rows.ok() || rows->rows() == 0) return "<no row>";
    return std::string(rows->Get(0, 0));
  }
  std::int64_t Count(const std::string& sql) { return std::stoll(Scalar(sql)); }

  Result<warehouse::ReferenceLoadReport> Load(const sim::ReferenceData& reference) {
    return warehouse::LoadReferenceData(db(), reference, warehouse::DefaultWarehouseDates());
  }

  const sim::ReferenceData& reference_ = sim::DefaultReferenceData();
  warehouse::ReferenceLoadReport first_load_;
  std::optional<pg::Connection> connection_;
};

TEST_F(WarehouseSchemaTest, InitLoadsExactlyTheReferenceDimensions) {
  const auto stores = static_cast<std::int64_t>(reference_.stores.size());
  const auto products = static_cast<std::int64_t>(reference_.products.size());
  const auto customers = static_cast<std::int64_t>(reference_.customers.size());
  const auto payment_types = static_cast<std::int64_t>(reference_.payment_types.size());
  EXPECT_EQ(first_load_.stores_inserted, stores);
  EXPECT_EQ(first_load_.products_inserted, products);
  EXPECT_EQ(first_load_.customers_inserted, customers);
  EXPECT_EQ(first_load_.payment_types_inserted, payment_types);

  EXPECT_EQ(Count("select count(*) from dw.dim_store"), stores);
  EXPECT_EQ(Count("select count(*) from dw.dim_store where is_current and not is_inferred "
                  "and valid_from = '-infinity' and valid_to is null"),
            stores);
  EXPECT_EQ(Count("select count(*) from dw.dim_product"), products);
  EXPECT_EQ(Count("select count(*) from dw.dim_product where is_current and not is_inferred"),
            products);
  // + the anonymous member, key 0.
  EXPECT_EQ(Count("select count(*) from dw.dim_customer"), customers + 1);
  EXPECT_EQ(Scalar("select first_name from dw.dim_customer where customer_id is null"),
            "Anonymous");
  EXPECT_EQ(Count("select customer_key from dw.dim_customer where customer_id is null"), 0);
  EXPECT_EQ(Count("select count(*) from dw.dim_payment_type"), payment_types);

  const sim::StoreInfo& store = reference_.stores.front();
  EXPECT_EQ(Scalar("select time_zone from dw.dim_store where store_id = '" +
                   store.store.store_id + "'"),
            store.time_zone);
  const sim::ProductInfo& product = reference_.products.front();
  EXPECT_EQ(Scalar("select (unit_price * 100)::bigint from dw.dim_product where product_id = '" +
                   product.product_id + "'"),
            std::to_string(product.unit_price_cents));
}

TEST_F(WarehouseSchemaTest, CalendarCoversTheDefaultRangeWithIsoFields) {
  // 2020-01-01..2030-12-31: 11 years, three of them leap years (2020, 2024, 2028).
  EXPECT_EQ(first_load_.dates_inserted, 11 * 365 + 3);
  EXPECT_EQ(Count("select count(*) from dw.dim_date"), 11 * 365 + 3);
  EXPECT_EQ(Count("select count(*) from dw.dim_date where date_key = 20240229"), 1);
  EXPECT_EQ(Count("select count(*) from dw.dim_date where month = 2 and year = 2023"), 28);
  EXPECT_EQ(Scalar("select weekday_name || ' ' || iso_weekday || ' ' || is_weekend "
                   "from dw.dim_date where date_key = 20240203"),
            "Saturday 6 true");
  EXPECT_EQ(Scalar("select weekday_name || ' ' || iso_weekday || ' ' || is_weekend "
                   "from dw.dim_date where date_key = 20240205"),
            "Monday 1 false");
  // ISO weeks straddle New Year: 2021-01-01 is in week 53 of 2020, 2024-12-30 in week 1 of 2025.
  EXPECT_EQ(Scalar("select iso_week || '/' || iso_year || '/' || year from dw.dim_date "
                   "where full_date = '2021-01-01'"),
            "53/2020/2021");
  EXPECT_EQ(Scalar("select iso_week || '/' || iso_year from dw.dim_date "
                   "where full_date = '2024-12-30'"),
            "1/2025");
  EXPECT_EQ(Scalar("select month_name || ' ' || quarter || ' ' || quarter_name || ' ' || "
                   "day_of_month from dw.dim_date where date_key = 20240515"),
            "May 2 Q2 15");

  EXPECT_EQ(Count("select count(*) from dw.dim_time"), 1440);
  EXPECT_EQ(Scalar("select hour || ':' || minute || ' ' || day_part from dw.dim_time "
                   "where time_key = 1435"),
            "14:35 afternoon");
  EXPECT_EQ(Scalar("select string_agg(day_part, ',' order by time_key) from dw.dim_time "
                   "where time_key in (0, 559, 600, 1159, 1200, 1659, 1700, 2359)"),
            "night,night,morning,morning,afternoon,afternoon,evening,evening");
}

TEST_F(WarehouseSchemaTest, InventoryIsTheReferenceInventoryWithOneInitialMovementEach) {
  const auto records = static_cast<std::int64_t>(reference_.inventory.size());
  std::int64_t units = 0;
  for (const sim::InventoryRecord& record : reference_.inventory) units += record.on_hand;
  EXPECT_EQ(first_load_.inventory_seeded, records);
  EXPECT_EQ(Count("select count(*) from inventory.on_hand"), records);
  EXPECT_EQ(Count("select coalesce(sum(quantity), 0) from inventory.on_hand"), units);
  EXPECT_EQ(Count("select count(*) from inventory.movement"), records);
  EXPECT_EQ(Count("select count(*) from inventory.on_hand h join inventory.movement m "
                  "using (store_id, product_id) "
                  "where m.kind = 'initial' and m.quantity_change = h.quantity "
                  "and m.source_transaction_id is null"),
            records);

  const sim::InventoryRecord& record = reference_.inventory.back();
  EXPECT_EQ(Scalar("select quantity || '/' || reorder_point from inventory.on_hand "
                   "where store_id = '" + reference_.stores[record.store].store.store_id +
                   "' and product_id = '" + reference_.products[record.product].product_id +
                   "'"),
            std::to_string(record.on_hand) + "/" + std::to_string(record.reorder_point));
}

TEST_F(WarehouseSchemaTest, MonthPartitionsCoverTheRangeAndTheDefaultTakesTheRest) {
  constexpr std::int64_t kMonths = 11 * 12;
  EXPECT_EQ(first_load_.partitions_created, 2 * kMonths);
  for (const char* fact : {"fact_transaction", "fact_sales_line"}) {
    EXPECT_EQ(Count(std::string("select count(*) from pg_inherits "
                                "where inhparent = 'dw.") + fact + "'::regclass"),
              kMonths + 1)
        << fact;
  }
  const std::string values =
      "1200, 1, 0, 1, 1, 1, 10.00, 1.30, 11.30, now())";
  ASSERT_TRUE(db().Execute("insert into dw.fact_transaction (transaction_id, sale_date, "
                           "date_key, time_key, store_key, customer_key, payment_type_key, "
                           "line_count, item_count, subtotal, tax, total, sold_at) values "
                           "('in-range', '2024-02-03', 20240203, " + values + ", "
                           "('far-future', '2035-06-01', 20350601, " + values)
                  .ok());
  EXPECT_EQ(Scalar("select tableoid::regclass from dw.fact_transaction "
                   "where transaction_id = 'in-range'"),
            "dw.fact_transaction_y2024m02");
  EXPECT_EQ(Scalar("select tableoid::regclass from dw.fact_transaction "
                   "where transaction_id = 'far-future'"),
            "dw.fact_transaction_default");

  // Preparing that month later moves the row out of the default partition.
  EXPECT_EQ(Count("select dw.ensure_month_partitions('2035-06-01', '2035-06-30')"), 2);
  EXPECT_EQ(Scalar("select tableoid::regclass from dw.fact_transaction "
                   "where transaction_id = 'far-future'"),
            "dw.fact_transaction_y2035m06");
  EXPECT_EQ(Count("select dw.ensure_month_partitions('2035-06-01', '2035-06-30')"), 0);
}

TEST_F(WarehouseSchemaTest, SecondInitChangesNothing) {
  pipeline::InitOptions options;
  options.create_topics = false;
  auto second = pipeline::RunInit(config_, options);
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  EXPECT_FALSE(second->Changed());
  ASSERT_TRUE(second->reference_data.has_value());
  const warehouse::ReferenceLoadReport& load = *second->reference_data;
  EXPECT_FALSE(load.Changed());
  EXPECT_EQ(load.dates_inserted + load.times_inserted + load.partitions_created, 0);
  EXPECT_EQ(load.customers_inserted + load.customers_updated, 0);
  EXPECT_EQ(load.stores_inserted + load.stores_versioned + load.stores_filled, 0);
  EXPECT_EQ(load.products_inserted + load.products_versioned + load.products_filled, 0);
  EXPECT_EQ(load.inventory_seeded, 0);
  EXPECT_EQ(Count("select count(*) from dw.dim_store"),
            static_cast<std::int64_t>(reference_.stores.size()));
  EXPECT_EQ(Count("select count(*) from dw.dim_product"),
            static_cast<std::int64_t>(reference_.products.size()));
  EXPECT_EQ(Count("select count(*) from inventory.movement"),
            static_cast<std::int64_t>(reference_.inventory.size()));
}

TEST_F(WarehouseSchemaTest, ChangedPriceAndAddressOpenExactlyOneNewVersionEach) {
  sim::ReferenceData changed = reference_;
  sim::ProductInfo& product = changed.products[3];
  product.unit_price_cents += 100;
  sim::StoreInfo& store = changed.stores[2];
  store.store.address = "1 Changed Street";

  auto load = Load(changed);
  ASSERT_TRUE(load.ok()) << load.status().ToString();
  EXPECT_EQ(load->products_versioned, 1);
  EXPECT_EQ(load->stores_versioned, 1);
  EXPECT_EQ(load->products_inserted + load->stores_inserted + load->customers_inserted, 0);
  EXPECT_EQ(load->customers_updated, 0);

  const std::string product_where = " from dw.dim_product where product_id = '" +
                                    product.product_id + "'";
  EXPECT_EQ(Count("select count(*)" + product_where), 2);
  EXPECT_EQ(Count("select (unit_price * 100)::bigint" + product_where + " and is_current"),
            product.unit_price_cents);
  EXPECT_EQ(Count("select (unit_price * 100)::bigint" + product_where + " and not is_current"),
            product.unit_price_cents - 100);
  // The old version is closed at the instant the new one opens.
  EXPECT_EQ(Scalar("select count(*) from dw.dim_product old join dw.dim_product new "
                   "using (product_id) where product_id = '" + product.product_id +
                   "' and not old.is_current and new.is_current "
                   "and old.valid_to = new.valid_from and old.valid_from = '-infinity' "
                   "and new.valid_from > '-infinity' and new.valid_to is null"),
            "1");

  const std::string store_where = " from dw.dim_store where store_id = '" +
                                  store.store.store_id + "'";
  EXPECT_EQ(Count("select count(*)" + store_where), 2);
  EXPECT_EQ(Scalar("select address" + store_where + " and is_current"), "1 Changed Street");
  EXPECT_EQ(Scalar("select address" + store_where + " and not is_current and valid_to is not null"),
            reference_.stores[2].store.address);

  EXPECT_EQ(Count("select count(*) from (select product_id from dw.dim_product group by "
                  "product_id having count(*) filter (where is_current) <> 1) as bad"),
            0);
  EXPECT_EQ(Count("select count(*) from (select store_id from dw.dim_store group by "
                  "store_id having count(*) filter (where is_current) <> 1) as bad"),
            0);
  EXPECT_EQ(Count("select count(*) from dw.dim_product"),
            static_cast<std::int64_t>(reference_.products.size()) + 1);

  auto again = Load(changed);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_FALSE(again->Changed());
}

TEST_F(WarehouseSchemaTest, InferredMembersAreFilledInPlace) {
  ASSERT_TRUE(db().Execute(
                     "insert into dw.dim_product (product_id, name, category, unit_price, "
                     "valid_from, valid_to, is_current, is_inferred) values "
                     "('P9999', 'P9999', 'unknown', 0, '-infinity', null, true, true);"
                     "insert into dw.dim_customer (customer_id, first_name, last_name, "
                     "is_inferred) values ('C99999', 'Late', 'Arrival', true)")
                  .ok());
  sim::ReferenceData later = reference_;
  later.products.push_back({"P9999", "Cloudberry Jam 250 g", "Pantry", 649, 999});
  sim::CustomerInfo customer = later.customers.front();
  customer.customer.customer_id = "C99999";
  customer.customer.email = "late.arrival@example.com";
  later.customers.push_back(customer);

  auto load = Load(later);
  ASSERT_TRUE(load.ok()) << load.status().ToString();
  EXPECT_EQ(load->products_filled, 1);
  EXPECT_EQ(load->products_inserted + load->products_versioned, 0);
  EXPECT_EQ(load->customers_updated, 1);
  EXPECT_EQ(load->customers_inserted, 0);
  EXPECT_EQ(Scalar("select count(*) || ' ' || bool_or(is_inferred) || ' ' || min(name) || ' ' || "
                   "min(category) || ' ' || min(unit_price) || ' ' || bool_and(is_current) "
                   "from dw.dim_product where product_id = 'P9999'"),
            "1 false Cloudberry Jam 250 g Pantry 6.49 true");
  EXPECT_EQ(Scalar("select email || ' ' || is_inferred from dw.dim_customer "
                   "where customer_id = 'C99999'"),
            "late.arrival@example.com false");

  auto again = Load(later);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_FALSE(again->Changed());
}

TEST_F(WarehouseSchemaTest, ReversedDateRangeIsRefused) {
  auto load = warehouse::LoadReferenceData(db(), reference_, {{2024, 2, 1}, {2024, 1, 1}});
  ASSERT_FALSE(load.ok());
  EXPECT_EQ(load.status().code(), Status::Code::kInvalidArgument);
}

}  // namespace
}  // namespace posflow::testing
