#include "sim/bad_messages.h"

#include <gtest/gtest.h>

#include <map>
#include <set>
#include <string>

#include "event/parser.h"
#include "event/problem.h"
#include "sim/generator.h"
#include "sim/reference_data.h"

namespace posflow::sim {
namespace {

// For every kind, many base transactions and every variant: the validator must report exactly
// one problem, with the code MakeBadMessage returned.
TEST(BadMessages, EachKindTriggersExactlyItsOneCode) {
  const ReferenceData& data = DefaultReferenceData();
  GeneratorOptions options;
  options.seed = 5;
  Generator generator(data, options);
  Rng rng(17);
  event::Parser parser;
  event::Transaction base;
  event::Transaction parsed;
  std::vector<event::Problem> problems;
  std::string message;
  std::map<std::string, int> codes_seen;
  for (BadKind kind : AllBadKinds()) {
    const int rounds = kind == BadKind::kTooLarge ? 5 : 300;
    for (int round = 0; round < rounds; ++round) {
      ASSERT_TRUE(generator.Next(&base));
      const std::int64_t tax =
          data.stores[*data.FindStore(base.store.store_id)].sales_tax_millionths;
      const std::string code = MakeBadMessage(base, tax, kind, BadMessageOptions{}, rng, &message);
      EXPECT_EQ(event::CodeKind(code), event::CodeKind(BadKindName(kind)));
      EXPECT_EQ(message.find('\n'), std::string::npos) << "one NDJSON line per message";
      ASSERT_FALSE(parser.Parse(message, &parsed, &problems)) << code << ": " << message;
      ASSERT_EQ(problems.size(), 1u) << code << ": " << problems[0].code << " / "
                                     << problems[1].code << "\n" << message.substr(0, 2000);
      ASSERT_EQ(problems[0].code, code) << problems[0].message << "\n"
                                        << message.substr(0, 2000);
      ++codes_seen[code];
    }
  }
  // Every variant of the kinds with details came up.
  for (const char* code :
       {"field.missing:transaction_id", "field.missing:transaction_date", "field.missing:items",
        "field.missing:subtotal", "field.missing:tax", "field.missing:total",
        "field.missing:payment_type", "field.missing:location", "field.missing:location.store_id",
        "field.type:total", "field.type:subtotal", "field.type:transaction_id",
        "field.type:payment_type", "field.type:items", "field.type:location",
        "field.type:customer", "field.type:items[0].quantity"}) {
    EXPECT_GT(codes_seen[code], 0) << code;
  }
  EXPECT_EQ(codes_seen.count(std::string(event::codes::kTooLarge)), 1u);
}

TEST(BadMessages, TooLargeIsJustOverTheLimit) {
  GeneratorOptions options;
  Generator generator(DefaultReferenceData(), options);
  event::Transaction base;
  ASSERT_TRUE(generator.Next(&base));
  Rng rng(1);
  std::string message;
  BadMessageOptions bad;
  bad.max_message_bytes = 4096;
  MakeBadMessage(base, 130000, BadKind::kTooLarge, bad, rng, &message);
  EXPECT_GT(message.size(), 4096u);
  EXPECT_LE(message.size(), 4096u + 2048u);
}

TEST(BadMessages, MoneyKindsKeepTheOtherSumsConsistent) {
  Generator generator(DefaultReferenceData(), GeneratorOptions{});
  event::Transaction base;
  // A receipt with several lines, so that the untouched lines matter.
  do {
    ASSERT_TRUE(generator.Next(&base));
  } while (base.lines.size() < 4);
  Rng rng(2);
  std::string message;
  event::Parser parser;
  event::Transaction parsed;
  std::vector<event::Problem> problems;
  MakeBadMessage(base, 130000, BadKind::kQuantityZero, BadMessageOptions{}, rng, &message);
  parser.Parse(message, &parsed, &problems);
  Cents sum = 0;
  for (const event::Line& line : parsed.lines) sum += line.line_total_cents;
  EXPECT_EQ(parsed.subtotal_cents, sum);
  EXPECT_EQ(parsed.total_cents, parsed.subtotal_cents + parsed.tax_cents);
  EXPECT_EQ(parsed.transaction_id, base.transaction_id);
}

TEST(BadMessages, KindNamesRoundTrip) {
  std::set<std::string_view> names;
  for (BadKind kind : AllBadKinds()) {
    EXPECT_EQ(ParseBadKind(BadKindName(kind)), kind);
    names.insert(BadKindName(kind));
  }
  EXPECT_EQ(names.size(), 14u);
  EXPECT_FALSE(ParseBadKind("no.such.kind").has_value());
}

}  // namespace
}  // namespace posflow::sim
