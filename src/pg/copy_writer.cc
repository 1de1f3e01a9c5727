#include "pg/copy_writer.h"

namespace posflow::pg {

void CopyWriter::Separator() {
  if (row_started_) buffer_->push_back('\t');
  row_started_ = true;
}

void CopyWriter::AppendEscaped(std::string_view value) {
  size_t run_begin = 0;
  for (size_t i = 0; i < value.size(); ++i) {
    const char c = value[i];
    const char* escape = nullptr;
    switch (c) {
      case '\\':
        escape = "\\\\";
        break;
      case '\t':
        escape = "\\t";
        break;
      case '\n':
        escape = "\\n";
        break;
      case '\r':
        escape = "\\r";
        break;
      case '\0':
        // Three octal digits: "\0" followed by a digit of the value would read as another byte
        // ("P\0" "1" is \01, not NUL then '1'). PostgreSQL refuses NUL in text: the row is
        // refused, isolated and dead-lettered, never silently altered.
        escape = "\\000";
        break;
      default:
        continue;
    }
    buffer_->append(value.data() + run_begin, i - run_begin);
    buffer_->append(escape);
    run_begin = i + 1;
  }
  buffer_->append(value.data() + run_begin, value.size() - run_begin);
}

void CopyWriter::Text(std::string_view value) {
  Separator();
  AppendEscaped(value);
}

void CopyWriter::TextOrNull(std::string_view value) {
  if (value.empty()) {
    Null();
  } else {
    Text(value);
  }
}

void CopyWriter::Null() {
  Separator();
  buffer_->append("\\N");
}

void CopyWriter::Int(std::int64_t value) {
  Separator();
  char digits[24];
  int length = 0;
  const bool negative = value < 0;
  // Work in unsigned to handle INT64_MIN.
  std::uint64_t magnitude =
      negative ? static_cast<std::uint64_t>(-(value + 1)) + 1 : static_cast<std::uint64_t>(value);
  do {
    digits[length++] = static_cast<char>('0' + magnitude % 10);
    magnitude /= 10;
  } while (magnitude > 0);
  if (negative) buffer_->push_back('-');
  while (length > 0) buffer_->push_back(digits[--length]);
}

void CopyWriter::Money(Cents cents) {
  Separator();
  AppendCents(cents, buffer_);
}

void CopyWriter::Timestamp(const CivilDateTime& time) {
  Separator();
  AppendSeedDateTime(time, buffer_);
  if (time.microsecond != 0) {
    buffer_->push_back('.');
    const std::string micros = std::to_string(1000000 + time.microsecond);
    buffer_->append(micros, 1, 6);
  }
}

void CopyWriter::Bytea(std::string_view bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  Separator();
  buffer_->append("\\\\x");  // COPY unescapes "\\" to "\", giving bytea's "\x" hex form
  for (char c : bytes) {
    const auto byte = static_cast<unsigned char>(c);
    buffer_->push_back(kHex[byte >> 4]);
    buffer_->push_back(kHex[byte & 0xf]);
  }
}

void CopyWriter::TextArray(const std::vector<std::string_view>& values) {
  Separator();
  buffer_->push_back('{');
  for (size_t i = 0; i < values.size(); ++i) {
    if (i > 0) buffer_->push_back(',');
    buffer_->push_back('"');
    for (char c : values[i]) {
      // Array literal escapes first (\ and "), then COPY's own (\ again, tab, newline).
      if (c == '"') {
        buffer_->append("\\\\\"");
      } else if (c == '\\') {
        buffer_->append("\\\\\\\\");
      } else if (c == '\t') {
        buffer_->append("\\t");
      } else if (c == '\n') {
        buffer_->append("\\n");
      } else if (c == '\r') {
        buffer_->append("\\r");
      } else if (c == '\0') {
        buffer_->append("\\000");  // refused by PostgreSQL, never silently dropped
      } else {
        buffer_->push_back(c);
      }
    }
    buffer_->push_back('"');
  }
  buffer_->push_back('}');
}

void CopyWriter::EndRow() {
  buffer_->push_back('\n');
  row_started_ = false;
}

}  // namespace posflow::pg
