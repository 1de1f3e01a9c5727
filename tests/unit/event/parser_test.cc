#include "event/parser.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "common/text.h"

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

// What every problem must be, whatever the message: storable in PostgreSQL text and Kafka
// headers (valid UTF-8, no NUL) and bounded.
void ExpectStorable(const Problem& problem) {
  EXPECT_TRUE(IsValidUtf8(problem.code)) << problem.code;
  EXPECT_TRUE(IsValidUtf8(problem.message)) << problem.message;
  EXPECT_EQ(problem.message.find('\0'), std::string::npos) << problem.code;
  EXPECT_EQ(problem.code.find('\0'), std::string::npos) << problem.code;
  EXPECT_LE(problem.code.size(), 160u) << problem.code;
  EXPECT_LE(problem.message.size(), 512u) << problem.code;
}

// The longest run of `c` in `text`: how much of a repeated character a message echoes.
size_t LongestRun(const std::string& text, char c) {
  size_t longest = 0;
  size_t run = 0;
  for (char each : text) {
    run = each == c ? run + 1 : 0;
    longest = std::max(longest, run);
  }
  return longest;
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
      ExpectStorable(problem);
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

// --- issue 11: nothing a message holds may make PostgreSQL refuse its row later ---

// `text` with `inserted` right after the first `anchor`.
std::string Insert(const std::string& text, const std::string& anchor,
                   const std::string& inserted) {
  return Replace(text, anchor, anchor + inserted);
}

// kValid with `members` (JSON object members) added at the top level.
std::string WithExtra(const std::string& members) {
  return Insert(kValid, R"("payment_type": "Cash",)", " " + members + ",");
}

// A valid message whose money is given as text, so tests can put any JSON number in it:
// lines of {price, quantity, total_price} and the receipt's subtotal, tax and total.
struct LineText {
  std::string price;
  std::string quantity;
  std::string total_price;
};
std::string WithMoney(const std::vector<LineText>& lines, const std::string& subtotal,
                      const std::string& tax, const std::string& total) {
  std::string message = R"({"transaction_id": "t-1", "transaction_date": "2026-11-20 18:05:00",)"
                        R"( "items": [)";
  for (size_t i = 0; i < lines.size(); ++i) {
    if (i > 0) message += ", ";
    message += R"({"item": "Thing", "price": )" + lines[i].price +
               R"(, "quantity": )" + lines[i].quantity +
               R"(, "total_price": )" + lines[i].total_price + "}";
  }
  message += R"(], "subtotal": )" + subtotal + R"(, "tax": )" + tax + R"(, "total": )" + total +
             R"(, "payment_type": "Cash", "location": {"store_id": "S001"}})";
  return message;
}

// `count` one-cent lines, their subtotal, no tax.
std::string WithLines(size_t count) {
  std::vector<LineText> lines(count, LineText{"0.01", "1", "0.01"});
  const std::string sum = FormatCents(static_cast<Cents>(count));
  return WithMoney(lines, sum, "0", sum);
}

// Where each key field sits in kValid: the text to replace ("" + value + "") and its code name.
struct KeyField {
  std::string before;  // the field up to its value's opening quote
  std::string value;   // the value in kValid
  std::string name;    // as codes name it
};
const std::vector<KeyField>& KeyFields() {
  static const std::vector<KeyField> fields = {
      {R"("transaction_id": ")", "t-1", "transaction_id"},
      {R"("store_id": ")", "S001", "location.store_id"},
      {R"("customer_id": ")", "C00042", "customer.customer_id"},
      {R"("payment_type": ")", "Cash", "payment_type"},
      {R"("item": ")", "Bread", "items[1].item"},
      {R"("product_id": ")", "P0001", "items[0].product_id"},
  };
  return fields;
}

// The same for the free-text fields.
const std::vector<KeyField>& TextFields() {
  static const std::vector<KeyField> fields = {
      {R"("first_name": ")", "Ana", "customer.first_name"},
      {R"("last_name": ")", "Roy", "customer.last_name"},
      {R"("email": ")", "ana@example.org", "customer.email"},
      {R"("street": ")", "1 Rue", "customer.street"},
      {R"("city": ")", "Laval", "customer.city"},
      {R"("province": ")", "Quebec", "customer.province"},
      {R"("postal_code": ")", "H7A 1A1", "customer.postal_code"},
      {R"("name": ")", "Market", "location.name"},
      {R"("address": ")", "5 Main", "location.address"},
      {R"("city": ")", "Laval", "location.city"},
      {R"("province": ")", "Quebec", "location.province"},
      {R"("postal_code": ")", "H7A 2B2", "location.postal_code"},
  };
  return fields;
}

// kValid with `field`'s value (the last occurrence for the location's, the first otherwise)
// replaced by `value` (JSON string content, escapes allowed).
std::string WithField(const KeyField& field, const std::string& value) {
  std::string message = kValid;
  const std::string from = field.before + field.value + "\"";
  const size_t at = field.name.rfind("location.", 0) == 0 ? message.rfind(from)
                                                           : message.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  if (at != std::string::npos) message.replace(at, from.size(), field.before + value + "\"");
  return message;
}

TEST_F(ParserTest, AcceptsEveryKeyFieldExactlyAtTheKeyLimit) {
  for (const KeyField& field : KeyFields()) {
    EXPECT_EQ(Codes(WithField(field, std::string(128, 'k'))), std::vector<std::string>{})
        << field.name;
  }
}

TEST_F(ParserTest, RefusesEveryKeyFieldOneByteOverTheKeyLimit) {
  for (const KeyField& field : KeyFields()) {
    EXPECT_EQ(Codes(WithField(field, std::string(129, 'k'))), One("field.too_long:" + field.name))
        << field.name;
  }
}

TEST_F(ParserTest, RefusesTransactionIdOfThousandsOfCharactersWithoutEchoingIt) {
  EXPECT_EQ(Codes(WithField(KeyFields()[0], std::string(5000, 'x'))),
            One("field.too_long:transaction_id"));
  EXPECT_LE(LongestRun(problems_[0].message, 'x'), 100u) << problems_[0].message;
}

TEST_F(ParserTest, CountsTheKeyLimitInBytesOfTheUnescapedText) {
  // 64 x "é" is 128 bytes of UTF-8, whether written raw or as \u00e9 (384 bytes of JSON).
  std::string raw;
  std::string escaped;
  for (int i = 0; i < 64; ++i) {
    raw += "\xC3\xA9";
    escaped += "\\u00e9";
  }
  EXPECT_EQ(Codes(WithField(KeyFields()[0], raw)), std::vector<std::string>{});
  EXPECT_EQ(transaction_.transaction_id.size(), 128u);
  EXPECT_EQ(Codes(WithField(KeyFields()[0], escaped)), std::vector<std::string>{});
  EXPECT_EQ(transaction_.transaction_id, raw);
  // A multi-byte character across the limit: 127 + 2 bytes.
  EXPECT_EQ(Codes(WithField(KeyFields()[0], std::string(127, 'k') + "\xC3\xA9")),
            One("field.too_long:transaction_id"));
  EXPECT_EQ(Codes(WithField(KeyFields()[0], std::string(126, 'k') + "\xC3\xA9")),
            std::vector<std::string>{});
}

TEST_F(ParserTest, NamesAKeyFieldAsTheMessageSpelledIt) {
  std::string message = ReadSeedMessage("point_of_sale_example.json");
  message = Replace(message, R"("storeId": "STORE123")",
                    R"("storeId": ")" + std::string(129, 's') + R"(")");
  EXPECT_EQ(Codes(message), One("field.too_long:location.storeId"));
}

TEST_F(ParserTest, AcceptsEveryFreeTextFieldAtTheTextLimitAndRefusesOneByteMore) {
  for (const KeyField& field : TextFields()) {
    EXPECT_EQ(Codes(WithField(field, std::string(1024, 't'))), std::vector<std::string>{})
        << field.name;
    EXPECT_EQ(Codes(WithField(field, std::string(1025, 't'))), One("field.too_long:" + field.name))
        << field.name;
  }
}

TEST_F(ParserTest, RefusesTheCamelCaseCustomerNameOverTheTextLimit) {
  std::string message = ReadSeedMessage("point_of_sale_example.json");
  EXPECT_EQ(Codes(Replace(message, R"("name": "John Doe")",
                          R"("name": "John )" + std::string(1020, 'D') + R"(")")),
            One("field.too_long:customer.name"));
}

TEST_F(ParserTest, HonoursConfiguredKeyAndTextLimits) {
  Parser strict({.max_key_bytes = 3, .max_text_bytes = 5});
  EXPECT_FALSE(strict.Parse(kValid, &transaction_, &problems_));
  std::vector<std::string> codes;
  for (const Problem& problem : problems_) codes.push_back(problem.code);
  std::sort(codes.begin(), codes.end());
  EXPECT_EQ(codes, (std::vector<std::string>{
                       "field.too_long:customer.customer_id", "field.too_long:customer.email",
                       "field.too_long:customer.postal_code", "field.too_long:customer.province",
                       "field.too_long:items[0].item", "field.too_long:items[0].product_id",
                       "field.too_long:items[1].item", "field.too_long:location.address",
                       "field.too_long:location.name", "field.too_long:location.postal_code",
                       "field.too_long:location.province", "field.too_long:location.store_id",
                       "field.too_long:payment_type"}));
}

TEST_F(ParserTest, RefusesEveryControlCharacterInEveryKeyField) {
  for (const KeyField& field : KeyFields()) {
    for (const char* control : {"\\u0000", "\\u0001", "\\n", "\\t", "\\u001f", "\\u007f"}) {
      EXPECT_EQ(Codes(WithField(field, std::string("a") + control + "b")),
                One("field.control_char:" + field.name))
          << field.name << " " << control;
    }
    // DEL may be written raw in JSON: no escape gives it away.
    EXPECT_EQ(Codes(WithField(field, "a\x7f" "b")), One("field.control_char:" + field.name))
        << field.name;
  }
}

TEST_F(ParserTest, AcceptsKeyFieldsWithEscapesThatAreNotControlCharacters) {
  EXPECT_EQ(Codes(WithField(KeyFields()[0], R"(a\/b\"c\\d\u00e9)")), std::vector<std::string>{});
  EXPECT_EQ(transaction_.transaction_id, "a/b\"c\\d\xC3\xA9");
}

TEST_F(ParserTest, RefusesNulInEveryFreeTextField) {
  for (const KeyField& field : TextFields()) {
    EXPECT_EQ(Codes(WithField(field, "a\\u0000b")), One("field.control_char:" + field.name))
        << field.name;
  }
  std::string camel = ReadSeedMessage("point_of_sale_example.json");
  EXPECT_EQ(Codes(Replace(camel, R"("name": "John Doe")", R"("name": "John\u0000Doe")")),
            One("field.control_char:customer.name"));
}

TEST_F(ParserTest, AcceptsOtherControlCharactersInFreeText) {
  EXPECT_EQ(Codes(WithField(TextFields()[3], "1 Rue\\nApt 2\\t\\u0001\x7f")),
            std::vector<std::string>{});
  EXPECT_EQ(transaction_.customer.street, "1 Rue\nApt 2\t\x01\x7f");
}

TEST_F(ParserTest, RefusesNulInUnknownFieldsKeptForJsonb) {
  EXPECT_EQ(Codes(WithExtra(R"("note": "a\u0000b")")), One("field.control_char:note"));
  EXPECT_EQ(Codes(WithExtra(R"("no\u0000te": 1)")), One("field.control_char:no?te"));
  EXPECT_EQ(Codes(WithExtra(R"("loyalty": {"tiers": [1, {"name": "x\u0000"}]})")),
            One("field.control_char:loyalty.tiers[1].name"));
  EXPECT_EQ(Codes(WithExtra(R"("loyalty": {"tiers": [{"a\u0000": true}]})")),
            One("field.control_char:loyalty.tiers[0].a?"));
  EXPECT_EQ(Codes(Insert(kValid, R"("store_id": "S001",)", R"( "lane": "\u0000",)")),
            One("field.control_char:location.lane"));
  EXPECT_EQ(Codes(Insert(kValid, R"("item": "Bread",)", R"( "tags": ["\u0000"],)")),
            One("field.control_char:items[1].tags[0]"));
  // Reported once per message, however many there are.
  EXPECT_EQ(Codes(WithExtra(R"("a": "\u0000", "b": ["\u0000", "\u0000"])")),
            One("field.control_char:a"));
  // Other escaped control characters are fine in jsonb; so is the six-character text \u0000.
  EXPECT_EQ(Codes(WithExtra(R"("note": "a\u0001\n", "path": "C:\\u0000")")),
            std::vector<std::string>{});
}

TEST_F(ParserTest, RefusesUnknownNumbersJsonbCannotHold) {
  EXPECT_EQ(Codes(WithExtra(R"("x": 1e-20000)")), One("number.out_of_range:x"));
  EXPECT_EQ(Codes(WithExtra(R"("x": [1e1001])")), One("number.out_of_range:x[0]"));
  EXPECT_EQ(Codes(WithExtra(R"("x": )" + std::string(1001, '7'))), One("number.out_of_range:x"));
  // At the bounds, and beyond a double's range but within numeric's: kept verbatim.
  const std::string at_bounds =
      R"("x": )" + std::string(1000, '7') + R"(, "y": 1e-1000, "z": 1e400)";
  EXPECT_EQ(Codes(WithExtra(at_bounds)), std::vector<std::string>{});
  EXPECT_NE(transaction_.extra_json.find(R"("z":1e400)"), std::string::npos);
  EXPECT_EQ(Codes(WithExtra(R"("x": 01)")), One("json.syntax"));
  EXPECT_EQ(Codes(WithExtra(R"("x": 1.)")), One("json.syntax"));
}

// --- duplicate keys ---

TEST_F(ParserTest, RefusesARepeatedTopLevelKey) {
  EXPECT_EQ(Codes(Insert(kValid, R"("tax": 1.24,)", R"( "tax": 1.24,)")),
            One("json.duplicate_key"));
  EXPECT_NE(problems_[0].message.find("'tax'"), std::string::npos) << problems_[0].message;
  EXPECT_NE(problems_[0].message.find("top level"), std::string::npos) << problems_[0].message;
}

TEST_F(ParserTest, RefusesKeysThatRepeatOnceUnescaped) {
  EXPECT_EQ(Codes(Insert(kValid, R"("tax": 1.24,)", R"( "t\u0061x": 1.24,)")),
            One("json.duplicate_key"));
}

TEST_F(ParserTest, RefusesATopLevelFieldGivenUnderBothSpellings) {
  EXPECT_EQ(Codes(Replace(kValid, R"("transaction_id": "t-1",)",
                          R"("transaction_id": "t-1", "transactionId": "t-2",)")),
            One("json.duplicate_key"));
  EXPECT_NE(problems_[0].message.find("transaction_id/transactionId"), std::string::npos)
      << problems_[0].message;
  EXPECT_EQ(Codes(WithExtra(R"("paymentMethod": "Cash")")),
            One("json.duplicate_key"));
  EXPECT_EQ(Codes(WithExtra(R"("timestamp": "2026-11-20 18:05:00")")),
            One("json.duplicate_key"));
}

TEST_F(ParserTest, RefusesARepeatedKeyInTheCustomer) {
  EXPECT_EQ(Codes(Replace(kValid, R"("email": "ana@example.org",)",
                          R"("email": "ana@example.org", "email": "x@example.org",)")),
            One("json.duplicate_key"));
  EXPECT_EQ(Codes(Insert(kValid, R"("first_name": "Ana",)", R"( "name": "A B",)")),
            One("json.duplicate_key"));
  EXPECT_EQ(Codes(Insert(kValid, R"("street": "1 Rue",)", R"( "address": "2 Rue",)")),
            One("json.duplicate_key"));
}

TEST_F(ParserTest, RefusesACustomerFieldGivenBothAtTheTopLevelAndInTheCustomer) {
  EXPECT_EQ(Codes(WithExtra(R"("customer_id": "C00043")")),
            One("json.duplicate_key"));
  std::string flattened = ReadSeedMessage("pos_example.json");
  EXPECT_EQ(Codes(Replace(flattened, R"("customer_id": "CUST009",)",
                          R"("customer_id": "CUST009", "customer": {"customerId": "X"},)")),
            One("json.duplicate_key"));
}

TEST_F(ParserTest, RefusesARepeatedKeyInTheLocation) {
  EXPECT_EQ(Codes(Insert(kValid, R"("store_id": "S001",)", R"( "storeId": "S002",)")),
            One("json.duplicate_key"));
  EXPECT_NE(problems_[0].message.find("location"), std::string::npos) << problems_[0].message;
  EXPECT_EQ(Codes(Insert(kValid, R"("name": "Market",)", R"( "storeName": "M",)")),
            One("json.duplicate_key"));
}

TEST_F(ParserTest, RefusesARepeatedKeyInALine) {
  EXPECT_EQ(Codes(Insert(kValid, R"("price": 3.25,)", R"( "unitPrice": 3.25,)")),
            One("json.duplicate_key"));
  EXPECT_NE(problems_[0].message.find("items[1]"), std::string::npos) << problems_[0].message;
  EXPECT_EQ(Codes(Insert(kValid, R"("item": "Bread",)", R"( "productName": "B",)")),
            One("json.duplicate_key"));
  EXPECT_EQ(Codes(Insert(kValid, R"("quantity": 1,)", R"( "quantity": 1,)")),
            One("json.duplicate_key"));
  EXPECT_EQ(Codes(Insert(kValid, R"("item": "Bread",)", R"( "x": 1, "x": 2,)")),
            One("json.duplicate_key"));
}

TEST_F(ParserTest, RefusesARepeatedKeyInANestedUnknownObject) {
  EXPECT_EQ(Codes(WithExtra(R"("loyalty": {"tier": 1, "points": [{"a": 1, "a": 2}]})")),
            One("json.duplicate_key"));
  EXPECT_NE(problems_[0].message.find("loyalty.points[0]"), std::string::npos)
      << problems_[0].message;
}

TEST_F(ParserTest, FindsARepeatedKeyInAHugeUnknownObject) {
  std::string object;
  for (int i = 0; i < 5000; ++i) object += "\"k" + std::to_string(i) + "\": 0, ";
  const std::string distinct = "{" + object + "\"last\": 0}";
  const std::string repeated = "{" + object + "\"k17\": 0}";
  EXPECT_EQ(Codes(WithExtra(R"("big": )" + distinct)), std::vector<std::string>{});
  EXPECT_EQ(Codes(WithExtra(R"("big": )" + repeated)), One("json.duplicate_key"));
  EXPECT_NE(problems_[0].message.find("'k17'"), std::string::npos) << problems_[0].message;
}

TEST_F(ParserTest, RefusesTwoUnknownFieldsThatMeetUnderOneNameInExtra) {
  EXPECT_EQ(Codes(WithExtra(R"("note": 1, "note": 2)")), One("json.duplicate_key"));
  std::string message = WithExtra(R"("location.lane": 4)");
  message = Insert(message, R"("store_id": "S001",)", R"( "lane": 4,)");
  EXPECT_EQ(Codes(message), One("json.duplicate_key"));
  EXPECT_NE(problems_[0].message.find("location.lane"), std::string::npos) << problems_[0].message;
}

TEST_F(ParserTest, BoundsTheDuplicateKeyMessage) {
  const std::string key(5000, 'q');
  EXPECT_EQ(Codes(WithExtra(R"("x": {")" + key + R"(": 1, ")" + key + R"(": 2})")),
            One("json.duplicate_key"));
  EXPECT_LE(LongestRun(problems_[0].message, 'q'), 100u);
}

// --- dates ---

TEST_F(ParserTest, AcceptsDatesAtTheEdgesOfTheDefaultWindow) {
  for (const char* date : {"1900-01-01 00:00:00", "2999-12-31 23:59:59"}) {
    EXPECT_EQ(Codes(Replace(kValid, "2026-11-20 18:05:00", date)), std::vector<std::string>{})
        << date;
  }
}

TEST_F(ParserTest, RefusesDatesOutsideTheDefaultWindowAsOutOfRange) {
  for (const char* date : {"1899-12-31 23:59:59", "3000-01-01 00:00:00", "0001-01-01 00:00:00",
                           "9999-12-31 23:59:59", "0000-01-01T00:00:00Z"}) {
    EXPECT_EQ(Codes(Replace(kValid, "2026-11-20 18:05:00", date)), One("date.out_of_range"))
        << date;
  }
  // A date that does not exist stays unparseable, whatever its year.
  EXPECT_EQ(Codes(Replace(kValid, "2026-11-20 18:05:00", "9999-02-30 00:00:00")),
            One("date.unparseable"));
}

TEST_F(ParserTest, HonoursAConfiguredDateWindow) {
  Parser windowed({.min_date = {2020, 1, 1}, .max_date = {2030, 12, 31}});
  EXPECT_TRUE(windowed.Parse(Replace(kValid, "2026-11-20 18:05:00", "2020-01-01 00:00:00"),
                             &transaction_, &problems_));
  EXPECT_TRUE(windowed.Parse(Replace(kValid, "2026-11-20 18:05:00", "2030-12-31 23:59:59"),
                             &transaction_, &problems_));
  EXPECT_FALSE(windowed.Parse(Replace(kValid, "2026-11-20 18:05:00", "2019-12-31 23:59:59"),
                              &transaction_, &problems_));
  ASSERT_EQ(problems_.size(), 1u);
  EXPECT_EQ(problems_[0].code, "date.out_of_range");
  EXPECT_FALSE(windowed.Parse(Replace(kValid, "2026-11-20 18:05:00", "2031-01-01 00:00:00"),
                              &transaction_, &problems_));
  ASSERT_EQ(problems_.size(), 1u);
  EXPECT_EQ(problems_[0].code, "date.out_of_range");
}

TEST_F(ParserTest, NarrowsAWiderConfiguredDateWindowToTheWarehouseCalendar) {
  Parser wide({.min_date = {1, 1, 1}, .max_date = {9999, 12, 31}});
  EXPECT_FALSE(wide.Parse(Replace(kValid, "2026-11-20 18:05:00", "1850-06-01 00:00:00"),
                          &transaction_, &problems_));
  ASSERT_EQ(problems_.size(), 1u);
  EXPECT_EQ(problems_[0].code, "date.out_of_range");
  EXPECT_FALSE(wide.Parse(Replace(kValid, "2026-11-20 18:05:00", "3000-01-01 00:00:00"),
                          &transaction_, &problems_));
  ASSERT_EQ(problems_.size(), 1u);
  EXPECT_EQ(problems_[0].code, "date.out_of_range");
}

TEST_F(ParserTest, AcceptsUtcOffsetsUpToEighteenHoursAndRefusesBeyond) {
  for (const char* date : {"2026-11-20T18:05:00+18:00", "2026-11-20T18:05:00-18:00",
                           "2026-11-20T18:05:00+1400", "2026-11-20T18:05:00-12"}) {
    EXPECT_EQ(Codes(Replace(kValid, "2026-11-20 18:05:00", date)), std::vector<std::string>{})
        << date;
  }
  for (const char* date : {"2026-11-20T18:05:00+18:01", "2026-11-20T18:05:00-18:59",
                           "2026-11-20T18:05:00+19:00", "2026-11-20T18:05:00-99"}) {
    EXPECT_EQ(Codes(Replace(kValid, "2026-11-20 18:05:00", date)), One("date.out_of_range"))
        << date;
  }
}

// --- amounts: numeric(12,2) ---

TEST_F(ParserTest, AcceptsEveryAmountAtTheNumericLimit) {
  EXPECT_EQ(Codes(WithMoney({{"9999999999.99", "1", "9999999999.99"}}, "9999999999.99", "0",
                            "9999999999.99")),
            std::vector<std::string>{});
  EXPECT_EQ(transaction_.total_cents, 999'999'999'999);
  EXPECT_EQ(Codes(WithMoney({{"0", "1", "0"}}, "0", "9999999999.99", "9999999999.99")),
            std::vector<std::string>{});
  // A return at the limit.
  EXPECT_EQ(Codes(WithMoney({{"9999999999.99", "-1", "-9999999999.99"}}, "-9999999999.99", "0",
                            "-9999999999.99")),
            std::vector<std::string>{});
}

TEST_F(ParserTest, RefusesEachAmountOneCentBeyondTheNumericLimit) {
  const std::string over = "10000000000.00";
  EXPECT_EQ(Codes(WithMoney({{over, "1", "1"}}, "1", "0", "1")),
            One("amount.out_of_range:items[0].price"));
  EXPECT_EQ(Codes(WithMoney({{"1", "1", over}}, "1", "0", "1")),
            One("amount.out_of_range:items[0].total_price"));
  EXPECT_EQ(Codes(WithMoney({{"1", "1", "1"}}, over, "0", "1")),
            One("amount.out_of_range:subtotal"));
  EXPECT_EQ(Codes(WithMoney({{"1", "1", "1"}}, "1", over, "1")), One("amount.out_of_range:tax"));
  EXPECT_EQ(Codes(WithMoney({{"1", "1", "1"}}, "1", "0", "-" + over)),
            One("amount.out_of_range:total"));
}

TEST_F(ParserTest, RefusesHugeAmountsAsOutOfRangeNotAsBadJson) {
  for (const char* huge : {"12345678901234567890", "1e300", "1e400", "-1e400",
                           "123456789012345678901234567890.5"}) {
    EXPECT_EQ(Codes(WithMoney({{"1", "1", "1"}}, "1", huge, "1")), One("amount.out_of_range:tax"))
        << huge;
  }
  EXPECT_LE(problems_[0].message.size(), 300u);
  EXPECT_EQ(Codes(WithMoney({{"1", "1", "1"}}, "1", std::string(50000, '9'), "1")),
            One("amount.out_of_range:tax"));
  EXPECT_LE(LongestRun(problems_[0].message, '9'), 100u);
}

TEST_F(ParserTest, ReadsNegativeZeroAndVanishingAmountsAsZero) {
  for (const char* zero : {"-0", "-0.0", "0e5", "1e-400", "-1e-400"}) {
    EXPECT_EQ(Codes(WithMoney({{"1", "1", "1"}}, "1", zero, "1")), std::vector<std::string>{})
        << zero;
    EXPECT_EQ(transaction_.tax_cents, 0) << zero;
  }
  // A price of -0 is not negative.
  EXPECT_EQ(Codes(WithMoney({{"-0", "1", "0"}}, "0", "0", "0")), std::vector<std::string>{});
}

TEST_F(ParserTest, AcceptsARunningSumOfLineTotalsThatStaysAtTheLimit) {
  EXPECT_EQ(Codes(WithMoney({{"9999999999.98", "1", "9999999999.98"}, {"0.01", "1", "0.01"}},
                            "9999999999.99", "0", "9999999999.99")),
            std::vector<std::string>{});
}

TEST_F(ParserTest, RefusesARunningSumOfLineTotalsThatLeavesTheLimitOnTheWay) {
  // Staging stores 10000000000.00 with the second line, though the receipt ends within range.
  EXPECT_EQ(Codes(WithMoney({{"9999999999.99", "1", "9999999999.99"},
                             {"0.01", "1", "0.01"},
                             {"1.00", "-1", "-1.00"}},
                            "9999999999.00", "0", "9999999999.00")),
            One("amount.out_of_range:items"));
  EXPECT_NE(problems_[0].message.find("items[1]"), std::string::npos) << problems_[0].message;
  EXPECT_EQ(Codes(WithMoney({{"9999999999.99", "-1", "-9999999999.99"},
                             {"0.01", "-1", "-0.01"},
                             {"1.00", "1", "1.00"}},
                            "-9999999999.00", "0", "-9999999999.00")),
            One("amount.out_of_range:items"));
}

// --- quantity ---

TEST_F(ParserTest, RefusesHugeQuantitiesAsAbsurdWithoutUndefinedBehaviour) {
  for (const char* huge : {"1e300", "-1e300", "1e400", "9223372036854775808",
                           "-9223372036854775809", "18446744073709551616", "1e19", "10001.0"}) {
    EXPECT_EQ(Codes(WithMoney({{"1", huge, "1"}}, "1", "0", "1")), One("quantity.absurd"))
        << huge;
  }
  EXPECT_EQ(Codes(WithMoney({{"1", std::string(100000, '9'), "1"}}, "1", "0", "1")),
            One("quantity.absurd"));
  EXPECT_LE(LongestRun(problems_[0].message, '9'), 100u);
}

TEST_F(ParserTest, RefusesQuantitiesThatAreZeroOrNotWhole) {
  for (const char* zero : {"0", "-0", "0.0", "1e-400"}) {
    EXPECT_EQ(Codes(WithMoney({{"1", zero, "0"}}, "0", "0", "0")), One("quantity.zero")) << zero;
  }
  EXPECT_EQ(Codes(WithMoney({{"1", "2.5e0", "2.5"}}, "2.5", "0", "2.5")),
            One("field.type:items[0].quantity"));
  EXPECT_EQ(Codes(WithMoney({{"1", "2e0", "2"}}, "2", "0", "2")), std::vector<std::string>{});
  EXPECT_EQ(Codes(WithMoney({{"1", "1.", "1"}}, "1", "0", "1")), One("json.syntax"));
}

// --- items ---

TEST_F(ParserTest, AcceptsExactlyTheItemLimit) {
  EXPECT_EQ(Codes(WithLines(1000)), std::vector<std::string>{});
  EXPECT_EQ(transaction_.lines.size(), 1000u);
}

TEST_F(ParserTest, RefusesOneItemOverTheLimitWithOneProblem) {
  EXPECT_EQ(Codes(WithLines(1001)), One("items.too_many"));
  Parser small({.max_items = 2});
  EXPECT_TRUE(small.Parse(WithLines(2), &transaction_, &problems_));
  EXPECT_FALSE(small.Parse(WithLines(3), &transaction_, &problems_));
  ASSERT_EQ(problems_.size(), 1u);
  EXPECT_EQ(problems_[0].code, "items.too_many");
}

// --- problem messages ---

TEST_F(ParserTest, QuotesAtMostAHundredBytesOfTheMessageCutOnACharacterBoundary) {
  // 99 ASCII bytes, then 2-byte characters: a cut at 100 bytes falls inside one.
  std::string date = std::string(99, 'y');
  for (int i = 0; i < 50; ++i) date += "\xC3\xA9";
  EXPECT_EQ(Codes(Replace(kValid, "2026-11-20 18:05:00", date)), One("date.unparseable"));
  const std::string& message = problems_[0].message;
  EXPECT_TRUE(IsValidUtf8(message)) << message;
  EXPECT_NE(message.find("\u2026"), std::string::npos) << message;
  EXPECT_EQ(message.find("\xC3\xA9"), std::string::npos) << message;  // 99 + 2 > 100
}

TEST_F(ParserTest, QuotesNulAndControlCharactersAsQuestionMarks) {
  EXPECT_EQ(Codes(Replace(kValid, "2026-11-20 18:05:00", "soon\\u0000\\u001b[31m")),
            One("date.unparseable"));
  EXPECT_NE(problems_[0].message.find("soon??[31m"), std::string::npos) << problems_[0].message;
}

TEST_F(ParserTest, BoundsUnknownFieldNamesInCodes) {
  const std::string key = std::string(5000, 'w') + "\\u0000";
  EXPECT_EQ(Codes(WithExtra(R"(")" + key + R"(": 1)")),
            One("field.control_char:" + std::string(100, 'w') + "\u2026"));
}

// --- re-serialization ---

// Found by the parser fuzzer: "location": {"": "X"} was kept in extra as "location", which
// re-serialized as a second top-level "location".
TEST_F(ParserTest, KeepsAnEmptyUnknownKeyOfTheLocationApartFromTheLocation) {
  ASSERT_EQ(Codes(Insert(kValid, R"("store_id": "S001",)", R"( "": "X",)")),
            std::vector<std::string>{});
  EXPECT_EQ(transaction_.extra_json, R"({"location.":"X"})");
  const Transaction original = transaction_;
  std::string json;
  AppendSeedJson(original, &json);
  ASSERT_EQ(Codes(json), std::vector<std::string>{}) << json;
  EXPECT_EQ(transaction_, original);
  EXPECT_EQ(Codes(WithExtra(R"("x": {"": {"": "\u0000"}})")),
            One("field.control_char:x.."));
}

TEST_F(ParserTest, RoundTripsIsoTimesAndCustomersWithoutAnId) {
  std::string message = Replace(kValid, "2026-11-20 18:05:00", "2026-11-20T18:05:00.25+05:30");
  message = Replace(message, R"("customer_id": "C00042", )", "");
  ASSERT_EQ(Codes(message), std::vector<std::string>{});
  const Transaction original = transaction_;
  EXPECT_TRUE(original.customer.anonymous());
  std::string json;
  AppendSeedJson(original, &json);
  ASSERT_EQ(Codes(json), std::vector<std::string>{}) << json;
  EXPECT_EQ(transaction_, original);
}

}  // namespace
}  // namespace posflow::event
