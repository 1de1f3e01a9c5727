#pragma once

// Builds rows in PostgreSQL's COPY text format (tab-separated, \N for NULL, backslash escapes)
// into a caller-owned buffer, for Connection::CopyIn. Values are appended column by column;
// EndRow() closes a row. Not thread-safe (it is a view on the buffer).

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/civil_time.h"
#include "common/money.h"

namespace posflow::pg {

class CopyWriter {
 public:
  // REQUIRES: `buffer` outlives the writer. Appends to it.
  explicit CopyWriter(std::string* buffer) : buffer_(buffer) {}

  // Text, escaped. NUL bytes cannot travel in COPY text: they are sent as "\000", which
  // PostgreSQL refuses for text, so such a row is refused, as it must be (never altered).
  void Text(std::string_view value);
  // Text, or NULL when empty.
  void TextOrNull(std::string_view value);
  void Null();
  void Int(std::int64_t value);
  // numeric(12,2) from cents: "12.34".
  void Money(Cents cents);
  // timestamp: "YYYY-MM-DD HH:MM:SS[.ffffff]" (the offset is not written).
  void Timestamp(const CivilDateTime& time);
  // bytea in hex form.
  void Bytea(std::string_view bytes);
  // text[] literal: {"a","b"}. A NUL in a value makes PostgreSQL refuse the row, as in Text.
  void TextArray(const std::vector<std::string_view>& values);
  void EndRow();

 private:
  void Separator();
  void AppendEscaped(std::string_view value);

  std::string* buffer_;
  bool row_started_ = false;
};

}  // namespace posflow::pg
