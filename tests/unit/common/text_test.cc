// common/text.h: EscapeControlBytes, what `dlq show` and the dashboard print of a payload.

#include "common/text.h"

#include <gtest/gtest.h>

#include <string>

namespace posflow {
namespace {

using namespace std::string_literals;

TEST(EscapeControlBytes, EscapesControlCharactersButNewlineAndTab) {
  EXPECT_EQ(EscapeControlBytes("a\x00" "b\x01\x1b[31m\x7f\n\tz"s),
            "a\\x00b\\x01\\x1b[31m\\x7f\n\tz");
}

TEST(EscapeControlBytes, EscapesBytesThatAreNotUtf8AndKeepsCharactersThatAre) {
  EXPECT_EQ(EscapeControlBytes("Qu\xc3\xa9" "bec \xff\xc3 \xed\xa0\x80"),
            "Qu\xc3\xa9" "bec \\xff\\xc3 \\xed\\xa0\\x80");
  EXPECT_TRUE(IsValidUtf8(EscapeControlBytes("\xff\xfe\xc0\xaf")));
}

}  // namespace
}  // namespace posflow
