#pragma once

// The report queries of sql/reports/, compiled into the binary by cmake/EmbedReports.cmake,
// sorted by file name. warehouse/report.h is what runs them.

#include <string_view>
#include <vector>

namespace posflow::warehouse {

struct EmbeddedReportSql {
  std::string_view name;  // "sales-by-store", from sql/reports/sales-by-store.sql
  std::string_view sql;   // the file's text: one statement with $n parameters
};

const std::vector<EmbeddedReportSql>& EmbeddedReports();

}  // namespace posflow::warehouse
