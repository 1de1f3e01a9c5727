// common/text.h: EscapeControlChars and LoggableText (log lines), EscapeControlBytes (what
// `dlq show` and the dashboard print of a payload).

#include "common/text.h"

#include <gtest/gtest.h>

#include <string>

namespace posflow {
namespace {

using namespace std::string_literals;

TEST(EscapeControlChars, KeepsPrintableTextAndUtf8AsItIs) {
  EXPECT_EQ(EscapeControlChars("S001 Québec — 東京 \\ backslash"),
            "S001 Québec — 東京 \\ backslash");
  EXPECT_EQ(EscapeControlChars(""), "");
}

TEST(EscapeControlChars, EscapesEscapeAndTheOtherC0ControlsAndDel) {
  EXPECT_EQ(EscapeControlChars("tx\x1b[2J\x1b]0;pwned\x07"), "tx\\x1b[2J\\x1b]0;pwned\\x07");
  EXPECT_EQ(EscapeControlChars("a\nb\rc\td"), "a\\x0ab\\x0dc\\x09d");
  EXPECT_EQ(EscapeControlChars(std::string("nul\0del\x7f", 8)), "nul\\x00del\\x7f");
}

TEST(EscapeControlChars, EscapesC1ControlsInUtf8AndStrayBytes) {
  EXPECT_EQ(EscapeControlChars("csi\xc2\x9b" "31m"), "csi\\xc2\\x9b31m");  // U+009B
  EXPECT_EQ(EscapeControlChars("\xc2\x80\xc2\x9f\xc2\xa0"), "\\xc2\\x80\\xc2\\x9f\xc2\xa0");
  EXPECT_EQ(EscapeControlChars("raw\x9b" "1m"), "raw\\x9b1m");  // a lone 8-bit CSI
  EXPECT_EQ(EscapeControlChars("\xff\xfe"), "\\xff\\xfe");
}

TEST(LoggableText, CutsOnACharacterBoundaryThenEscapes) {
  EXPECT_EQ(LoggableText("abcdef", 4), "abcd\u2026");
  EXPECT_EQ(LoggableText("ab\xc3\xa9", 3), "ab\u2026");  // é is not split
  EXPECT_EQ(LoggableText("\x1b[31mred", 200), "\\x1b[31mred");
  EXPECT_EQ(LoggableText("short"), "short");
}

TEST(EscapeControlBytes, EscapesControlCharactersButNewlineAndTab) {
  EXPECT_EQ(EscapeControlBytes("a\x00" "b\x01\x1b[31m\x7f\n\tz"s),
            "a\\x00b\\x01\\x1b[31m\\x7f\n\tz");
}

TEST(EscapeControlBytes, EscapesC1ControlsToo) {
  EXPECT_EQ(EscapeControlBytes("csi\xc2\x9b" "31m\n"s), "csi\\xc2\\x9b31m\n");
}

TEST(EscapeControlBytes, EscapesBytesThatAreNotUtf8AndKeepsCharactersThatAre) {
  EXPECT_EQ(EscapeControlBytes("Qu\xc3\xa9" "bec \xff\xc3 \xed\xa0\x80"),
            "Qu\xc3\xa9" "bec \\xff\\xc3 \\xed\\xa0\\x80");
  EXPECT_TRUE(IsValidUtf8(EscapeControlBytes("\xff\xfe\xc0\xaf")));
}

}  // namespace
}  // namespace posflow
