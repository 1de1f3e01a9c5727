#include "warehouse/report_format.h"

#include <gtest/gtest.h>

#include <string>

namespace posflow::warehouse {
namespace {

ReportTable SalesTable() {
  ReportTable table;
  table.columns = {{"store_id", ColumnKind::kText, ""},
                   {"store", ColumnKind::kText, ""},
                   {"transactions", ColumnKind::kInteger, ""},
                   {"total", ColumnKind::kDecimal, ""}};
  table.rows = {{"S001", "Boreal Downtown", "4", "90.49"},
                {"S002", "Boreal \"Quai\", Québec", "3", "-21.40"},
                {"S003", std::nullopt, "12", "1234567890123.05"}};
  return table;
}

TEST(FormatAsTable, AlignsTextLeftAndNumbersRightUnderARule) {
  EXPECT_EQ(FormatAsTable(SalesTable()),
            "store_id  store                  transactions             total\n"
            "--------  ---------------------  ------------  ----------------\n"
            "S001      Boreal Downtown                   4             90.49\n"
            "S002      Boreal \"Quai\", Québec             3            -21.40\n"
            "S003                                       12  1234567890123.05\n");
}

TEST(FormatAsTable, CountsUtf8CodePointsNotBytesForWidth) {
  ReportTable table;
  table.columns = {{"name", ColumnKind::kText, ""}, {"n", ColumnKind::kInteger, ""}};
  table.rows = {{"Québec", "1"}, {"Quebec", "22"}};
  EXPECT_EQ(FormatAsTable(table),
            "name     n\n"
            "------  --\n"
            "Québec   1\n"
            "Quebec  22\n");
}

TEST(FormatAsTable, DropsTrailingBlanksAndSaysWhenThereAreNoRows) {
  ReportTable table;
  table.columns = {{"quantity", ColumnKind::kInteger, ""}, {"status", ColumnKind::kText, ""}};
  EXPECT_EQ(FormatAsTable(table), "quantity  status\n--------  ------\n(no rows)\n");
  table.rows = {{"5", "ok"}, {"-3", "oversold"}};
  EXPECT_EQ(FormatAsTable(table),
            "quantity  status\n"
            "--------  --------\n"
            "       5  ok\n"
            "      -3  oversold\n");
}

TEST(FormatAsTable, ShowsANullCellAsItsColumnsNullText) {
  ReportTable table;
  table.columns = {{"basket_size", ColumnKind::kInteger, "all"},
                   {"transactions", ColumnKind::kInteger, ""}};
  table.rows = {{"1", "3"}, {std::nullopt, "7"}};
  EXPECT_EQ(FormatAsTable(table),
            "basket_size  transactions\n"
            "-----------  ------------\n"
            "          1             3\n"
            "        all             7\n");
  EXPECT_EQ(FormatAsCsv(table), "basket_size,transactions\r\n1,3\r\nall,7\r\n");
  EXPECT_EQ(FormatAsJson(table),
            "[\n  {\"basket_size\": 1, \"transactions\": 3},\n"
            "  {\"basket_size\": null, \"transactions\": 7}\n]\n");
}

TEST(FormatAsCsv, FollowsRfc4180QuotingAndCrlfLineEnds) {
  EXPECT_EQ(FormatAsCsv(SalesTable()),
            "store_id,store,transactions,total\r\n"
            "S001,Boreal Downtown,4,90.49\r\n"
            "S002,\"Boreal \"\"Quai\"\", Québec\",3,-21.40\r\n"
            "S003,,12,1234567890123.05\r\n");
}

TEST(FormatAsCsv, QuotesFieldsWithLineBreaks) {
  ReportTable table;
  table.columns = {{"note", ColumnKind::kText, ""}};
  table.rows = {{"two\nlines"}, {"cr\rhere"}, {"plain"}};
  EXPECT_EQ(FormatAsCsv(table), "note\r\n\"two\nlines\"\r\n\"cr\rhere\"\r\nplain\r\n");
}

TEST(FormatAsCsv, NeutralisesTextCellsThatASpreadsheetWouldReadAsFormulas) {
  ReportTable table;
  table.columns = {{"store", ColumnKind::kText, ""}};
  table.rows = {{"=HYPERLINK(\"http://x\",\"y\")"}, {"+1+1"}, {"-2+3"}, {"@SUM(A1)"},
                {"\tindent"}, {"\rcr"}, {"-21.40"}, {"Boreal = fine"}, {"'quoted"}};
  EXPECT_EQ(FormatAsCsv(table),
            "store\r\n"
            "\"'=HYPERLINK(\"\"http://x\"\",\"\"y\"\")\"\r\n"
            "\"'+1+1\"\r\n"
            "\"'-2+3\"\r\n"
            "\"'@SUM(A1)\"\r\n"
            "\"'\tindent\"\r\n"
            "\"'\rcr\"\r\n"
            "\"'-21.40\"\r\n"  // text column: even a number-looking cell is guarded
            "Boreal = fine\r\n"
            "'quoted\r\n");
}

TEST(FormatAsCsv, KeepsNegativeNumbersInNumberColumnsAsNumbers) {
  ReportTable table;
  table.columns = {{"quantity", ColumnKind::kInteger, ""}, {"total", ColumnKind::kDecimal, ""}};
  table.rows = {{"-3", "-21.40"}, {"-0", "-1e5"}, {"-1+1", "=1"}, {"+5", "@x"}};
  EXPECT_EQ(FormatAsCsv(table),
            "quantity,total\r\n"
            "-3,-21.40\r\n"
            "-0,-1e5\r\n"
            "\"'-1+1\",\"'=1\"\r\n"  // not numbers: guarded like text
            "\"'+5\",\"'@x\"\r\n");
}

TEST(FormatAsTable, EscapesControlCharactersSoANameCannotDriveTheTerminal) {
  ReportTable table;
  table.columns = {{"store", ColumnKind::kText, ""}, {"n", ColumnKind::kInteger, ""}};
  table.rows = {{"Evil\x1b[2J\xc2\x9b" "31m", "1"}, {"Nice", "2"}};
  EXPECT_EQ(FormatAsTable(table),
            "store                   n\n"
            "----------------------  -\n"
            "Evil\\x1b[2J\\xc2\\x9b31m  1\n"
            "Nice                    2\n");
}

TEST(FormatAsJson, WritesNumbersAsNumbersWithTheirDecimalsAndTextAsStrings) {
  EXPECT_EQ(FormatAsJson(SalesTable()),
            "[\n"
            "  {\"store_id\": \"S001\", \"store\": \"Boreal Downtown\", \"transactions\": 4, "
            "\"total\": 90.49},\n"
            "  {\"store_id\": \"S002\", \"store\": \"Boreal \\\"Quai\\\", Québec\", "
            "\"transactions\": 3, \"total\": -21.40},\n"
            "  {\"store_id\": \"S003\", \"store\": null, \"transactions\": 12, "
            "\"total\": 1234567890123.05}\n"
            "]\n");
}

TEST(FormatAsJson, WritesAnEmptyArrayForNoRows) {
  ReportTable table;
  table.columns = {{"a", ColumnKind::kText, ""}};
  EXPECT_EQ(FormatAsJson(table), "[]\n");
}

TEST(FormatAsJson, WritesANumberCellThatIsNotAJsonNumberAsAString) {
  ReportTable table;
  table.columns = {{"x", ColumnKind::kDecimal, ""}};
  table.rows = {{"NaN"}, {"12.50"}};
  EXPECT_EQ(FormatAsJson(table), "[\n  {\"x\": \"NaN\"},\n  {\"x\": 12.50}\n]\n");
}

TEST(FormatAsJson, EscapesControlCharactersInText) {
  ReportTable table;
  table.columns = {{"note", ColumnKind::kText, ""}};
  table.rows = {{std::string("tab\there\x01", 9)}};
  EXPECT_EQ(FormatAsJson(table), "[\n  {\"note\": \"tab\\there\\u0001\"}\n]\n");
}

TEST(IsJsonNumber, AcceptsJsonsGrammarOnly) {
  for (const char* number : {"0", "-0", "12", "-3.94", "0.50", "1e5", "1.5E-3", "2e+10"}) {
    EXPECT_TRUE(IsJsonNumber(number)) << number;
  }
  for (const char* text : {"", "-", "01", "1.", ".5", "+1", "1e", "NaN", "Infinity", "1 ", "0x1"}) {
    EXPECT_FALSE(IsJsonNumber(text)) << text;
  }
}

TEST(ParseOutputFormat, KnowsTableCsvAndJson) {
  EXPECT_EQ(ParseOutputFormat("table"), OutputFormat::kTable);
  EXPECT_EQ(ParseOutputFormat("csv"), OutputFormat::kCsv);
  EXPECT_EQ(ParseOutputFormat("json"), OutputFormat::kJson);
  EXPECT_FALSE(ParseOutputFormat("xml"));
  EXPECT_FALSE(ParseOutputFormat("JSON"));
}

TEST(FormatReport, PicksTheRenderingOfTheFormat) {
  const ReportTable table = SalesTable();
  EXPECT_EQ(FormatReport(table, OutputFormat::kTable), FormatAsTable(table));
  EXPECT_EQ(FormatReport(table, OutputFormat::kCsv), FormatAsCsv(table));
  EXPECT_EQ(FormatReport(table, OutputFormat::kJson), FormatAsJson(table));
}

}  // namespace
}  // namespace posflow::warehouse
