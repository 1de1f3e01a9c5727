// The reports after the whole pipeline on the real stack: simulator -> Kafka -> ingest ->
// `posflow etl --once` -> warehouse. Each report (which reads the aggregates the ETL keeps)
// equals the same question asked of the facts, and sales-by-store and top-products equal the
// producer's manifest to the cent and to the unit.

#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/money.h"
#include "integration/ingest_fixture.h"
#include "integration/report_fixture.h"
#include "pg/connection.h"
#include "warehouse/report.h"

namespace posflow::testing {
namespace {

class ReportPipelineTest : public IngestTest {};

std::string Column(const warehouse::ReportTable& table, std::size_t row, const std::string& name) {
  for (std::size_t column = 0; column < table.columns.size(); ++column) {
    if (table.columns[column].name == name) return table.rows[row][column].value_or("<null>");
  }
  ADD_FAILURE() << "no column " << name;
  return "";
}

TEST_F(ReportPipelineTest, ReportsAfterEtlEqualTheFactsAndTheProducersManifest) {
  const sim::Manifest manifest =
      Produce({"--count", "4000", "--seed", "11", "--start-date", "2026-01-30", "--days", "4",
               "--bad-ratio", "0.02", "--duplicate-ratio", "0.02"});
  ASSERT_GT(manifest.valid, 0);
  ASSERT_EQ(IngestUntilIdle(), 0);
  ASSERT_EQ(StartEtl({"--once"})->Wait(std::chrono::minutes(5)), 0);

  auto connection = pg::Connection::Open(pg::OptionsFromConfig(config_));
  ASSERT_TRUE(connection.ok()) << connection.status().ToString();
  auto run = [&](warehouse::ReportRequest request) {
    auto table = warehouse::RunReport(*connection, request);
    EXPECT_TRUE(table.ok()) << request.name << ": " << table.status().ToString();
    return table.ok() ? *table : warehouse::ReportTable{};
  };

  // Every report against the facts; the days straddle a month end (two partitions).
  struct Filter {
    std::optional<std::string> from, to, store;
  };
  const std::vector<Filter> filters = {
      {},
      {"2026-01-31", "2026-02-01", std::nullopt},
      {std::nullopt, std::nullopt, "S002"},
      {"2026-02-02", "2026-02-02", "S005"},
  };
  for (const char* name :
       {"sales-by-store", "sales-by-day", "top-products", "hourly", "basket", "payment-mix"}) {
    for (const Filter& filter : filters) {
      warehouse::ReportRequest request;
      request.name = name;
      if (filter.from) request.from = ParseDate(*filter.from);
      if (filter.to) request.to = ParseDate(*filter.to);
      request.store_id = filter.store;
      std::vector<std::optional<std::string>> params = {filter.from, filter.to, filter.store};
      if (std::string(name) == "top-products") {
        request.limit = 25;
        params.emplace_back("25");
      }
      const std::string from_report = TableRows(run(request));
      EXPECT_EQ(from_report, QueryRows(*connection, FactsQuery(name), params))
          << name << " from " << filter.from.value_or("-") << " to "
          << filter.to.value_or("-") << " store " << filter.store.value_or("-");
      EXPECT_FALSE(from_report.empty()) << name;
    }
  }

  // sales-by-store: each store's receipts and total as the producer counted them.
  warehouse::ReportRequest by_store;
  by_store.name = "sales-by-store";
  const warehouse::ReportTable stores = run(by_store);
  std::map<std::string, sim::StoreTotals> reported;
  for (std::size_t row = 0; row < stores.rows.size(); ++row) {
    sim::StoreTotals& totals = reported[Column(stores, row, "store_id")];
    totals.transactions = std::stoll(Column(stores, row, "transactions"));
    totals.total_cents = ParseCents(Column(stores, row, "total")).value_or(-1);
  }
  EXPECT_EQ(reported, manifest.by_store);

  // top-products with no practical limit: each product's units as the producer counted them.
  warehouse::ReportRequest products;
  products.name = "top-products";
  products.limit = 100000;
  const warehouse::ReportTable ranked = run(products);
  std::map<std::string, std::int64_t> units_reported, units_sent;
  for (std::size_t row = 0; row < ranked.rows.size(); ++row) {
    units_reported[Column(ranked, row, "product_id")] =
        std::stoll(Column(ranked, row, "quantity"));
  }
  for (const auto& [store, by_product] : manifest.by_store_product) {
    for (const auto& [product, quantity] : by_product) units_sent[product] += quantity;
  }
  // The manifest may list a product whose returns cancel its sales; the report lists it too.
  EXPECT_EQ(units_reported, units_sent);

  // basket's all-receipts row counts every valid receipt once.
  warehouse::ReportRequest basket;
  basket.name = "basket";
  const warehouse::ReportTable baskets = run(basket);
  ASSERT_FALSE(baskets.rows.empty());
  EXPECT_EQ(Column(baskets, baskets.rows.size() - 1, "basket_size"), "<null>");
  EXPECT_EQ(Column(baskets, baskets.rows.size() - 1, "transactions"),
            std::to_string(manifest.valid));
  EXPECT_EQ(Column(baskets, baskets.rows.size() - 1, "total"), FormatCents(manifest.total_cents));

  // low-stock after the ETL's decrements: exactly the pairs below their reorder point, whose
  // on-hand is the sum of their movements.
  warehouse::ReportRequest low;
  low.name = "low-stock";
  EXPECT_EQ(TableRows(run(low)),
            QueryRows(*connection,
                      "select h.store_id, s.name, h.product_id, p.name, m.moved, h.reorder_point, "
                      "h.reorder_point - m.moved, case when m.moved < 0 then 'oversold' "
                      "when m.moved = 0 then 'out' else 'low' end "
                      "from inventory.on_hand h join (select store_id, product_id, "
                      "sum(quantity_change) as moved from inventory.movement group by 1, 2) m "
                      "using (store_id, product_id) "
                      "left join dw.dim_store s on s.store_id = h.store_id and s.is_current "
                      "left join dw.dim_product p on p.product_id = h.product_id "
                      "and p.is_current where m.moved < h.reorder_point order by 1, 3"));
}

}  // namespace
}  // namespace posflow::testing
