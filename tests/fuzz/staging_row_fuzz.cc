// libFuzzer target (asan preset): what the parser accepts, the staging row encoder encodes and
// PostgreSQL's COPY text format accepts.
//
// For each message event::Parser accepts, the staging.pos_transaction and staging.pos_line rows
// (staging::AppendStagedTransactionRow / AppendStagedLineRows, through pg::CopyWriter) are
// decoded here the way PostgreSQL's COPY FROM ... (FORMAT text) reads them, and checked against
// the columns' types and constraints (sql/migrations/002 and 007):
//   - one row per '\n', tab-separated, the right number of columns, no raw '\r', no "\."
//     end-of-data line, the raw text valid UTF-8;
//   - \N alone is NULL; backslash escapes (\b \f \n \r \t \v, \ + 1-3 octal digits, \x + 1-2 hex
//     digits, \ + any other character as itself) decoded; every decoded text valid UTF-8 without
//     NUL (what PostgreSQL's text input takes);
//   - each value equal to the transaction's field; NULL exactly where the column allows it;
//   - numeric(12,2) values as -?d{1,10}.dd; integer columns within int32 (line_count,
//     kafka_partition, line_number, quantity) and their checks (line_count > 0, line_number >= 1,
//     quantity <> 0, unit_price >= 0); smallint for utc_offset_minutes; timestamps as
//     YYYY-MM-DD HH:MM:SS[.ffffff];
//   - extra (jsonb): strict RFC 8259 JSON, an object, with no \u0000, surrogates only in pairs,
//     and numbers PostgreSQL's numeric holds (<= 16383 digits after the point, <= 131072 before).
// Any violation aborts (a crash for libFuzzer).

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/civil_time.h"
#include "common/money.h"
#include "common/text.h"
#include "event/parser.h"
#include "pg/copy_writer.h"
#include "staging/staging_rows.h"

namespace {

using posflow::Cents;
using posflow::event::Transaction;

// staging.pos_transaction without ingested_at, and staging.pos_line (kStaged*Columns).
constexpr size_t kTransactionColumns = 27;
constexpr size_t kLineColumns = 8;

void Fail(const char* what, std::string_view detail = {}) {
  std::fprintf(stderr, "staging_row_fuzz invariant broken: %s '%.*s'\n", what,
               static_cast<int>(std::min<size_t>(detail.size(), 300)), detail.data());
  std::abort();
}

using Field = std::optional<std::string>;  // nullopt: NULL
using Row = std::vector<Field>;

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// One raw COPY field (between delimiters) decoded as PostgreSQL's CopyReadAttributesText does.
Field DecodeField(std::string_view raw) {
  if (raw == "\\N") return std::nullopt;
  std::string value;
  for (size_t i = 0; i < raw.size(); ++i) {
    if (raw[i] != '\\') {
      value.push_back(raw[i]);
      continue;
    }
    if (++i == raw.size()) Fail("a field ends in a lone backslash", raw);
    const char c = raw[i];
    if (c >= '0' && c <= '7') {
      int byte = c - '0';
      for (int digits = 1; digits < 3 && i + 1 < raw.size() && raw[i + 1] >= '0' &&
                           raw[i + 1] <= '7';
           ++digits) {
        byte = byte * 8 + (raw[++i] - '0');
      }
      value.push_back(static_cast<char>(byte & 0xff));
    } else if (c == 'x' && i + 1 < raw.size() && HexValue(raw[i + 1]) >= 0) {
      int byte = HexValue(raw[++i]);
      if (i + 1 < raw.size() && HexValue(raw[i + 1]) >= 0) byte = byte * 16 + HexValue(raw[++i]);
      value.push_back(static_cast<char>(byte));
    } else {
      // \b \f \n \r \t \v; "\\" and any other character: the character itself.
      static constexpr std::string_view kLetters = "bfnrtv";
      static constexpr std::string_view kBytes = "\b\f\n\r\t\v";
      const size_t letter = kLetters.find(c);
      value.push_back(letter == std::string_view::npos ? c : kBytes[letter]);
    }
  }
  // PostgreSQL verifies the decoded text in the server encoding (UTF-8), NUL refused.
  if (value.find('\0') != std::string::npos) Fail("a decoded value holds NUL", raw);
  if (!posflow::IsValidUtf8(value)) Fail("a decoded value is not UTF-8", raw);
  return value;
}

// The rows of a COPY text buffer: every row ends in '\n'.
std::vector<Row> DecodeCopyText(std::string_view text) {
  if (!posflow::IsValidUtf8(text)) Fail("COPY text is not UTF-8");
  if (text.find('\r') != std::string_view::npos) Fail("a raw carriage return in COPY text");
  std::vector<Row> rows;
  while (!text.empty()) {
    const size_t end = text.find('\n');
    if (end == std::string_view::npos) Fail("a row without its newline", text);
    const std::string_view line = text.substr(0, end);
    text.remove_prefix(end + 1);
    if (line == "\\.") Fail("an end-of-data marker inside the data");
    Row row;
    size_t begin = 0;
    while (true) {
      const size_t tab = line.find('\t', begin);
      row.push_back(DecodeField(line.substr(begin, tab - begin)));
      if (tab == std::string_view::npos) break;
      begin = tab + 1;
    }
    rows.push_back(std::move(row));
  }
  return rows;
}

const std::string& NotNull(const Field& field, const char* column) {
  if (!field) Fail("NULL in a not-null column:", column);
  return *field;
}

void ExpectText(const Field& field, std::string_view expected, const char* column) {
  if (NotNull(field, column) != expected) Fail("a text column differs:", column);
}

// TextOrNull: NULL exactly when the field is empty.
void ExpectTextOrNull(const Field& field, std::string_view expected, const char* column) {
  if (expected.empty() ? field.has_value() : (!field || *field != expected)) {
    Fail("a nullable text column differs:", column);
  }
}

bool AllDigits(std::string_view text) {
  if (text.empty()) return false;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

// An integer literal within [low, high].
std::int64_t ExpectInteger(const Field& field, std::int64_t low, std::int64_t high,
                           const char* column) {
  std::string_view text = NotNull(field, column);
  const bool negative = !text.empty() && text.front() == '-';
  if (negative) text.remove_prefix(1);
  if (!AllDigits(text) || text.size() > 18) Fail("not an integer:", column);
  std::int64_t value = 0;
  for (char c : text) value = value * 10 + (c - '0');
  if (negative) value = -value;
  if (value < low || value > high) Fail("an integer out of its column's range:", column);
  return value;
}

constexpr std::int64_t kInt32Min = -2147483648LL;
constexpr std::int64_t kInt32Max = 2147483647LL;

// numeric(12,2): at most 10 digits before the point, exactly 2 after.
void ExpectNumeric(const Field& field, Cents expected, const char* column) {
  std::string_view text = NotNull(field, column);
  const std::string literal(text);
  if (!text.empty() && text.front() == '-') text.remove_prefix(1);
  const size_t point = text.find('.');
  if (point == std::string_view::npos || point == 0 || point > 10 ||
      text.size() != point + 3 || !AllDigits(text.substr(0, point)) ||
      !AllDigits(text.substr(point + 1)) || (point > 1 && text.front() == '0')) {
    Fail("not a numeric(12,2) literal:", literal);
  }
  if (posflow::ParseCents(literal) != expected) Fail("a numeric column differs:", column);
}

// YYYY-MM-DD HH:MM:SS[.ffffff], equal to `expected` but for the offset.
void ExpectTimestamp(const Field& field, const posflow::CivilDateTime& expected) {
  const std::string& text = NotNull(field, "transaction_time");
  const std::string_view shape = "dddd-dd-dd dd:dd:dd";
  if (text.size() != 19 && text.size() != 26) Fail("not a timestamp:", text);
  for (size_t i = 0; i < shape.size(); ++i) {
    if (shape[i] == 'd' ? (text[i] < '0' || text[i] > '9') : text[i] != shape[i]) {
      Fail("not a timestamp:", text);
    }
  }
  if (text.size() == 26 && (text[19] != '.' || !AllDigits(std::string_view(text).substr(20)))) {
    Fail("not a timestamp:", text);
  }
  std::optional<posflow::CivilDateTime> time = posflow::ParseDateTime(text);
  if (!time) Fail("a timestamp out of range:", text);
  time->utc_offset_minutes = expected.utc_offset_minutes;
  if (*time != expected) Fail("the timestamp differs:", text);
}

// Strict JSON (RFC 8259) as PostgreSQL's jsonb input takes it.
class JsonbChecker {
 public:
  explicit JsonbChecker(std::string_view text) : text_(text) {}

  void CheckObjectDocument() {
    SkipSpace();
    if (Peek() != '{') Fail("extra is not an object", text_);
    Value(0);
    SkipSpace();
    if (pos_ != text_.size()) Fail("trailing content in extra", text_);
  }

 private:
  char Peek() const { return pos_ < text_.size() ? text_[pos_] : '\0'; }
  void Expect(char c) {
    if (Peek() != c) Fail("malformed JSON in extra", text_.substr(pos_));
    ++pos_;
  }
  void SkipSpace() {
    while (pos_ < text_.size() &&
           (text_[pos_] == ' ' || text_[pos_] == '\t' || text_[pos_] == '\n' ||
            text_[pos_] == '\r')) {
      ++pos_;
    }
  }
  void Literal(std::string_view word) {
    if (text_.substr(pos_, word.size()) != word) Fail("malformed literal in extra");
    pos_ += word.size();
  }
  int Hex4() {
    int code = 0;
    for (int i = 0; i < 4; ++i) {
      const int digit = HexValue(Peek());
      if (digit < 0) Fail("malformed \\u escape in extra");
      code = code * 16 + digit;
      ++pos_;
    }
    return code;
  }
  void String() {
    Expect('"');
    while (true) {
      if (pos_ >= text_.size()) Fail("unterminated string in extra");
      const auto c = static_cast<unsigned char>(text_[pos_++]);
      if (c == '"') return;
      if (c < 0x20) Fail("a raw control character in an extra string");
      if (c != '\\') continue;
      const char escape = Peek();
      ++pos_;
      if (escape == 'u') {
        const int code = Hex4();
        if (code == 0) Fail("\\u0000 in extra: jsonb refuses it (22P05)");
        if (code >= 0xDC00 && code <= 0xDFFF) Fail("a lone low surrogate in extra");
        if (code >= 0xD800 && code <= 0xDBFF) {
          Expect('\\');
          Expect('u');
          const int low = Hex4();
          if (low < 0xDC00 || low > 0xDFFF) Fail("a high surrogate without its low in extra");
        }
      } else if (std::string_view("\"\\/bfnrt").find(escape) == std::string_view::npos) {
        Fail("an invalid escape in extra");
      }
    }
  }
  void Number() {
    const size_t begin = pos_;
    if (Peek() == '-') ++pos_;
    size_t integer_digits = 0;
    size_t leading_zeros = 0;
    bool significant = false;
    if (Peek() == '0') {
      ++pos_;
      integer_digits = 1;
      leading_zeros = 1;
    } else if (Peek() >= '1' && Peek() <= '9') {
      while (Peek() >= '0' && Peek() <= '9') {
        ++pos_;
        ++integer_digits;
      }
      significant = true;
    } else {
      Fail("malformed number in extra", text_.substr(begin));
    }
    size_t fraction_digits = 0;
    if (Peek() == '.') {
      ++pos_;
      while (Peek() >= '0' && Peek() <= '9') {
        significant = significant || Peek() != '0';
        ++pos_;
        ++fraction_digits;
      }
      if (fraction_digits == 0) Fail("malformed fraction in extra");
    }
    long exponent = 0;
    if (Peek() == 'e' || Peek() == 'E') {
      ++pos_;
      const bool negative = Peek() == '-';
      if (Peek() == '+' || Peek() == '-') ++pos_;
      if (!(Peek() >= '0' && Peek() <= '9')) Fail("malformed exponent in extra");
      while (Peek() >= '0' && Peek() <= '9') {
        if (exponent < 1'000'000'000) exponent = exponent * 10 + (Peek() - '0');
        ++pos_;
      }
      if (negative) exponent = -exponent;
    }
    // PostgreSQL's numeric: display scale max(0, fraction digits - exponent) <= 16383, and at
    // most 131072 digits before the point (0 is fine at any exponent but for its scale).
    const long scale = static_cast<long>(fraction_digits) - exponent;
    if (scale > 16383) Fail("a number in extra numeric cannot hold (scale)", text_.substr(begin));
    if (significant &&
        static_cast<long>(integer_digits - leading_zeros) + exponent > 131072) {
      Fail("a number in extra numeric cannot hold (weight)", text_.substr(begin));
    }
  }
  void Value(int depth) {
    if (depth > 1000) Fail("extra nested too deep");
    SkipSpace();
    switch (Peek()) {
      case '{': {
        ++pos_;
        SkipSpace();
        if (Peek() == '}') {
          ++pos_;
          return;
        }
        while (true) {
          SkipSpace();
          String();
          SkipSpace();
          Expect(':');
          Value(depth + 1);
          SkipSpace();
          if (Peek() == ',') {
            ++pos_;
            continue;
          }
          Expect('}');
          return;
        }
      }
      case '[': {
        ++pos_;
        SkipSpace();
        if (Peek() == ']') {
          ++pos_;
          return;
        }
        while (true) {
          Value(depth + 1);
          SkipSpace();
          if (Peek() == ',') {
            ++pos_;
            continue;
          }
          Expect(']');
          return;
        }
      }
      case '"':
        String();
        return;
      case 't':
        Literal("true");
        return;
      case 'f':
        Literal("false");
        return;
      case 'n':
        Literal("null");
        return;
      default:
        Number();
    }
  }

  std::string_view text_;
  size_t pos_ = 0;
};

void CheckTransactionRow(const Row& row, const Transaction& transaction,
                         const posflow::staging::ValidMessage& message) {
  if (row.size() != kTransactionColumns) Fail("pos_transaction: wrong number of columns");
  const auto& customer = transaction.customer;
  const auto& store = transaction.store;
  ExpectText(row[0], transaction.transaction_id, "transaction_id");
  ExpectTimestamp(row[1], transaction.transaction_time);
  const auto& offset = transaction.transaction_time.utc_offset_minutes;
  if (offset) {
    if (ExpectInteger(row[2], -32768, 32767, "utc_offset_minutes") != *offset) {
      Fail("utc_offset_minutes differs");
    }
  } else if (row[2]) {
    Fail("utc_offset_minutes not NULL without an offset");
  }
  ExpectTextOrNull(row[3], customer.customer_id, "customer_id");
  ExpectTextOrNull(row[4], customer.first_name, "customer_first_name");
  ExpectTextOrNull(row[5], customer.last_name, "customer_last_name");
  ExpectTextOrNull(row[6], customer.email, "customer_email");
  ExpectTextOrNull(row[7], customer.street, "customer_street");
  ExpectTextOrNull(row[8], customer.city, "customer_city");
  ExpectTextOrNull(row[9], customer.province, "customer_province");
  ExpectTextOrNull(row[10], customer.postal_code, "customer_postal_code");
  ExpectText(row[11], store.store_id, "store_id");
  ExpectTextOrNull(row[12], store.name, "store_name");
  ExpectTextOrNull(row[13], store.address, "store_address");
  ExpectTextOrNull(row[14], store.city, "store_city");
  ExpectTextOrNull(row[15], store.province, "store_province");
  ExpectTextOrNull(row[16], store.postal_code, "store_postal_code");
  if (ExpectInteger(row[17], 1, kInt32Max, "line_count") !=
      static_cast<std::int64_t>(transaction.lines.size())) {
    Fail("line_count differs");
  }
  ExpectNumeric(row[18], transaction.subtotal_cents, "subtotal");
  ExpectNumeric(row[19], transaction.tax_cents, "tax");
  ExpectNumeric(row[20], transaction.total_cents, "total");
  ExpectText(row[21], transaction.payment_type, "payment_type");
  ExpectText(row[22], transaction.extra_json, "extra");
  JsonbChecker(*row[22]).CheckObjectDocument();
  const std::string& shape = NotNull(row[23], "source_shape");
  if (shape != "seed" && shape != "flattened" && shape != "camel_case") Fail("source_shape");
  ExpectText(row[24], message.source.topic, "topic");
  if (ExpectInteger(row[25], kInt32Min, kInt32Max, "kafka_partition") !=
      message.source.partition) {
    Fail("kafka_partition differs");
  }
  if (ExpectInteger(row[26], INT64_MIN + 1, INT64_MAX, "kafka_offset") != message.source.offset) {
    Fail("kafka_offset differs");
  }
}

void CheckLineRows(const std::vector<Row>& rows, const Transaction& transaction) {
  if (rows.size() != transaction.lines.size()) Fail("pos_line: one row per line");
  Cents running = 0;
  for (size_t index = 0; index < rows.size(); ++index) {
    const Row& row = rows[index];
    const auto& line = transaction.lines[index];
    if (row.size() != kLineColumns) Fail("pos_line: wrong number of columns");
    ExpectText(row[0], transaction.transaction_id, "transaction_id");
    if (ExpectInteger(row[1], 1, kInt32Max, "line_number") !=
        static_cast<std::int64_t>(index + 1)) {
      Fail("line_number differs");
    }
    ExpectTextOrNull(row[2], line.product_id, "product_id");
    ExpectText(row[3], line.item, "item");
    if (line.unit_price_cents < 0) Fail("unit_price < 0 breaks its check");
    ExpectNumeric(row[4], line.unit_price_cents, "unit_price");
    const std::int64_t quantity = ExpectInteger(row[5], kInt32Min, kInt32Max, "quantity");
    if (quantity == 0 || quantity != line.quantity) Fail("quantity");
    ExpectNumeric(row[6], line.line_total_cents, "line_total");
    running += line.line_total_cents;
    ExpectNumeric(row[7], running, "running_line_total");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static posflow::event::Parser parser;
  const std::string_view payload(reinterpret_cast<const char*>(data), size);
  Transaction transaction;
  std::vector<posflow::event::Problem> problems;
  if (!parser.Parse(payload, &transaction, &problems)) return 0;

  posflow::staging::ValidMessage message;
  message.source = {.topic = "pos-transactions", .partition = 7, .offset = 123456789012};
  message.payload = payload;
  message.transaction = &transaction;

  std::string transaction_rows;
  posflow::pg::CopyWriter transaction_writer(&transaction_rows);
  posflow::staging::AppendStagedTransactionRow(message, "", &transaction_writer);
  const std::vector<Row> decoded = DecodeCopyText(transaction_rows);
  if (decoded.size() != 1) Fail("pos_transaction: not one row");
  CheckTransactionRow(decoded[0], transaction, message);

  std::string line_rows;
  posflow::pg::CopyWriter line_writer(&line_rows);
  posflow::staging::AppendStagedLineRows(message, &line_writer);
  CheckLineRows(DecodeCopyText(line_rows), transaction);
  return 0;
}
