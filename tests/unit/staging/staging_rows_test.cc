// The COPY rows ingest stages (staging/staging_rows.h): each line carries the running Σ
// line_total of its receipt, which the ETL's tax shares rely on. And the same rows from a
// MongoDB staging document (staging/mongo_document.h), or its refusal.

#include "staging/staging_rows.h"

#include <gtest/gtest.h>

#include <string>

#include "event/transaction.h"
#include "staging/mongo_document.h"

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

namespace posflow::staging {
namespace {

event::Transaction SampleReceipt() {
  event::Transaction transaction;
  transaction.transaction_id = "T-9";
  transaction.transaction_time = {.year = 2026, .month = 3, .day = 14, .hour = 9, .minute = 26,
                                  .second = 53, .microsecond = 589793, .utc_offset_minutes = -300};
  transaction.customer.customer_id = "C7";
  transaction.customer.first_name = "Ada";
  transaction.customer.email = "ada@example.com";
  transaction.store.store_id = "S001";
  transaction.store.name = "Boreal Market Centre";
  transaction.store.city = "Halifax";
  transaction.lines = {
      {.product_id = "P0001", .item = "Coffee", .unit_price_cents = 1250, .quantity = 2,
       .line_total_cents = 2500},
      {.product_id = "", .item = "Milk", .unit_price_cents = 349, .quantity = -1,
       .line_total_cents = -349}};
  transaction.subtotal_cents = 2151;
  transaction.tax_cents = 323;
  transaction.total_cents = 2474;
  transaction.payment_type = "Card";
  transaction.shape = event::Shape::kCamelCase;
  return transaction;
}

TEST(MongoDocument, ReadsBackTheTransactionItsCoordinatesAndIngestTimeExactly) {
  const event::Transaction transaction = SampleReceipt();
  const ValidMessage message{{"PointOfSale", 4, 1234567}, "S001", "{}", &transaction};
  StagedDocument document;
  ASSERT_TRUE(ParseStagedDocument(StagedDocumentBson(message, 1773480413123), &document).ok());
  EXPECT_EQ(document.transaction, transaction);
  EXPECT_EQ(document.topic, "PointOfSale");
  EXPECT_EQ(document.partition, 4);
  EXPECT_EQ(document.offset, 1234567);
  EXPECT_EQ(document.ingested_millis, 1773480413123);
}

TEST(MongoDocument, ExtraThatCannotBeFieldNamesTravelsAsTextUnchanged) {
  event::Transaction transaction = SampleReceipt();
  transaction.extra_json = R"({"$weird":1,"a.b":[true,null]})";
  const ValidMessage message{{"PointOfSale", 0, 1}, "S001", "{}", &transaction};
  const std::string bson = StagedDocumentBson(message, 0);
  EXPECT_EQ(StringField(bson, "extra_json"), transaction.extra_json);
  StagedDocument document;
  ASSERT_TRUE(ParseStagedDocument(bson, &document).ok());
  EXPECT_EQ(document.transaction.extra_json, transaction.extra_json);
  EXPECT_EQ(IntField(bson, "kafka.offset"), 1);
  EXPECT_EQ(IntField(bson, "kafka.topic"), std::nullopt);
}

TEST(MongoDocument, BatchRowsEqualTheRowsIngestStagesInPostgres) {
  const event::Transaction transaction = SampleReceipt();
  const ValidMessage message{{"PointOfSale", 4, 1234567}, "S001", "{}", &transaction};
  StagedDocument scratch;
  MongoBatch batch;
  AddDocumentToBatch(StagedDocumentBson(message, 1773480413123), "loading_1", 0, &scratch, &batch);
  std::string transaction_rows;
  std::string line_rows;
  pg::CopyWriter transaction_writer(&transaction_rows);
  pg::CopyWriter line_writer(&line_rows);
  AppendStagedTransactionRow(message, "2026-03-14 09:26:53.123+00", &transaction_writer);
  AppendStagedLineRows(message, &line_writer);
  EXPECT_EQ(batch.transaction_rows, transaction_rows);
  EXPECT_EQ(batch.line_rows, line_rows);
  EXPECT_EQ(batch.ids, std::vector<std::string>{"T-9"});
  EXPECT_TRUE(batch.refused.empty());
}

TEST(MongoDocument, DocumentNotInIngestsShapeIsRefusedAtItsPositionInTheSegment) {
  event::Transaction transaction = SampleReceipt();
  transaction.lines.clear();
  const ValidMessage message{{"PointOfSale", 4, 99}, "S001", "{}", &transaction};
  StagedDocument scratch;
  MongoBatch batch;
  AddDocumentToBatch(StagedDocumentBson(message, 0), "loading_7", 12, &scratch, &batch);
  EXPECT_TRUE(batch.transaction_rows.empty());
  ASSERT_EQ(batch.refused.size(), 1u);
  const MongoRefusedDocument& refused = batch.refused.front();
  EXPECT_EQ(refused.reason, "etl.refused:document");
  EXPECT_EQ(refused.topic, "mongodb:loading_7");
  EXPECT_EQ(refused.partition, -1);
  EXPECT_EQ(refused.offset, 12);
  EXPECT_EQ(refused.transaction_id, "T-9");
  EXPECT_NE(refused.document.find("\"T-9\""), std::string::npos) << refused.document;
  EXPECT_EQ(batch.ids, std::vector<std::string>{"T-9"});
}

TEST(MongoDocument, TextPostgresCannotStoreIsRefusedWithItsKafkaCoordinates) {
  event::Transaction transaction = SampleReceipt();
  transaction.store.city = "Halifax\xff";
  const ValidMessage message{{"PointOfSale", 4, 99}, "S001", "{}", &transaction};
  StagedDocument scratch;
  MongoBatch batch;
  AddDocumentToBatch(StagedDocumentBson(message, 0), "loading_7", 12, &scratch, &batch);
  EXPECT_TRUE(batch.transaction_rows.empty());
  ASSERT_EQ(batch.refused.size(), 1u);
  const MongoRefusedDocument& refused = batch.refused.front();
  EXPECT_EQ(refused.reason, "etl.refused:text");
  EXPECT_EQ(refused.topic, "PointOfSale");
  EXPECT_EQ(refused.partition, 4);
  EXPECT_EQ(refused.offset, 99);
  EXPECT_NE(refused.details.find("store.city"), std::string::npos) << refused.details;
}

}  // namespace
}  // namespace posflow::staging
