// serve/json_writer.h: separators, escapes, and always valid UTF-8.

#include "serve/json_writer.h"

#include <gtest/gtest.h>

#include <limits>
#include <string>

namespace posflow::serve {
namespace {

TEST(JsonWriter, WritesNestedObjectsAndArraysWithCommasInTheRightPlaces) {
  JsonWriter json;
  json.BeginObject();
  json.Key("a").Int(1);
  json.Key("b").BeginArray().Int(-2).String("x").Null().Bool(true).BeginObject().EndObject();
  json.EndArray();
  json.Key("c").BeginObject().Key("d").Double(1.5, 2).EndObject();
  json.Key("e").Raw("[1,2]");
  json.EndObject();
  EXPECT_EQ(json.text(), R"({"a":1,"b":[-2,"x",null,true,{}],"c":{"d":1.50},"e":[1,2]})");
}

TEST(JsonWriter, EscapesQuotesBackslashesAndControlCharacters) {
  EXPECT_EQ(JsonQuoted("a\"b\\c\nd\te\r\x01\x1f"), R"("a\"b\\c\nd\te\r\u0001\u001f")");
  EXPECT_EQ(JsonQuoted("Québec ✓"), "\"Québec ✓\"");
}

TEST(JsonWriter, WritesBytesThatAreNotUtf8AsReplacementCharacters) {
  EXPECT_EQ(JsonQuoted("a\xff" "b\xc3"), R"("a\ufffdb\ufffd")");
}

TEST(JsonWriter, WritesNullForMissingValuesAndNonFiniteDoubles) {
  JsonWriter json;
  json.BeginArray();
  json.StringOrNull("").IntOrNull(std::nullopt).DoubleOrNull(std::nullopt);
  json.Double(std::numeric_limits<double>::quiet_NaN());
  json.Double(std::numeric_limits<double>::infinity());
  json.StringOrNull("s").IntOrNull(7).DoubleOrNull(0.25, 1);
  json.EndArray();
  EXPECT_EQ(json.text(), R"([null,null,null,null,null,"s",7,0.2])");
}

}  // namespace
}  // namespace posflow::serve
