// The report catalogue (warehouse/report.h) against the SQL compiled into the binary, and the
// checks of a request that need no database.

#include "warehouse/report.h"

#include <gtest/gtest.h>

#include <regex>
#include <set>
#include <string>

#include "warehouse/embedded_reports.h"

namespace posflow::warehouse {
namespace {

std::set<std::string> ParametersUsed(std::string_view sql, bool in_comments) {
  std::set<std::string> used;
  std::string text(sql);
  std::size_t line_start = 0;
  while (line_start < text.size()) {
    std::size_t line_end = text.find('\n', line_start);
    if (line_end == std::string::npos) line_end = text.size();
    const std::string line = text.substr(line_start, line_end - line_start);
    const bool is_comment = line.rfind("--", 0) == 0;
    if (is_comment == in_comments) {
      // The header documents each parameter on a line "--   $n type  meaning".
      const std::regex pattern(in_comments ? R"(^--\s+(\$[0-9]+)\s)" : R"((\$[0-9]+))");
      for (std::sregex_iterator match(line.begin(), line.end(), pattern), end; match != end;
           ++match) {
        used.insert((*match)[1]);
      }
    }
    line_start = line_end + 1;
  }
  return used;
}

TEST(Reports, EveryReportHasItsSqlFileAndEveryFileIsAReport) {
  std::set<std::string> listed;
  for (const ReportInfo& report : Reports()) {
    listed.emplace(report.name);
    EXPECT_TRUE(ReportSql(report.name).has_value()) << "no sql/reports/" << report.name << ".sql";
  }
  std::set<std::string> embedded;
  for (const EmbeddedReportSql& report : EmbeddedReports()) embedded.emplace(report.name);
  EXPECT_EQ(listed, embedded);
  EXPECT_EQ(listed, (std::set<std::string>{"sales-by-store", "sales-by-day", "top-products",
                                           "hourly", "basket", "payment-mix", "low-stock",
                                           "kpis"}));
}

TEST(Reports, EachSqlFileHeaderNamesItsReportAndDocumentsExactlyTheParametersItUses) {
  for (const EmbeddedReportSql& report : EmbeddedReports()) {
    const std::string header = "-- posflow report " + std::string(report.name) + ":";
    EXPECT_EQ(std::string(report.sql).rfind(header, 0), 0u) << report.name;
    EXPECT_NE(report.sql.find("psql "), std::string_view::npos)
        << report.name << ": the header says how to run it by hand";
    const std::set<std::string> documented = ParametersUsed(report.sql, /*in_comments=*/true);
    const std::set<std::string> used = ParametersUsed(report.sql, /*in_comments=*/false);
    EXPECT_EQ(documented, used) << report.name;
    // $1..$n without a gap: PostgreSQL cannot infer the type of a parameter no one uses.
    for (std::size_t n = 1; n <= used.size(); ++n) {
      EXPECT_TRUE(used.count("$" + std::to_string(n))) << report.name << " lacks $" << n;
    }
    const ReportInfo* info = nullptr;
    for (const ReportInfo& candidate : Reports()) {
      if (candidate.name == report.name) info = &candidate;
    }
    ASSERT_NE(info, nullptr);
    EXPECT_EQ(used.size(), (info->takes_dates ? 3u : 1u) + (info->takes_limit ? 1u : 0u))
        << report.name;
  }
}

ReportRequest Request(const std::string& name) {
  ReportRequest request;
  request.name = name;
  return request;
}

TEST(ValidateReportRequest, AcceptsEveryReportWithoutFilters) {
  for (const ReportInfo& report : Reports()) {
    EXPECT_TRUE(ValidateReportRequest(Request(std::string(report.name))).ok()) << report.name;
  }
}

TEST(ValidateReportRequest, RejectsAnUnknownReportListingTheKnownOnes) {
  const Status status = ValidateReportRequest(Request("sales"));
  EXPECT_EQ(status.code(), Status::Code::kInvalidArgument);
  EXPECT_NE(status.message().find("sales-by-store, sales-by-day"), std::string::npos)
      << status.message();
}

TEST(ValidateReportRequest, RejectsAReversedDateRangeButAcceptsOneDay) {
  ReportRequest request = Request("sales-by-day");
  request.from = CivilDate{2024, 3, 1};
  request.to = CivilDate{2024, 2, 29};
  const Status status = ValidateReportRequest(request);
  EXPECT_EQ(status.code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(status.message(), "--from 2024-03-01 is after --to 2024-02-29");
  request.to = CivilDate{2024, 3, 1};
  EXPECT_TRUE(ValidateReportRequest(request).ok());
}

TEST(ValidateReportRequest, RejectsDatesForLowStockWhichShowsTheStockNow) {
  ReportRequest request = Request("low-stock");
  request.from = CivilDate{2024, 3, 1};
  EXPECT_EQ(ValidateReportRequest(request).code(), Status::Code::kInvalidArgument);
  request.from.reset();
  request.store_id = "S001";
  EXPECT_TRUE(ValidateReportRequest(request).ok());
}

TEST(ValidateReportRequest, AcceptsALimitForTopProductsOnlyAndAtLeastOne) {
  ReportRequest request = Request("top-products");
  request.limit = 1;
  EXPECT_TRUE(ValidateReportRequest(request).ok());
  request.limit = 0;
  EXPECT_EQ(ValidateReportRequest(request).code(), Status::Code::kInvalidArgument);
  request = Request("basket");
  request.limit = 5;
  EXPECT_EQ(ValidateReportRequest(request).code(), Status::Code::kInvalidArgument);
}

TEST(ValidateReportRequest, RejectsAnEmptyStore) {
  ReportRequest request = Request("hourly");
  request.store_id = "";
  EXPECT_EQ(ValidateReportRequest(request).code(), Status::Code::kInvalidArgument);
}

}  // namespace
}  // namespace posflow::warehouse
