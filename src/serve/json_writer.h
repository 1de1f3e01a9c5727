#pragma once

// A small JSON writer for the dashboard's API: objects, arrays, strings, numbers, null, and
// already-rendered JSON spliced in (a report's FormatAsJson). Output is compact, keys in the
// order written. Always valid JSON and valid UTF-8: strings are escaped as RFC 8259 asks, and a
// byte that is not part of valid UTF-8 is written as U+FFFD. Not thread-safe (one per response).

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace posflow::serve {

class JsonWriter {
 public:
  JsonWriter& BeginObject();
  JsonWriter& EndObject();
  JsonWriter& BeginArray();
  JsonWriter& EndArray();
  // The next member's key. REQUIRES: inside an object, and a value follows.
  JsonWriter& Key(std::string_view key);

  JsonWriter& String(std::string_view text);
  JsonWriter& Int(std::int64_t value);
  // `value` with `decimals` digits after the point; a NaN or infinity is written as null.
  JsonWriter& Double(double value, int decimals = 3);
  JsonWriter& Bool(bool value);
  JsonWriter& Null();
  // Empty text is written as null; otherwise as a string.
  JsonWriter& StringOrNull(std::string_view text);
  JsonWriter& IntOrNull(const std::optional<std::int64_t>& value);
  JsonWriter& DoubleOrNull(const std::optional<double>& value, int decimals = 3);
  // `json` as it is. REQUIRES: one valid JSON value.
  JsonWriter& Raw(std::string_view json);

  // The text written so far. REQUIRES: every object and array closed.
  const std::string& text() const { return out_; }
  std::string Take() { return std::move(out_); }

 private:
  // Writes the separator a value needs at this point (a comma between members or elements).
  void BeforeValue();

  std::string out_;
  // One entry per open object or array: whether it holds a member or element yet.
  std::vector<bool> has_member_;
  bool after_key_ = false;
};

// `text` as a JSON string, quotes included (as JsonWriter::String writes it).
std::string JsonQuoted(std::string_view text);

}  // namespace posflow::serve
