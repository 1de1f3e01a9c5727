// `posflow report` (warehouse/report.h, sql/reports/*.sql) against the real PostgreSQL of the
// local stack, on the hand-made warehouse of report_fixture.h: every figure below was computed
// by hand from its seven receipts. Then each report is compared with an independent query on
// the FACTS (dw.fact_transaction, dw.fact_sales_line) under several filters, and the usage
// errors are checked.

#include <gtest/gtest.h>

#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include "integration/report_fixture.h"
#include "warehouse/report.h"

namespace posflow::testing {
namespace {

class ReportTest : public ReportFixture {
 protected:
  void SetUp() override {
    ReportFixture::SetUp();
    if (IsSkipped() || HasFailure()) return;
    Exec(HandMadeWarehouseSql());
  }

  // `posflow report <arguments>`'s stdout; expects exit 0 and nothing on stderr.
  std::string Report(const std::vector<std::string>& arguments) {
    std::vector<std::string> all = {"report"};
    all.insert(all.end(), arguments.begin(), arguments.end());
    const PosflowRun run = Posflow(all);
    EXPECT_EQ(run.exit_code, 0) << run.err;
    EXPECT_EQ(run.err, "");
    return run.out;
  }
};

TEST_F(ReportTest, SalesByStoreGivesHandComputedFiguresAsTableCsvAndJson) {
  EXPECT_EQ(Report({"sales-by-store"}),
            "store_id  store                  transactions  items  subtotal    tax  total  "
            "average_receipt\n"
            "--------  ---------------------  ------------  -----  --------  -----  -----  "
            "---------------\n"
            "S001      Boreal Downtown                   4     23     80.08  10.41  90.49  "
            "          22.62\n"
            "S002      Boreal \"Quai\", Québec             3      6     18.95   2.47  21.42  "
            "           7.14\n");
  EXPECT_EQ(Report({"sales-by-store", "--format", "csv"}),
            "store_id,store,transactions,items,subtotal,tax,total,average_receipt\r\n"
            "S001,Boreal Downtown,4,23,80.08,10.41,90.49,22.62\r\n"
            "S002,\"Boreal \"\"Quai\"\", Québec\",3,6,18.95,2.47,21.42,7.14\r\n");
  EXPECT_EQ(Report({"sales-by-store", "--format", "json"}),
            "[\n"
            "  {\"store_id\": \"S001\", \"store\": \"Boreal Downtown\", \"transactions\": 4, "
            "\"items\": 23, \"subtotal\": 80.08, \"tax\": 10.41, \"total\": 90.49, "
            "\"average_receipt\": 22.62},\n"
            "  {\"store_id\": \"S002\", \"store\": \"Boreal \\\"Quai\\\", Québec\", "
            "\"transactions\": 3, \"items\": 6, \"subtotal\": 18.95, \"tax\": 2.47, "
            "\"total\": 21.42, \"average_receipt\": 7.14}\n"
            "]\n");
}

TEST_F(ReportTest, SalesByStoreFiltersByInclusiveStoreLocalDatesAndByStore) {
  // February: T3, T4 (S001), T5, T6 (S002, T6 a return).
  EXPECT_EQ(Report({"sales-by-store", "--from", "2024-02-01", "--to", "2024-02-29", "--format",
                    "csv"}),
            "store_id,store,transactions,items,subtotal,tax,total,average_receipt\r\n"
            "S001,Boreal Downtown,2,8,32.95,4.29,37.24,18.62\r\n"
            "S002,\"Boreal \"\"Quai\"\", Québec\",2,5,13.96,1.82,15.78,7.89\r\n");
  // Both ends inclusive: one day.
  EXPECT_EQ(Report({"sales-by-store", "--from", "2024-03-01", "--to", "2024-03-01", "--format",
                    "csv"}),
            "store_id,store,transactions,items,subtotal,tax,total,average_receipt\r\n"
            "S001,Boreal Downtown,1,12,18.64,2.42,21.06,21.06\r\n");
  // S001's sales under its old version (T1) count for S001, under its current name.
  EXPECT_EQ(Report({"sales-by-store", "--store", "S001", "--to", "2024-01-31", "--format",
                    "csv"}),
            "store_id,store,transactions,items,subtotal,tax,total,average_receipt\r\n"
            "S001,Boreal Downtown,1,3,28.49,3.70,32.19,32.19\r\n");
  // A known store without sales: no rows.
  EXPECT_EQ(Report({"sales-by-store", "--store", "S003", "--format", "csv"}),
            "store_id,store,transactions,items,subtotal,tax,total,average_receipt\r\n");
  EXPECT_EQ(Report({"sales-by-store", "--store", "S003", "--format", "json"}), "[]\n");
  EXPECT_EQ(Report({"sales-by-store", "--store", "S003"}),
            "store_id  store  transactions  items  subtotal  tax  total  average_receipt\n"
            "--------  -----  ------------  -----  --------  ---  -----  ---------------\n"
            "(no rows)\n");
}

TEST_F(ReportTest, SalesByDayGivesHandComputedFiguresRoundingHalfAwayFromZero) {
  // 2024-01-15: 37.83 / 2 = 18.915 -> 18.92.
  EXPECT_EQ(Report({"sales-by-day", "--format", "csv"}),
            "sale_date,weekday,stores,transactions,items,subtotal,tax,total,average_receipt\r\n"
            "2024-01-15,Monday,2,2,4,33.48,4.35,37.83,18.92\r\n"
            "2024-02-03,Saturday,2,3,14,50.40,6.56,56.96,18.99\r\n"
            "2024-02-04,Sunday,1,1,-1,-3.49,-0.45,-3.94,-3.94\r\n"
            "2024-03-01,Friday,1,1,12,18.64,2.42,21.06,21.06\r\n");
  EXPECT_EQ(Report({"sales-by-day", "--store", "S002", "--from", "2024-02-01", "--format",
                    "json"}),
            "[\n"
            "  {\"sale_date\": \"2024-02-03\", \"weekday\": \"Saturday\", \"stores\": 1, "
            "\"transactions\": 1, \"items\": 6, \"subtotal\": 17.45, \"tax\": 2.27, "
            "\"total\": 19.72, \"average_receipt\": 19.72},\n"
            "  {\"sale_date\": \"2024-02-04\", \"weekday\": \"Sunday\", \"stores\": 1, "
            "\"transactions\": 1, \"items\": -1, \"subtotal\": -3.49, \"tax\": -0.45, "
            "\"total\": -3.94, \"average_receipt\": -3.94}\n"
            "]\n");
  EXPECT_EQ(Report({"sales-by-day", "--to", "2024-01-15"}),
            "sale_date   weekday  stores  transactions  items  subtotal   tax  total  "
            "average_receipt\n"
            "----------  -------  ------  ------------  -----  --------  ----  -----  "
            "---------------\n"
            "2024-01-15  Monday        2             2      4     33.48  4.35  37.83  "
            "          18.92\n");
}

TEST_F(ReportTest, TopProductsRanksByRevenueWithSharesOfAllProductsAndALimit) {
  // Revenue 99.03 in all: 50.00 (50.49 %), 20.74 (20.94 %), 17.82 (17.99 %), 10.47 (10.57 %).
  EXPECT_EQ(Report({"top-products", "--format", "csv"}),
            "rank,product_id,product,category,quantity,revenue,revenue_pct\r\n"
            "1,P0001,\"Coffee, 1 kg\",Grocery,4,50.00,50.49\r\n"
            "2,P0003,Sourdough Bread,Bakery,4,20.74,20.94\r\n"
            "3,P0004,Apples,Produce,18,17.82,17.99\r\n"
            "4,P0002,Milk 2L,Dairy,3,10.47,10.57\r\n");
  // The share stays that of all products, not of the two shown.
  EXPECT_EQ(Report({"top-products", "--limit", "2", "--format", "json"}),
            "[\n"
            "  {\"rank\": 1, \"product_id\": \"P0001\", \"product\": \"Coffee, 1 kg\", "
            "\"category\": \"Grocery\", \"quantity\": 4, \"revenue\": 50.00, "
            "\"revenue_pct\": 50.49},\n"
            "  {\"rank\": 2, \"product_id\": \"P0003\", \"product\": \"Sourdough Bread\", "
            "\"category\": \"Bakery\", \"quantity\": 4, \"revenue\": 20.74, "
            "\"revenue_pct\": 20.94}\n"
            "]\n");
  // S002: T2 (P0003 4.99), T5 (P0004 4.95, P0001 12.50), T6 (P0002 -3.49): 18.95 in all.
  EXPECT_EQ(Report({"top-products", "--store", "S002"}),
            "rank  product_id  product          category  quantity  revenue  revenue_pct\n"
            "----  ----------  ---------------  --------  --------  -------  -----------\n"
            "   1  P0001       Coffee, 1 kg     Grocery          1    12.50        65.96\n"
            "   2  P0003       Sourdough Bread  Bakery           1     4.99        26.33\n"
            "   3  P0004       Apples           Produce          5     4.95        26.12\n"
            "   4  P0002       Milk 2L          Dairy           -1    -3.49       -18.42\n");
}

TEST_F(ReportTest, HourlyGivesWeekdayByStoreLocalHour) {
  EXPECT_EQ(Report({"hourly", "--format", "csv"}),
            "iso_weekday,weekday,hour,transactions,items,total,average_receipt\r\n"
            "1,Monday,9,2,4,37.83,18.92\r\n"
            "5,Friday,9,1,12,21.06,21.06\r\n"
            "6,Saturday,14,2,8,37.24,18.62\r\n"
            "6,Saturday,18,1,6,19.72,19.72\r\n"
            "7,Sunday,14,1,-1,-3.94,-3.94\r\n");
  EXPECT_EQ(Report({"hourly", "--store", "S001", "--from", "2024-02-01", "--format", "json"}),
            "[\n"
            "  {\"iso_weekday\": 5, \"weekday\": \"Friday\", \"hour\": 9, \"transactions\": 1, "
            "\"items\": 12, \"total\": 21.06, \"average_receipt\": 21.06},\n"
            "  {\"iso_weekday\": 6, \"weekday\": \"Saturday\", \"hour\": 14, "
            "\"transactions\": 2, \"items\": 8, \"total\": 37.24, \"average_receipt\": 18.62}\n"
            "]\n");
}

TEST_F(ReportTest, BasketGivesTheDistributionOfLinesPerReceiptAndAnAllRow) {
  // 1 line: T2, T4, T6; 2 lines: T1, T5; 3 lines: T3, T7. 51.91 / 2 = 25.955 -> 25.96.
  EXPECT_EQ(Report({"basket"}),
            "basket_size  transactions  transactions_pct   total  average_receipt  "
            "average_items\n"
            "-----------  ------------  ----------------  ------  ---------------  "
            "-------------\n"
            "          1             3             42.86    9.59             3.20  "
            "         0.67\n"
            "          2             2             28.57   51.91            25.96  "
            "         4.50\n"
            "          3             2             28.57   50.41            25.21  "
            "         9.00\n"
            "        all             7            100.00  111.91            15.99  "
            "         4.14\n");
  EXPECT_EQ(Report({"basket", "--format", "csv"}),
            "basket_size,transactions,transactions_pct,total,average_receipt,average_items\r\n"
            "1,3,42.86,9.59,3.20,0.67\r\n"
            "2,2,28.57,51.91,25.96,4.50\r\n"
            "3,2,28.57,50.41,25.21,9.00\r\n"
            "all,7,100.00,111.91,15.99,4.14\r\n");
  // S001 across its two versions: T1 (2 lines), T3, T7 (3), T4 (1).
  EXPECT_EQ(Report({"basket", "--store", "S001", "--format", "json"}),
            "[\n"
            "  {\"basket_size\": 1, \"transactions\": 1, \"transactions_pct\": 25.00, "
            "\"total\": 7.89, \"average_receipt\": 7.89, \"average_items\": 2.00},\n"
            "  {\"basket_size\": 2, \"transactions\": 1, \"transactions_pct\": 25.00, "
            "\"total\": 32.19, \"average_receipt\": 32.19, \"average_items\": 3.00},\n"
            "  {\"basket_size\": 3, \"transactions\": 2, \"transactions_pct\": 50.00, "
            "\"total\": 50.41, \"average_receipt\": 25.21, \"average_items\": 9.00},\n"
            "  {\"basket_size\": null, \"transactions\": 4, \"transactions_pct\": 100.00, "
            "\"total\": 90.49, \"average_receipt\": 22.62, \"average_items\": 5.75}\n"
            "]\n");
  // Nothing sold in the range: no rows at all (not an empty "all" row).
  EXPECT_EQ(Report({"basket", "--from", "2025-01-01", "--format", "json"}), "[]\n");
}

TEST_F(ReportTest, PaymentMixGivesSharesOfReceiptsAndOfMoney) {
  EXPECT_EQ(Report({"payment-mix", "--format", "csv"}),
            "payment_type,transactions,transactions_pct,total,total_pct\r\n"
            "Cash,3,42.86,72.97,65.20\r\n"
            "Credit Card,3,42.86,31.05,27.75\r\n"
            "Debit Card,1,14.29,7.89,7.05\r\n");
  // S002: Cash T5 19.72; Credit Card T2 5.64 and the return T6 -3.94.
  EXPECT_EQ(Report({"payment-mix", "--store", "S002", "--format", "json"}),
            "[\n"
            "  {\"payment_type\": \"Cash\", \"transactions\": 1, \"transactions_pct\": 33.33, "
            "\"total\": 19.72, \"total_pct\": 92.06},\n"
            "  {\"payment_type\": \"Credit Card\", \"transactions\": 2, "
            "\"transactions_pct\": 66.67, \"total\": 1.70, \"total_pct\": 7.94}\n"
            "]\n");
  EXPECT_EQ(Report({"payment-mix", "--to", "2024-01-31"}),
            "payment_type  transactions  transactions_pct  total  total_pct\n"
            "------------  ------------  ----------------  -----  ---------\n"
            "Cash                     1             50.00  32.19      85.09\n"
            "Credit Card              1             50.00   5.64      14.91\n");
}

TEST_F(ReportTest, LowStockListsPairsBelowTheirReorderPointAndFlagsOversold) {
  EXPECT_EQ(Report({"low-stock"}),
            "store_id  store                  product_id  product       quantity  reorder_point  "
            "shortfall  status\n"
            "--------  ---------------------  ----------  ------------  --------  -------------  "
            "---------  --------\n"
            "S001      Boreal Downtown        P0001       Coffee, 1 kg         5             10  "
            "        5  low\n"
            "S002      Boreal \"Quai\", Québec  P0001       Coffee, 1 kg         0              2  "
            "        2  out\n"
            "S002      Boreal \"Quai\", Québec  P0004       Apples              -3              5  "
            "        8  oversold\n");
  EXPECT_EQ(Report({"low-stock", "--store", "S002", "--format", "csv"}),
            "store_id,store,product_id,product,quantity,reorder_point,shortfall,status\r\n"
            "S002,\"Boreal \"\"Quai\"\", Québec\",P0001,\"Coffee, 1 kg\",0,2,2,out\r\n"
            "S002,\"Boreal \"\"Quai\"\", Québec\",P0004,Apples,-3,5,8,oversold\r\n");
  EXPECT_EQ(Report({"low-stock", "--store", "S001", "--format", "json"}),
            "[\n"
            "  {\"store_id\": \"S001\", \"store\": \"Boreal Downtown\", \"product_id\": "
            "\"P0001\", \"product\": \"Coffee, 1 kg\", \"quantity\": 5, \"reorder_point\": 10, "
            "\"shortfall\": 5, \"status\": \"low\"}\n"
            "]\n");
}

struct Filter {
  std::optional<std::string> from, to, store;
};

TEST_F(ReportTest, EveryReportEqualsAnIndependentComputationOnTheFacts) {
  const std::vector<Filter> filters = {
      {},
      {"2024-02-01", "2024-02-29", std::nullopt},
      {std::nullopt, std::nullopt, "S001"},
      {"2024-01-15", "2024-01-15", "S002"},
      {"2024-02-04", std::nullopt, std::nullopt},
      {std::nullopt, "2024-02-03", "S002"},
      {"2025-01-01", std::nullopt, std::nullopt},
  };
  for (const char* report : {"sales-by-store", "sales-by-day", "top-products", "hourly", "basket",
                             "payment-mix"}) {
    for (const Filter& filter : filters) {
      warehouse::ReportRequest request;
      request.name = report;
      if (filter.from) request.from = ParseDate(*filter.from);
      if (filter.to) request.to = ParseDate(*filter.to);
      request.store_id = filter.store;
      std::vector<std::optional<std::string>> params = {filter.from, filter.to, filter.store};
      if (std::string(report) == "top-products") {
        request.limit = 3;
        params.emplace_back("3");
      }
      auto table = warehouse::RunReport(db(), request);
      ASSERT_TRUE(table.ok()) << report << ": " << table.status().ToString();
      const std::string from_report = TableRows(*table);
      const std::string from_facts = Rows(FactsQuery(report), params);
      EXPECT_EQ(from_report, from_facts)
          << report << " from " << filter.from.value_or("-") << " to "
          << filter.to.value_or("-") << " store " << filter.store.value_or("-");
      if (filter.from == std::nullopt && filter.to == std::nullopt && filter.store == std::nullopt) {
        EXPECT_FALSE(from_report.empty()) << report;
      }
    }
  }
}

TEST_F(ReportTest, BadUsageExitsTwoWithOneLineOnStderr) {
  struct Case {
    std::vector<std::string> arguments;
    std::string error;
  };
  const std::vector<Case> cases = {
      {{"report", "sales-by-day", "--from", "2024-03-01", "--to", "2024-02-01"},
       "posflow report: error: --from 2024-03-01 is after --to 2024-02-01\n"},
      {{"report", "sales-by-day", "--from", "2024-02-30"},
       "posflow report: error: --from '2024-02-30' is not a date (YYYY-MM-DD)\n"},
      {{"report", "sales-by-day", "--to", "yesterday"},
       "posflow report: error: --to 'yesterday' is not a date (YYYY-MM-DD)\n"},
      {{"report", "sales-by-day", "--to", ""},
       "posflow report: error: --to '' is not a date (YYYY-MM-DD)\n"},
      {{"report", "hourly", "--store", "S999"},
       "posflow report: error: unknown store S999: dw.dim_store has 3 stores, S001 .. S003\n"},
      {{"report", "basket", "--limit", "5"},
       "posflow report: error: --limit applies to top-products only, not to basket\n"},
      {{"report", "top-products", "--limit", "0"},
       "posflow report: error: --limit must be 1..2147483647, not 0\n"},
      {{"report", "top-products", "--limit", "2147483648"},
       "posflow report: error: --limit must be 1..2147483647, not 2147483648\n"},
      {{"report", "top-products", "--store", ""},
       "posflow report: error: --store needs a store id (S001)\n"},
      {{"report", "low-stock", "--from", "2024-01-01"},
       "posflow report: error: low-stock shows the stock as it is now: --from/--to do not "
       "apply\n"},
  };
  for (const Case& usage : cases) {
    const PosflowRun run = Posflow(usage.arguments);
    EXPECT_EQ(run.exit_code, 2) << usage.error;
    EXPECT_EQ(run.err, usage.error);
    EXPECT_EQ(run.out, "");
  }
  for (const std::vector<std::string>& arguments :
       std::vector<std::vector<std::string>>{{"report", "sales"},
                                             {"report"},
                                             {"report", "basket", "--format", "xml"}}) {
    const PosflowRun run = Posflow(arguments);
    EXPECT_EQ(run.exit_code, 2) << run.err;
    EXPECT_EQ(std::count(run.err.begin(), run.err.end(), '\n'), 1) << run.err;
    EXPECT_EQ(run.out, "");
  }
}

TEST_F(ReportTest, UnmigratedDatabaseIsARuntimeFailureNamingTheReport) {
  Exec("drop schema dw cascade");
  const PosflowRun run = Posflow({"report", "sales-by-store"});
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_EQ(run.err.rfind("posflow report: error: report sales-by-store: ", 0), 0u) << run.err;
  EXPECT_EQ(std::count(run.err.begin(), run.err.end(), '\n'), 1) << run.err;
}

}  // namespace
}  // namespace posflow::testing
