// The dashboard API's query strings (serve/request_params.h): decoding, and what
// /api/reports/<name> accepts and refuses, without a database.

#include "serve/request_params.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace posflow::serve {
namespace {

TEST(ParseQueryString, DecodesPercentEscapesAndPlusAsSpace) {
  auto params = ParseQueryString("from=2024-02-01&store=S%30%301&name=a+b%2Bc&flag&&empty=");
  ASSERT_TRUE(params.ok()) << params.status().ToString();
  EXPECT_EQ(params->at("from"), "2024-02-01");
  EXPECT_EQ(params->at("store"), "S001");
  EXPECT_EQ(params->at("name"), "a b+c");
  EXPECT_EQ(params->at("flag"), "");
  EXPECT_EQ(params->at("empty"), "");
  EXPECT_EQ(params->size(), 5u);
}

TEST(ParseQueryString, AcceptsAnEmptyQuery) {
  auto params = ParseQueryString("");
  ASSERT_TRUE(params.ok());
  EXPECT_TRUE(params->empty());
}

TEST(ParseQueryString, RejectsMalformedEscapesRepeatsBadUtf8AndOverlongQueries) {
  for (const std::string& query :
       std::vector<std::string>{"store=%", "store=%4", "store=%zz", "a=1&a=2", "store=%ff",
                                std::string(kMaxQueryBytes + 1, 'a')}) {
    auto params = ParseQueryString(query);
    EXPECT_EQ(params.status().code(), Status::Code::kInvalidArgument) << query.substr(0, 40);
  }
}

QueryParams Params(std::initializer_list<std::pair<const std::string, std::string>> values) {
  return QueryParams(values);
}

TEST(ReportRequestFromQuery, MapsFiltersAsPosflowReportDoes) {
  auto request = ReportRequestFromQuery(
      "top-products", Params({{"from", "2024-02-01"}, {"to", "2024-02-29"}, {"store", "S001"},
                              {"limit", "5"}}));
  ASSERT_TRUE(request.ok()) << request.status().ToString();
  EXPECT_EQ(request->name, "top-products");
  EXPECT_EQ(request->from, (CivilDate{2024, 2, 1}));
  EXPECT_EQ(request->to, (CivilDate{2024, 2, 29}));
  EXPECT_EQ(request->store_id, "S001");
  EXPECT_EQ(request->limit, 5);
  auto unfiltered = ReportRequestFromQuery("sales-by-day", {});
  ASSERT_TRUE(unfiltered.ok());
  EXPECT_FALSE(unfiltered->from || unfiltered->to || unfiltered->store_id || unfiltered->limit);
}

TEST(ReportRequestFromQuery, RejectsEveryBadParameterNamingIt) {
  struct Case {
    std::string report;
    QueryParams params;
    std::string message_part;
  };
  const Case cases[] = {
      {"sales", {}, "unknown report 'sales'; the reports are: sales-by-store"},
      {"hourly", Params({{"from", "2024-02-30"}}), "from='2024-02-30' is not a date"},
      {"hourly", Params({{"to", "yesterday"}}), "to='yesterday' is not a date"},
      {"hourly", Params({{"from", "1899-12-31"}}), "is not a date: YYYY-MM-DD, 1900..2999"},
      {"hourly", Params({{"from", "2024-03-01"}, {"to", "2024-02-01"}}),
       "from=2024-03-01 is after to=2024-02-01"},
      {"hourly", Params({{"store", ""}}), "store= needs a store id"},
      {"hourly", Params({{"store", std::string(kMaxStoreIdBytes + 1, 'S')}}), "over 64 bytes"},
      {"hourly", Params({{"store", "S0\x01"}}), "control character"},
      {"hourly", Params({{"store", "S0\x7f"}}), "control character"},
      {"hourly", Params({{"limit", "3"}}), "unknown parameter 'limit'"},
      {"hourly", Params({{"format", "csv"}}), "unknown parameter 'format'"},
      {"low-stock", Params({{"from", "2024-02-01"}}), "as it is now: from/to do not apply"},
      {"top-products", Params({{"limit", "0"}}), "limit='0' is not an integer in 1..1000"},
      {"top-products", Params({{"limit", "12x"}}), "is not an integer"},
      {"top-products", Params({{"limit", "99999999999999999999"}}), "is not an integer"},
  };
  for (const Case& bad : cases) {
    auto request = ReportRequestFromQuery(bad.report, bad.params);
    EXPECT_EQ(request.status().code(), Status::Code::kInvalidArgument) << bad.message_part;
    EXPECT_NE(request.status().message().find(bad.message_part), std::string::npos)
        << request.status().message();
  }
}

TEST(ReportRequestFromQuery, NeverEchoesControlCharactersInItsMessages) {
  auto request = ReportRequestFromQuery("hourly", Params({{"from", "2024\n-01\x1b[31m"}}));
  ASSERT_FALSE(request.ok());
  const std::string message = request.status().message();
  for (char c : message) EXPECT_FALSE(static_cast<unsigned char>(c) < 0x20) << message;
}

TEST(IntegerParam, GivesTheFallbackWhenAbsentAndChecksTheRange) {
  EXPECT_EQ(*IntegerParam({}, "limit", 1, 500, 50), 50);
  EXPECT_EQ(*IntegerParam(Params({{"limit", "500"}}), "limit", 1, 500, 50), 500);
  EXPECT_FALSE(IntegerParam(Params({{"limit", "501"}}), "limit", 1, 500, 50).ok());
  EXPECT_FALSE(IntegerParam(Params({{"limit", "-1"}}), "limit", 1, 500, 50).ok());
  EXPECT_FALSE(IntegerParam(Params({{"limit", ""}}), "limit", 1, 500, 50).ok());
}

}  // namespace
}  // namespace posflow::serve
