#pragma once

// Fixture of the report and inventory tests: this test's own database, migrated (no reference
// data, no topics), with a small hand-made warehouse (HandMadeWarehouseSql) whose every figure
// the tests know by heart; and a runner of the posflow binary that keeps stdout apart from
// stderr, so a report's output can be compared byte for byte.

#include <optional>
#include <string>
#include <vector>

#include "integration/stack_fixture.h"
#include "pg/connection.h"
#include "warehouse/report_format.h"

namespace posflow::testing {

// The hand-made warehouse, consistent throughout:
//   stores     S001 (two SCD2 versions: "Boreal Old Town" until 2024-02-01, then the current
//              "Boreal Downtown"), S002 (current name 'Boreal "Quai", Québec': a quote, a comma
//              and an accent), S003 "Boreal North" (no sales)
//   products   P0001 "Coffee, 1 kg", P0002 "Milk 2L", P0003 (versions "Bread", then the current
//              "Sourdough Bread"), P0004 "Apples"
//   payment    Cash, Credit Card, Debit Card
//   receipts   T1..T7 on 2024-01-15 (Mon), 2024-02-03 (Sat), 2024-02-04 (Sun, a return) and
//              2024-03-01 (Fri, in the default partition), 13 lines
//   aggregates the four dw.agg_* tables, derived from those facts as the ETL keeps them
//   inventory  S001/P0001 5 (reorder 10), S001/P0002 50 (10), S002/P0001 0 (2), S002/P0004 -3
//              (5), S003/P0002 10 (10), each with its `initial` movement
const std::string& HandMadeWarehouseSql();

struct PosflowRun {
  int exit_code = -1;
  std::string out;  // stdout
  std::string err;  // stderr
};

class ReportFixture : public StackTest {
 protected:
  void SetUp() override;

  pg::Connection& db() { return *connection_; }

  // Runs `sql` (one or more statements), failing the test on an error.
  void Exec(const std::string& sql);
  // Every row of `sql` with text `params`: cells joined by '|' (NULL as <null>), rows by '\n'.
  std::string Rows(const std::string& sql,
                   const std::vector<std::optional<std::string>>& params = {});

  // Runs `posflow <arguments> --db <this test's database>` to completion.
  PosflowRun Posflow(const std::vector<std::string>& arguments);

 private:
  std::optional<pg::Connection> connection_;
};

// The question of report `name` (all but low-stock) asked of the FACTS (dw.fact_transaction,
// dw.fact_sales_line and the dimensions), independently of the aggregates and of
// sql/reports/: the same columns and order. $1 from date, $2 to date, $3 store_id (each null
// for no filter), and for top-products $4 limit.
std::string FactsQuery(const std::string& name);

// A report's rows as QueryRows writes them.
std::string TableRows(const warehouse::ReportTable& table);

// Every row of `sql` with text `params`: cells joined by '|' (NULL as <null>), rows by '\n'.
// A failed query fails the test and gives "<error>".
std::string QueryRows(pg::Connection& connection, const std::string& sql,
                      const std::vector<std::optional<std::string>>& params = {});

// Quotes `text` for /bin/sh.
std::string ShellQuote(const std::string& text);

}  // namespace posflow::testing
