#include "warehouse/report.h"

#include <cstdint>
#include <string>
#include <utility>

#include "warehouse/dimension_lookup.h"
#include "warehouse/embedded_reports.h"

namespace posflow::warehouse {
namespace {

// The largest --limit: the query's $4 is an integer.
constexpr std::int64_t kMaxLimit = 2147483647;

// What a report's $1, $2, ... stand for, in order.
enum class Parameter { kFromDate, kToDate, kStoreId, kLimit };

struct ReportSpec {
  ReportInfo info;
  std::vector<Parameter> parameters;
  // The query's result columns, in order, with how to render them. RunReport checks the names
  // against the query's, so the SQL file and this table cannot drift apart unnoticed.
  std::vector<ReportColumn> columns;
};

ReportColumn Text(std::string name) { return {std::move(name), ColumnKind::kText, ""}; }
ReportColumn Integer(std::string name, std::string null_text = "") {
  return {std::move(name), ColumnKind::kInteger, std::move(null_text)};
}
ReportColumn Decimal(std::string name) { return {std::move(name), ColumnKind::kDecimal, ""}; }

const std::vector<Parameter> kDatesAndStore = {Parameter::kFromDate, Parameter::kToDate,
                                               Parameter::kStoreId};

const std::vector<ReportSpec>& Specs() {
  static const std::vector<ReportSpec> kSpecs = {
      {{"sales-by-store", "receipts, units, subtotal, tax, total and average receipt per store",
        true, false},
       kDatesAndStore,
       {Text("store_id"),
        Text("store"),
        Integer("transactions"),
        Integer("items"),
        Decimal("subtotal"),
        Decimal("tax"),
        Decimal("total"),
        Decimal("average_receipt")}},
      {{"sales-by-day", "the same per store-local day, with its weekday", true, false},
       kDatesAndStore,
       {Text("sale_date"),
        Text("weekday"),
        Integer("stores"),
        Integer("transactions"),
        Integer("items"),
        Decimal("subtotal"),
        Decimal("tax"),
        Decimal("total"),
        Decimal("average_receipt")}},
      {{"top-products", "the best products by revenue and their share of it (--limit)", true,
        true},
       {Parameter::kFromDate, Parameter::kToDate, Parameter::kStoreId, Parameter::kLimit},
       {Integer("rank"),
        Text("product_id"),
        Text("product"),
        Text("category"),
        Integer("quantity"),
        Decimal("revenue"),
        Decimal("revenue_pct")}},
      {{"hourly", "receipts, units and money per ISO weekday x store-local hour", true, false},
       kDatesAndStore,
       {Integer("iso_weekday"),
        Text("weekday"),
        Integer("hour"),
        Integer("transactions"),
        Integer("items"),
        Decimal("total"),
        Decimal("average_receipt")}},
      {{"basket", "receipts per basket size (lines), average receipt and units per receipt", true,
        false},
       kDatesAndStore,
       {Integer("basket_size", "all"),
        Integer("transactions"),
        Decimal("transactions_pct"),
        Decimal("total"),
        Decimal("average_receipt"),
        Decimal("average_items")}},
      {{"payment-mix", "share of receipts and of money per payment type", true, false},
       kDatesAndStore,
       {Text("payment_type"),
        Integer("transactions"),
        Decimal("transactions_pct"),
        Decimal("total"),
        Decimal("total_pct")}},
      {{"low-stock", "on-hand below the reorder point now; negative on-hand is \"oversold\"",
        false, false},
       {Parameter::kStoreId},
       {Text("store_id"),
        Text("store"),
        Text("product_id"),
        Text("product"),
        Integer("quantity"),
        Integer("reorder_point"),
        Integer("shortfall"),
        Text("status")}},
      {{"kpis",
        "receipts, units, total, average receipt and returns of the period and of the one "
        "before it",
        true, false},
       kDatesAndStore,
       {Text("period"),
        Text("first_date"),
        Text("last_date"),
        Integer("transactions"),
        Integer("items"),
        Decimal("total"),
        Decimal("average_receipt"),
        Integer("returned_items"),
        Decimal("returned_amount")}},
  };
  return kSpecs;
}

const ReportSpec* FindSpec(std::string_view name) {
  for (const ReportSpec& spec : Specs()) {
    if (spec.info.name == name) return &spec;
  }
  return nullptr;
}

std::string ReportNames() {
  std::string names;
  for (const ReportSpec& spec : Specs()) {
    names += (names.empty() ? "" : ", ") + std::string(spec.info.name);
  }
  return names;
}

std::optional<std::string> ParameterValue(Parameter parameter, const ReportRequest& request) {
  switch (parameter) {
    case Parameter::kFromDate:
      return request.from ? std::optional(FormatDate(*request.from)) : std::nullopt;
    case Parameter::kToDate:
      return request.to ? std::optional(FormatDate(*request.to)) : std::nullopt;
    case Parameter::kStoreId:
      return request.store_id;
    case Parameter::kLimit:
      return std::to_string(request.limit.value_or(kDefaultTopProductsLimit));
  }
  return std::nullopt;
}

}  // namespace

const std::vector<ReportInfo>& Reports() {
  static const std::vector<ReportInfo> kReports = [] {
    std::vector<ReportInfo> reports;
    for (const ReportSpec& spec : Specs()) reports.push_back(spec.info);
    return reports;
  }();
  return kReports;
}

std::optional<std::string_view> ReportSql(std::string_view name) {
  for (const EmbeddedReportSql& report : EmbeddedReports()) {
    if (report.name == name) return report.sql;
  }
  return std::nullopt;
}

Status ValidateReportRequest(const ReportRequest& request) {
  const ReportSpec* spec = FindSpec(request.name);
  if (spec == nullptr) {
    return Status::InvalidArgument("unknown report '" + request.name +
                                   "'; the reports are: " + ReportNames());
  }
  if (!spec->info.takes_dates && (request.from || request.to)) {
    return Status::InvalidArgument(request.name +
                                   " shows the stock as it is now: --from/--to do not apply");
  }
  if (request.from && request.to && *request.from > *request.to) {
    return Status::InvalidArgument("--from " + FormatDate(*request.from) + " is after --to " +
                                   FormatDate(*request.to));
  }
  if (request.limit && !spec->info.takes_limit) {
    return Status::InvalidArgument("--limit applies to top-products only, not to " +
                                   request.name);
  }
  if (request.limit && (*request.limit < 1 || *request.limit > kMaxLimit)) {
    return Status::InvalidArgument("--limit must be 1.." + std::to_string(kMaxLimit) + ", not " +
                                   std::to_string(*request.limit));
  }
  if (request.store_id && request.store_id->empty()) {
    return Status::InvalidArgument("--store needs a store id (S001)");
  }
  return Status::Ok();
}

Result<ReportTable> RunReport(pg::Connection& connection, const ReportRequest& request) {
  POSFLOW_RETURN_IF_ERROR(ValidateReportRequest(request));
  const ReportSpec& spec = *FindSpec(request.name);
  const std::optional<std::string_view> sql = ReportSql(request.name);
  if (!sql) {
    return Status::Internal("report " + request.name +
                            " has no query in this binary (sql/reports/" + request.name +
                            ".sql was not embedded)");
  }
  if (request.store_id) POSFLOW_RETURN_IF_ERROR(RequireKnownStore(connection, *request.store_id));

  std::vector<std::optional<std::string>> params;
  for (Parameter parameter : spec.parameters) params.push_back(ParameterValue(parameter, request));
  auto result = connection.Query(*sql, params);
  if (!result.ok()) return result.status().WithContext("report " + request.name);

  if (result->columns() != static_cast<int>(spec.columns.size())) {
    return Status::Internal("report " + request.name + ": its query returns " +
                            std::to_string(result->columns()) + " columns, this binary expects " +
                            std::to_string(spec.columns.size()));
  }
  for (int column_idx = 0; column_idx < result->columns(); ++column_idx) {
    const std::string& expected = spec.columns[static_cast<std::size_t>(column_idx)].name;
    if (result->ColumnName(column_idx) != expected) {
      return Status::Internal("report " + request.name + ": its query's column " +
                              std::to_string(column_idx + 1) + " is " +
                              std::string(result->ColumnName(column_idx)) +
                              ", this binary expects " + expected);
    }
  }

  ReportTable table;
  table.columns = spec.columns;
  table.rows.reserve(static_cast<std::size_t>(result->rows()));
  for (int row_idx = 0; row_idx < result->rows(); ++row_idx) {
    std::vector<ReportCell>& row = table.rows.emplace_back();
    row.reserve(spec.columns.size());
    for (int column_idx = 0; column_idx < result->columns(); ++column_idx) {
      if (result->IsNull(row_idx, column_idx)) {
        row.emplace_back(std::nullopt);
      } else {
        row.emplace_back(std::string(result->Get(row_idx, column_idx)));
      }
    }
  }
  return table;
}

}  // namespace posflow::warehouse
