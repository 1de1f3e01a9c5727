#include "serve/json_writer.h"

#include <fmt/format.h>

#include <cassert>
#include <cmath>

#include "common/text.h"
#include "event/transaction.h"

namespace posflow::serve {
namespace {

// Invalid UTF-8 bytes become \ufffd (a JSON text must be UTF-8); the valid runs between them
// are escaped as everywhere else (event::AppendJsonEscaped).
void AppendQuoted(std::string_view text, std::string* out) {
  out->push_back('"');
  std::size_t run = 0;  // bytes of valid UTF-8 at the front of `text`
  while (run < text.size()) {
    const std::size_t length = Utf8CharLength(text.substr(run));
    if (length != 0) {
      run += length;
      continue;
    }
    event::AppendJsonEscaped(text.substr(0, run), out);
    out->append("\\ufffd");
    text.remove_prefix(run + 1);
    run = 0;
  }
  event::AppendJsonEscaped(text, out);
  out->push_back('"');
}

}  // namespace

std::string JsonQuoted(std::string_view text) {
  std::string out;
  AppendQuoted(text, &out);
  return out;
}

void JsonWriter::BeforeValue() {
  if (after_key_) {
    after_key_ = false;
    return;
  }
  if (!has_member_.empty()) {
    if (has_member_.back()) out_.push_back(',');
    has_member_.back() = true;
  }
}

JsonWriter& JsonWriter::BeginObject() {
  BeforeValue();
  out_.push_back('{');
  has_member_.push_back(false);
  return *this;
}

JsonWriter& JsonWriter::EndObject() {
  assert(!has_member_.empty() && !after_key_ && "EndObject without an open object");
  has_member_.pop_back();
  out_.push_back('}');
  return *this;
}

JsonWriter& JsonWriter::BeginArray() {
  BeforeValue();
  out_.push_back('[');
  has_member_.push_back(false);
  return *this;
}

JsonWriter& JsonWriter::EndArray() {
  assert(!has_member_.empty() && !after_key_ && "EndArray without an open array");
  has_member_.pop_back();
  out_.push_back(']');
  return *this;
}

JsonWriter& JsonWriter::Key(std::string_view key) {
  assert(!has_member_.empty() && !after_key_ && "Key outside an object or twice");
  if (has_member_.back()) out_.push_back(',');
  has_member_.back() = true;
  AppendQuoted(key, &out_);
  out_.push_back(':');
  after_key_ = true;
  return *this;
}

JsonWriter& JsonWriter::String(std::string_view text) {
  BeforeValue();
  AppendQuoted(text, &out_);
  return *this;
}

JsonWriter& JsonWriter::Int(std::int64_t value) {
  BeforeValue();
  out_.append(std::to_string(value));
  return *this;
}

JsonWriter& JsonWriter::Double(double value, int decimals) {
  if (!std::isfinite(value)) return Null();
  BeforeValue();
  out_.append(fmt::format("{:.{}f}", value, decimals));
  return *this;
}

JsonWriter& JsonWriter::Bool(bool value) {
  BeforeValue();
  out_.append(value ? "true" : "false");
  return *this;
}

JsonWriter& JsonWriter::Null() {
  BeforeValue();
  out_.append("null");
  return *this;
}

JsonWriter& JsonWriter::StringOrNull(std::string_view text) {
  return text.empty() ? Null() : String(text);
}

JsonWriter& JsonWriter::IntOrNull(const std::optional<std::int64_t>& value) {
  return value ? Int(*value) : Null();
}

JsonWriter& JsonWriter::DoubleOrNull(const std::optional<double>& value, int decimals) {
  return value ? Double(*value, decimals) : Null();
}

JsonWriter& JsonWriter::Raw(std::string_view json) {
  BeforeValue();
  out_.append(json);
  return *this;
}

}  // namespace posflow::serve
