#pragma once

// `posflow report NAME`: the warehouse's questions, each answered by ONE SQL query of
// sql/reports/<NAME>.sql (compiled into the binary; each file's header says what it answers and
// how to run it by hand in psql). The reports read the aggregates the ETL keeps beside the facts
// (basket reads dw.fact_transaction, low-stock inventory.on_hand). Figures travel as PostgreSQL's
// text, never through a double, so money is exact to the cent.
//
//   sales-by-store  receipts, units, subtotal, tax, total, average receipt per store
//   sales-by-day    the same per store-local day
//   top-products    the best products by revenue, with their share (--limit, default 10)
//   hourly          receipts and money per ISO weekday x store-local hour
//   basket          the distribution of lines per receipt, average receipt and units
//   payment-mix     share of receipts and of money per payment type
//   low-stock       on-hand below the reorder point; negative on-hand flagged "oversold"
//   kpis            receipts, units, total, average receipt and returns of the period, and of
//                   the previous period of equal length (the dashboard's tiles)

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/civil_time.h"
#include "common/status.h"
#include "pg/connection.h"
#include "warehouse/report_format.h"

namespace posflow::warehouse {

struct ReportInfo {
  std::string_view name;     // "sales-by-store"
  std::string_view summary;  // one line, for --help
  bool takes_dates = true;   // whether --from/--to apply
  bool takes_limit = false;  // whether --limit applies
};

// Every report, in the order of the list above.
const std::vector<ReportInfo>& Reports();

// The query of report `name` (the text of sql/reports/<name>.sql), or nullopt.
std::optional<std::string_view> ReportSql(std::string_view name);

// The top-products default of --limit.
inline constexpr std::int64_t kDefaultTopProductsLimit = 10;

struct ReportRequest {
  // One of Reports(). Required.
  std::string name;
  // Store-local sale dates, inclusive; nullopt: unbounded. Not for low-stock.
  std::optional<CivilDate> from;
  std::optional<CivilDate> to;
  // Only this store (natural key, S001); nullopt: all stores.
  std::optional<std::string> store_id;
  // top-products only: how many, 1..2147483647; nullopt: kDefaultTopProductsLimit.
  std::optional<std::int64_t> limit;
};

// Checks `request` without I/O. Failure: InvalidArgument (an unknown report, a reversed date
// range, dates for low-stock, a limit for another report than top-products or out of range, an
// empty store id).
Status ValidateReportRequest(const ReportRequest& request);

// Validates `request`, checks that its store exists (dw.dim_store) and runs the report's query
// on `connection` (one statement, so one snapshot). The table's columns are the query's, typed
// for rendering; basket's all-receipts row shows "all" for its NULL basket_size.
// Failure: InvalidArgument for a bad request or an unknown store (one line, exit code 2);
// Internal when the query's columns are not those this binary expects; the server's error
// otherwise (e.g. the schema is not migrated: run posflow init).
Result<ReportTable> RunReport(pg::Connection& connection, const ReportRequest& request);

}  // namespace posflow::warehouse
