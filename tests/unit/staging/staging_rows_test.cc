// The COPY rows ingest stages (staging/staging_rows.h): each line carries the running Σ
// line_total of its receipt, which the ETL's tax shares rely on.

#include "staging/staging_rows.h"

#include <gtest/gtest.h>

#include <string>

#include "event/transaction.h"

namespace posflow::staging {
namespace {

TEST(StagedLineRows, EachLineCarriesTheRunningTotalOfItsReceiptReturnsIncluded) {
  event::Transaction transaction;
  transaction.transaction_id = "T-1";
  transaction.lines = {
      {.product_id = "P0001", .item = "Coffee", .unit_price_cents = 1250, .quantity = 2,
       .line_total_cents = 2500},
      {.product_id = "", .item = "Milk\t2L", .unit_price_cents = 349, .quantity = -1,
       .line_total_cents = -349},
      {.product_id = "P0004", .item = "Apples", .unit_price_cents = 99, .quantity = 3,
       .line_total_cents = 297},
  };
  ValidMessage message;
  message.transaction = &transaction;
  std::string buffer;
  pg::CopyWriter writer(&buffer);
  AppendStagedLineRows(message, &writer);
  EXPECT_EQ(buffer,
            "T-1\t1\tP0001\tCoffee\t12.50\t2\t25.00\t25.00\n"
            "T-1\t2\t\\N\tMilk\\t2L\t3.49\t-1\t-3.49\t21.51\n"
            "T-1\t3\tP0004\tApples\t0.99\t3\t2.97\t24.48\n");
}

TEST(StagedLineRows, ColumnListNamesTheRunningTotalLast) {
  const std::string columns = kStagedLineColumns;
  EXPECT_EQ(columns.substr(columns.rfind(' ') + 1), "running_line_total");
}

}  // namespace
}  // namespace posflow::staging

namespace posflow::pg {
namespace {

// Regression: a NUL was written as "\0", which COPY reads together with the octal digits that
// follow ("P\0" "1" became the byte 0x01): a row silently altered instead of refused.
TEST(CopyWriter, WritesNulAsThreeOctalDigitsSoThatNoFollowingDigitJoinsIt) {
  std::string buffer;
  CopyWriter row(&buffer);
  row.Text(std::string("P\0" "12", 4));
  row.TextArray({std::string_view("a\0" "7", 3)});
  row.EndRow();
  EXPECT_EQ(buffer, std::string("P\\00012\t{\"a\\0007\"}\n"));
}

TEST(CopyWriter, EscapesEveryCopyTextSpecialInTextAndArrays) {
  std::string buffer;
  CopyWriter row(&buffer);
  row.Text("a\\b\tc\nd\re");
  row.TextArray({"x\ty\nz\rw\"v\\u"});
  row.EndRow();
  EXPECT_EQ(buffer, "a\\\\b\\tc\\nd\\re\t{\"x\\ty\\nz\\rw\\\\\"v\\\\\\\\u\"}\n");
}

}  // namespace
}  // namespace posflow::pg
