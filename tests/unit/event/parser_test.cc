#include "event/parser.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace posflow::event {
namespace {

// The seed's files: ../shared/seed beside the checkout, or POSFLOW_SEED_DIR.
std::string SeedDir() {
  const char* dir = std::getenv("POSFLOW_SEED_DIR");
  return dir != nullptr && *dir != '\0' ? dir : POSFLOW_SEED_DIR;
}

std::string ReadSeedMessage(const std::string& name) {
  std::ifstream in(SeedDir() + "/example-messages/" + name);
  EXPECT_TRUE(in) << "cannot read the seed's " << name << " under " << SeedDir()
                  << " (set POSFLOW_SEED_DIR to the seed folder)";
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// A valid message in the seed producer's shape; tests edit it with Replace().
const char* kValid = R"({
  "transaction_id": "t-1",
  "transaction_date": "2026-11-20 18:05:00",
  "customer": {"customer_id": "C00042", "first_name": "Ana", "last_name": "Roy",
               "email": "ana@example.org", "street": "1 Rue", "city": "Laval",
               "province": "Quebec", "postal_code": "H7A 1A1"},
  "items": [
    {"product_id": "P0001", "item": "Apples", "price": 2.5, "quantity": 2, "total_price": 5.0},
    {"item": "Bread", "price": 3.25, "quantity": 1, "total_price": 3.25}
  ],
  "subtotal": 8.25,
  "tax": 1.24,
  "total": 9.49,
  "payment_type": "Cash",
  "location": {"store_id": "S001", "name": "Market", "address": "5 Main", "city": "Laval",
               "province": "Quebec", "postal_code": "H7A 2B2"}
})";

std::string Replace(std::string text, const std::string& from, const std::string& to) {
  const size_t at = text.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  if (at != std::string::npos) text.replace(at, from.size(), to);
  return text;
}

class ParserTest : public ::testing::Test {
 protected:
  // The codes of the problems found in `message` (empty when valid).
  std::vector<std::string> Codes(const std::string& message) {
    const bool valid = parser_.Parse(message, &transaction_, &problems_);
    std::vector<std::string> codes;
    for (const Problem& problem : problems_) {
      codes.push_back(problem.code);
      EXPECT_FALSE(problem.message.empty()) << problem.code;
    }
    EXPECT_EQ(valid, codes.empty());
    return codes;
  }
  std::vector<std::string> One(const std::string& code) { return {code}; }

  Parser parser_;
  Transaction transaction_;
  std::vector<Problem> problems_;
};

TEST_F(ParserTest, AcceptsSeedProducerShape) {
  ASSERT_EQ(Codes(kValid), std::vector<std::string>{});
  EXPECT_EQ(transaction_.shape, Shape::kSeedProducer);
  EXPECT_EQ(transaction_.transaction_id, "t-1");
  EXPECT_EQ(FormatSeedDateTime(transaction_.transaction_time), "2026-11-20 18:05:00");
  EXPECT_EQ(transaction_.customer.customer_id, "C00042");
  EXPECT_EQ(transaction_.customer.postal_code, "H7A 1A1");
  ASSERT_EQ(transaction_.lines.size(), 2u);
  EXPECT_EQ(transaction_.lines[0].product_id, "P0001");
  EXPECT_EQ(transaction_.lines[0].unit_price_cents, 250);
  EXPECT_EQ(transaction_.lines[0].quantity, 2);
  EXPECT_EQ(transaction_.lines[1].line_total_cents, 325);
  EXPECT_EQ(transaction_.lines[1].product_id, "");
  EXPECT_EQ(transaction_.subtotal_cents, 825);
  EXPECT_EQ(transaction_.tax_cents, 124);
  EXPECT_EQ(transaction_.total_cents, 949);
  EXPECT_EQ(transaction_.payment_type, "Cash");
  EXPECT_EQ(transaction_.store.store_id, "S001");
  EXPECT_EQ(transaction_.store.postal_code, "H7A 2B2");
  EXPECT_EQ(transaction_.extra_json, "{}");
}

TEST_F(ParserTest, AcceptsEveryFlattenedSeedExample) {
  for (const char* name : {"pos_example.json", "pos_example_2.json", "pos_example_3.json"}) {
    EXPECT_EQ(Codes(ReadSeedMessage(name)), std::vector<std::string>{}) << name;
    EXPECT_EQ(transaction_.shape, Shape::kFlattened) << name;
    EXPECT_FALSE(transaction_.customer.customer_id.empty()) << name;
    EXPECT_FALSE(transaction_.store.store_id.empty()) << name;
  }
}

TEST_F(ParserTest, ReadsFlattenedExampleExactly) {
  ASSERT_EQ(Codes(ReadSeedMessage("pos_example.json")), std::vector<std::string>{});
  EXPECT_EQ(transaction_.transaction_id, "02c4bce7-b41a-4bd2-af6f-bbde6a50fa1c");
  EXPECT_EQ(transaction_.customer.customer_id, "CUST009");
  EXPECT_EQ(transaction_.customer.first_name, "Ethan");
  EXPECT_EQ(transaction_.customer.street, "789 Oakwood Lane");
  EXPECT_EQ(transaction_.lines.size(), 16u);
  EXPECT_EQ(transaction_.lines[14].unit_price_cents, 175);  // Tomatoes 1.75
  EXPECT_EQ(transaction_.lines[14].line_total_cents, 525);
  EXPECT_EQ(transaction_.subtotal_cents, 10435);
  EXPECT_EQ(transaction_.tax_cents, 1252);
  EXPECT_EQ(transaction_.total_cents, 11687);
  EXPECT_EQ(transaction_.store.store_id, "STORE002");
  EXPECT_EQ(transaction_.store.city, "Vancouver");
}

TEST_F(ParserTest, AcceptsCamelCaseExample) {
  ASSERT_EQ(Codes(ReadSeedMessage("point_of_sale_example.json")), std::vector<std::string>{});
  EXPECT_EQ(transaction_.shape, Shape::kCamelCase);
  EXPECT_EQ(transaction_.transaction_id, "123456789");
  EXPECT_EQ(FormatIsoDateTime(transaction_.transaction_time), "2024-01-30T12:34:56Z");
  EXPECT_EQ(transaction_.customer.customer_id, "CUST123");
  EXPECT_EQ(transaction_.customer.first_name, "John");
  EXPECT_EQ(transaction_.customer.last_name, "Doe");
  ASSERT_EQ(transaction_.lines.size(), 2u);
  EXPECT_EQ(transaction_.lines[0].product_id, "PROD001");
  EXPECT_EQ(transaction_.lines[0].item, "Product A");
  EXPECT_EQ(transaction_.lines[0].unit_price_cents, 1999);
  EXPECT_EQ(transaction_.lines[0].line_total_cents, 3998);
  EXPECT_EQ(transaction_.total_cents, 7557);
  EXPECT_EQ(transaction_.payment_type, "Credit Card");
  EXPECT_EQ(transaction_.store.store_id, "STORE123");
  EXPECT_EQ(transaction_.store.name, "ABC Mart");
  EXPECT_EQ(transaction_.extra_json, R"({"paymentStatus":"Approved"})");
}

TEST_F(ParserTest, KeepsUnknownFieldsVerbatim) {
  std::string message = Replace(kValid, R"("payment_type": "Cash",)",
                                R"("payment_type": "Cash", "schema_version": 1,
                                   "loyalty": {"tier": "gold", "points": [1, 2.5, null]},
                                   "note": "a \"quoted\" word", "flag": true,)");
  message = Replace(message, R"("store_id": "S001",)", R"("store_id": "S001", "lane": 4,)");
  ASSERT_EQ(Codes(message), std::vector<std::string>{});
  EXPECT_EQ(transaction_.extra_json,
            R"({"schema_version":1,"loyalty":{"tier": "gold", "points": [1, 2.5, null]},)"
            R"("note":"a \"quoted\" word","flag":true,"location.lane":4})");
}

TEST_F(ParserTest, AnonymousWhenCustomerIsNullOrAbsent) {
  const size_t begin = std::string(kValid).find("\"customer\"");
  const size_t end = std::string(kValid).find("\"items\"");
  std::string without = std::string(kValid).erase(begin, end - begin);
  ASSERT_EQ(Codes(without), std::vector<std::string>{});
  EXPECT_TRUE(transaction_.customer.anonymous());
  std::string with_null = std::string(kValid).replace(begin, end - begin, "\"customer\": null, ");
  ASSERT_EQ(Codes(with_null), std::vector<std::string>{});
  EXPECT_TRUE(transaction_.customer.anonymous());
}

TEST_F(ParserTest, RoundTripsThroughSeedJson) {
  ASSERT_EQ(Codes(std::string(kValid)), std::vector<std::string>{});
  Transaction original = transaction_;
  original.extra_json = R"({"schema_version":1})";
  std::string json;
  AppendSeedJson(original, &json);
  ASSERT_EQ(Codes(json), std::vector<std::string>{}) << json;
  EXPECT_EQ(transaction_.customer, original.customer);
  EXPECT_EQ(transaction_.store, original.store);
  EXPECT_EQ(transaction_.lines, original.lines);
  EXPECT_EQ(transaction_.transaction_time, original.transaction_time);
  EXPECT_EQ(transaction_.extra_json, original.extra_json);
  EXPECT_EQ(transaction_, original);
}

TEST_F(ParserTest, ReusedParserForgetsThePreviousMessage) {
  ASSERT_EQ(Codes(ReadSeedMessage("pos_example.json")), std::vector<std::string>{});
  ASSERT_EQ(Codes(kValid), std::vector<std::string>{});
  EXPECT_EQ(transaction_.lines.size(), 2u);
  EXPECT_EQ(transaction_.customer.street, "1 Rue");
}

// --- rejections, each rule with a failing case; passing cases sit beside where useful ---

TEST_F(ParserTest, RejectsNotJson) {
  EXPECT_EQ(Codes("this is not json"), One("json.syntax"));
  EXPECT_EQ(Codes(""), One("json.syntax"));
  EXPECT_EQ(Codes(R"({"transaction_id": "x",)"), One("json.syntax"));
  EXPECT_EQ(Codes(std::string(kValid) + " {}"), One("json.syntax"));
  EXPECT_EQ(Codes(Replace(kValid, R"("payment_type": "Cash",)",
                          R"("payment_type": "Cash", "x": tru,)")),
            One("json.syntax"));
  EXPECT_EQ(Codes(Replace(kValid, R"("payment_type": "Cash",)",
                          R"("payment_type": "Cash", "x": [1, 2,],)")),
            One("json.syntax"));
}

TEST_F(ParserTest, RejectsJsonThatIsNotAnObject) {
  EXPECT_EQ(Codes("[1, 2]"), One("json.not_object"));
  EXPECT_EQ(Codes("42"), One("json.not_object"));
  EXPECT_EQ(Codes("\"text\""), One("json.not_object"));
}

TEST_F(ParserTest, RejectsEachMissingRequiredField) {
  const std::vector<std::pair<std::string, std::string>> fields = {
      {R"("transaction_id": "t-1",)", "field.missing:transaction_id"},
      {R"("transaction_date": "2026-11-20 18:05:00",)", "field.missing:transaction_date"},
      {R"("tax": 1.24,)", "field.missing:tax"},
      {R"("payment_type": "Cash",)", "field.missing:payment_type"},
      {R"("store_id": "S001",)", "field.missing:location.store_id"},
  };
  for (const auto& [field, code] : fields) {
    std::vector<std::string> codes = Codes(Replace(kValid, field, ""));
    EXPECT_EQ(codes, One(code)) << field;
  }
  // Fields whose removal also removes what others are checked against.
  EXPECT_EQ(Codes(Replace(kValid, R"("total": 9.49,)", "")), One("field.missing:total"));
  std::string no_subtotal = Replace(kValid, R"("subtotal": 8.25,)", "");
  EXPECT_EQ(Codes(no_subtotal), One("field.missing:subtotal"));
  std::string no_location = std::string(kValid);
  no_location.erase(no_location.find(",\n  \"location\""));
  no_location += "}";
  EXPECT_EQ(Codes(no_location), One("field.missing:location"));
  std::string null_id = Replace(kValid, R"("transaction_id": "t-1")", R"("transaction_id": null)");
  EXPECT_EQ(Codes(null_id), One("field.missing:transaction_id"));
}

TEST_F(ParserTest, RejectsMissingItems) {
  const size_t begin = std::string(kValid).find("\"items\"");
  const size_t end = std::string(kValid).find("\"subtotal\"");
  std::string message = std::string(kValid).erase(begin, end - begin);
  EXPECT_EQ(Codes(message), One("field.missing:items"));
}

TEST_F(ParserTest, RejectsMissingLineFields) {
  EXPECT_EQ(Codes(Replace(kValid, R"("item": "Bread", )", "")),
            One("field.missing:items[1].item"));
  EXPECT_EQ(Codes(Replace(kValid, R"("price": 3.25, )", "")),
            One("field.missing:items[1].price"));
  EXPECT_EQ(Codes(Replace(kValid, R"("quantity": 1, )", "")),
            One("field.missing:items[1].quantity"));
}

TEST_F(ParserTest, RejectsIllTypedFields) {
  EXPECT_EQ(Codes(Replace(kValid, R"("total": 9.49)", R"("total": "9.49")")),
            One("field.type:total"));
  EXPECT_EQ(Codes(Replace(kValid, R"("transaction_id": "t-1")", R"("transaction_id": 17)")),
            One("field.type:transaction_id"));
  EXPECT_EQ(Codes(Replace(kValid, R"("quantity": 1,)", R"("quantity": "1",)")),
            One("field.type:items[1].quantity"));
  EXPECT_EQ(Codes(Replace(kValid, R"("quantity": 1,)", R"("quantity": 1.5,)")),
            One("field.type:items[1].quantity"));
  EXPECT_EQ(Codes(Replace(kValid, R"("location": {)", R"("location": [], "x": {)")),
            One("field.type:location"));
  EXPECT_EQ(Codes(Replace(kValid, R"("customer": {)", R"("customer": 7, "x": {)")),
            One("field.type:customer"));
  EXPECT_EQ(Codes(Replace(kValid, R"("transaction_date": "2026-11-20 18:05:00")",
                          R"("transaction_date": 1732125900)")),
            One("field.type:transaction_date"));
}

TEST_F(ParserTest, AcceptsIntegerQuantityWrittenAsDouble) {
  EXPECT_EQ(Codes(Replace(kValid, R"("quantity": 1,)", R"("quantity": 1.0,)")),
            std::vector<std::string>{});
}

TEST_F(ParserTest, RejectsItemsThatAreNotAnArray) {
  const size_t begin = std::string(kValid).find("\"items\"");
  const size_t end = std::string(kValid).find("\"subtotal\"");
  std::string message =
      std::string(kValid).replace(begin, end - begin, R"("items": {"a": 1}, )");
  std::vector<std::string> codes = Codes(message);
  EXPECT_EQ(codes, One("field.type:items"));
}

TEST_F(ParserTest, RejectsEmptyItems) {
  const size_t begin = std::string(kValid).find("\"items\"");
  const size_t end = std::string(kValid).find("\"payment_type\"");
  std::string message = std::string(kValid).replace(
      begin, end - begin, R"("items": [], "subtotal": 0, "tax": 0, "total": 0, )");
  EXPECT_EQ(Codes(message), One("items.empty"));
}

TEST_F(ParserTest, RejectsZeroQuantity) {
  std::string message =
      Replace(kValid, R"("quantity": 1, "total_price": 3.25)", R"("quantity": 0, "total_price": 0)");
  message = Replace(message, R"("subtotal": 8.25)", R"("subtotal": 5.0)");
  message = Replace(message, R"("total": 9.49)", R"("total": 6.24)");
  EXPECT_EQ(Codes(message), One("quantity.zero"));
}

TEST_F(ParserTest, RejectsAbsurdQuantityAndAcceptsTheLimit) {
  std::string absurd = Replace(kValid, R"("quantity": 1, "total_price": 3.25)",
                               R"("quantity": 10001, "total_price": 32503.25)");
  absurd = Replace(absurd, R"("subtotal": 8.25)", R"("subtotal": 32508.25)");
  absurd = Replace(absurd, R"("total": 9.49)", R"("total": 32509.49)");
  EXPECT_EQ(Codes(absurd), One("quantity.absurd"));
  std::string limit = Replace(kValid, R"("quantity": 1, "total_price": 3.25)",
                              R"("quantity": 10000, "total_price": 32500.00)");
  limit = Replace(limit, R"("subtotal": 8.25)", R"("subtotal": 32505.00)");
  limit = Replace(limit, R"("total": 9.49)", R"("total": 32506.24)");
  EXPECT_EQ(Codes(limit), std::vector<std::string>{});
  std::string huge = Replace(kValid, R"("quantity": 1,)", R"("quantity": 99999999999999999999,)");
  EXPECT_EQ(Codes(huge), One("quantity.absurd"));
}

TEST_F(ParserTest, AcceptsReturnsWithNegativeQuantity) {
  std::string message = Replace(kValid, R"("quantity": 1, "total_price": 3.25)",
                                R"("quantity": -1, "total_price": -3.25)");
  message = Replace(message, R"("subtotal": 8.25)", R"("subtotal": 1.75)");
  message = Replace(message, R"("total": 9.49)", R"("total": 2.99)");
  EXPECT_EQ(Codes(message), std::vector<std::string>{});
  EXPECT_EQ(transaction_.lines[1].quantity, -1);
}

TEST_F(ParserTest, RejectsNegativePrice) {
  std::string message = Replace(kValid, R"("price": 3.25, "quantity": 1, "total_price": 3.25)",
                                R"("price": -3.25, "quantity": 1, "total_price": -3.25)");
  message = Replace(message, R"("subtotal": 8.25)", R"("subtotal": 1.75)");
  message = Replace(message, R"("total": 9.49)", R"("total": 2.99)");
  EXPECT_EQ(Codes(message), One("price.negative"));
}

TEST_F(ParserTest, LineTotalToleratesOneCentAndNoMore) {
  EXPECT_EQ(Codes(Replace(kValid, R"("total_price": 5.0)", R"("total_price": 5.01)")),
            std::vector<std::string>{});
  std::string off = Replace(kValid, R"("total_price": 5.0)", R"("total_price": 5.5)");
  off = Replace(off, R"("subtotal": 8.25)", R"("subtotal": 8.75)");
  off = Replace(off, R"("total": 9.49)", R"("total": 9.99)");
  EXPECT_EQ(Codes(off), One("amount.mismatch:line_total"));
}

TEST_F(ParserTest, SubtotalToleratesOneCentPerLineAndNoMore) {
  // Two lines: up to 2 cents.
  std::string within = Replace(kValid, R"("subtotal": 8.25)", R"("subtotal": 8.27)");
  within = Replace(within, R"("total": 9.49)", R"("total": 9.51)");
  EXPECT_EQ(Codes(within), std::vector<std::string>{});
  std::string off = Replace(kValid, R"("subtotal": 8.25)", R"("subtotal": 8.28)");
  off = Replace(off, R"("total": 9.49)", R"("total": 9.52)");
  EXPECT_EQ(Codes(off), One("amount.mismatch:subtotal"));
}

TEST_F(ParserTest, TotalToleratesTwoCentsAndNoMore) {
  EXPECT_EQ(Codes(Replace(kValid, R"("total": 9.49)", R"("total": 9.51)")),
            std::vector<std::string>{});
  EXPECT_EQ(Codes(Replace(kValid, R"("total": 9.49)", R"("total": 9.52)")),
            One("amount.mismatch:total"));
}

TEST_F(ParserTest, ToleratesFloatNoiseOfPythonProducers) {
  std::string message =
      Replace(kValid, R"("total_price": 3.25)", R"("total_price": 3.2499999999999996)");
  EXPECT_EQ(Codes(message), std::vector<std::string>{});
  EXPECT_EQ(transaction_.lines[1].line_total_cents, 325);
}

TEST_F(ParserTest, RejectsUnparseableDates) {
  for (const char* date : {"2026-13-20 18:05:00", "20/11/2026 18:05", "yesterday", ""}) {
    std::string message = Replace(kValid, "2026-11-20 18:05:00", date);
    std::vector<std::string> codes = Codes(message);
    if (std::string(date).empty()) {
      EXPECT_EQ(codes, One("field.missing:transaction_date"));
    } else {
      EXPECT_EQ(codes, One("date.unparseable")) << date;
    }
  }
  EXPECT_EQ(Codes(Replace(kValid, "2026-11-20 18:05:00", "2026-11-20T18:05:00-05:00")),
            std::vector<std::string>{});
  EXPECT_EQ(transaction_.transaction_time.utc_offset_minutes, -300);
}

TEST_F(ParserTest, RejectsOversizeMessage) {
  Parser small({.max_message_bytes = 100});
  EXPECT_FALSE(small.Parse(kValid, &transaction_, &problems_));
  ASSERT_EQ(problems_.size(), 1u);
  EXPECT_EQ(problems_[0].code, "message.too_large");
}

TEST_F(ParserTest, RejectsInvalidUtf8) {
  std::string message = Replace(kValid, "Bread", "Br\xC3\x28" "ad");
  EXPECT_EQ(Codes(message), One("encoding.utf8"));
  EXPECT_EQ(Codes(Replace(kValid, "Bread", "Pain au chocolat \xC3\xA9")),
            std::vector<std::string>{});
}

TEST_F(ParserTest, ReportsEveryProblemNotJustTheFirst) {
  std::string message = Replace(kValid, R"("tax": 1.24,)", "");
  message = Replace(message, R"("quantity": 2,)", R"("quantity": 0,)");
  message = Replace(message, R"("payment_type": "Cash")", R"("payment_type": 3)");
  message = Replace(message, "2026-11-20 18:05:00", "soon");
  std::vector<std::string> codes = Codes(message);
  std::sort(codes.begin(), codes.end());
  EXPECT_EQ(codes, (std::vector<std::string>{"date.unparseable", "field.missing:tax",
                                             "field.type:payment_type", "quantity.zero"}));
}

TEST_F(ParserTest, RejectsHostileNesting) {
  std::string deep(200, '[');
  deep += std::string(200, ']');
  EXPECT_EQ(Codes(Replace(kValid, R"("payment_type": "Cash",)",
                          R"("payment_type": "Cash", "deep": )" + deep + ",")),
            One("json.syntax"));
}

}  // namespace
}  // namespace posflow::event
