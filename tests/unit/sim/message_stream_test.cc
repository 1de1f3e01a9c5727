#include "sim/message_stream.h"

#include <gtest/gtest.h>

#include <map>
#include <set>
#include <string>

#include "event/parser.h"
#include "sim/reference_data.h"

namespace posflow::sim {
namespace {

std::vector<BadKind> AllButTooLarge() {
  std::vector<BadKind> kinds;
  for (BadKind kind : AllBadKinds()) {
    if (kind != BadKind::kTooLarge) kinds.push_back(kind);
  }
  return kinds;
}

TEST(MessageStream, KnownTotalGivesExactBadAndDuplicateCounts) {
  StreamOptions options;
  options.total_messages = 10000;
  options.bad_ratio = 0.05;
  options.duplicate_ratio = 0.02;
  options.bad_kinds = AllButTooLarge();
  MessageStream stream(DefaultReferenceData(), options);
  Message message;
  std::map<MessageKind, int> counts;
  for (int i = 0; i < 10000; ++i) {
    ASSERT_TRUE(stream.Next(&message));
    if (i == 0) {
      EXPECT_EQ(message.kind, MessageKind::kValid);
    }
    ++counts[message.kind];
  }
  EXPECT_EQ(counts[MessageKind::kBad], 500);
  EXPECT_EQ(counts[MessageKind::kDuplicate], 200);
  EXPECT_EQ(counts[MessageKind::kValid], 9300);
}

TEST(MessageStream, DuplicatesRepeatEarlierValidMessagesExactly) {
  StreamOptions options;
  options.total_messages = 5000;
  options.duplicate_ratio = 0.1;
  MessageStream stream(DefaultReferenceData(), options);
  Message message;
  std::set<std::string> valid;
  int duplicates = 0;
  for (int i = 0; i < 5000; ++i) {
    ASSERT_TRUE(stream.Next(&message));
    if (message.kind == MessageKind::kValid) {
      EXPECT_TRUE(valid.insert(message.value).second);
      EXPECT_EQ(message.key, message.transaction.store.store_id);
    } else {
      ASSERT_EQ(message.kind, MessageKind::kDuplicate);
      EXPECT_TRUE(valid.count(message.value)) << "a duplicate repeats a valid message";
      EXPECT_NE(message.value.find("\"store_id\":\"" + message.key + "\""), std::string::npos);
      ++duplicates;
    }
  }
  EXPECT_EQ(duplicates, 500);
}

TEST(MessageStream, SameSeedGivesSameMessages) {
  StreamOptions options;
  options.total_messages = 3000;
  options.bad_ratio = 0.1;
  options.duplicate_ratio = 0.05;
  options.bad_kinds = AllButTooLarge();
  MessageStream first(DefaultReferenceData(), options);
  MessageStream second(DefaultReferenceData(), options);
  Message a;
  Message b;
  for (int i = 0; i < 3000; ++i) {
    ASSERT_TRUE(first.Next(&a));
    ASSERT_TRUE(second.Next(&b));
    ASSERT_EQ(a.value, b.value);
    ASSERT_EQ(a.key, b.key);
    ASSERT_EQ(a.code, b.code);
  }
}

TEST(MessageStream, BadMessagesAreRejectedWithTheirTaggedCode) {
  StreamOptions options;
  options.total_messages = 4000;
  options.bad_ratio = 0.5;
  MessageStream stream(DefaultReferenceData(), options);
  event::Parser parser;
  event::Transaction parsed;
  std::vector<event::Problem> problems;
  Message message;
  std::set<std::string> kinds;
  for (int i = 0; i < 4000; ++i) {
    ASSERT_TRUE(stream.Next(&message));
    const bool valid = parser.Parse(message.value, &parsed, &problems);
    if (message.kind == MessageKind::kBad) {
      ASSERT_FALSE(valid);
      ASSERT_EQ(problems.size(), 1u);
      ASSERT_EQ(problems[0].code, message.code);
      // The kind: field.missing:<field> and field.type:<field> count as one kind each.
      const bool field = message.code.rfind("field.", 0) == 0;
      kinds.insert(field ? std::string(event::CodeKind(message.code)) : message.code);
    } else {
      ASSERT_TRUE(valid) << message.value;
    }
  }
  EXPECT_EQ(kinds.size(), AllBadKinds().size());  // every kind came up
}

// The simulator's valid output is exactly what the event layer reads and writes.
TEST(MessageStream, HundredThousandValidMessagesParseValidAndReserializeIdentically) {
  StreamOptions options;
  options.total_messages = 100000;
  MessageStream stream(DefaultReferenceData(), options);
  event::Parser parser;
  event::Transaction parsed;
  std::vector<event::Problem> problems;
  Message message;
  std::string again;
  for (int i = 0; i < 100000; ++i) {
    ASSERT_TRUE(stream.Next(&message));
    ASSERT_TRUE(parser.Parse(message.value, &parsed, &problems))
        << problems[0].code << ": " << problems[0].message << "\n" << message.value;
    parsed.shape = message.transaction.shape;
    ASSERT_EQ(parsed, message.transaction) << message.value;
    again.clear();
    event::AppendSeedJson(parsed, &again);
    ASSERT_EQ(again, message.value);
  }
}

TEST(MessageStream, DaysWindowEndsTheStream) {
  StreamOptions options;
  options.generator.days = 1;
  options.total_messages = 2000;
  options.duplicate_ratio = 0.1;
  MessageStream stream(DefaultReferenceData(), options);
  Message message;
  int count = 0;
  while (stream.Next(&message)) ++count;
  // 1800 transactions spread over the day, and the 200 duplicates among them: exactly the total.
  EXPECT_EQ(count, 2000);
}

}  // namespace
}  // namespace posflow::sim
