#include "integration/hostile_corpus.h"

#include <algorithm>
#include <cstdlib>
#include <map>
#include <optional>
#include <set>
#include <string_view>
#include <utility>

#include "common/money.h"
#include "event/transaction.h"
#include "sim/random.h"
#include "sim/reference_data.h"

namespace posflow::testing {
namespace {

using event::Line;
using event::Transaction;

// A hostile string value: its JSON literal as written and, where JSON defines it, what it
// decodes to. `fill` >= 0: the value is built at render time to make the whole message
// max_message_bytes + fill bytes long.
struct TextValue {
  std::string name;
  std::string raw;  // the JSON string literal, quotes included
  bool has_decoded = true;
  std::string decoded;
  int fill = -1;
};

std::string Literal(std::string_view text) {
  std::string out;
  event::AppendJsonString(text, &out);
  return out;
}

TextValue Plain(std::string name, std::string decoded) {
  TextValue value{std::move(name), Literal(decoded), true, decoded, -1};
  return value;
}

// `raw_inner` is written between the quotes as it is (escapes chosen by the caller).
TextValue Escaped(std::string name, std::string_view raw_inner, std::optional<std::string> decoded) {
  TextValue value;
  value.name = std::move(name);
  value.raw = "\"" + std::string(raw_inner) + "\"";
  value.has_decoded = decoded.has_value();
  value.decoded = decoded.value_or("");
  return value;
}

// Compressible text of exactly `bytes` bytes.
std::string Pattern(std::size_t bytes) {
  static constexpr std::string_view kAlphabet = "abcdefghijklmnopqrstuvwxyz0123456789";
  std::string text;
  text.reserve(bytes);
  for (std::size_t i = 0; i < bytes; ++i) text.push_back(kAlphabet[i % kAlphabet.size()]);
  return text;
}

// Random printable ASCII (quotes and backslashes included: they are escaped in the literal).
std::string RandomPrintable(sim::Rng& rng, std::size_t bytes) {
  std::string text;
  text.reserve(bytes);
  for (std::size_t i = 0; i < bytes; ++i) text.push_back(static_cast<char>(0x21 + rng.Index(94)));
  return text;
}

// Random letters and digits: nothing to escape, so the literal is the text plus its quotes.
std::string RandomAlnum(sim::Rng& rng, std::size_t bytes) {
  static constexpr std::string_view kAlphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  std::string text;
  text.reserve(bytes);
  for (std::size_t i = 0; i < bytes; ++i) text.push_back(kAlphabet[rng.Index(kAlphabet.size())]);
  return text;
}

void AppendUtf8(std::uint32_t code_point, std::string* out) {
  if (code_point < 0x80) {
    out->push_back(static_cast<char>(code_point));
  } else if (code_point < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (code_point >> 6)));
    out->push_back(static_cast<char>(0x80 | (code_point & 0x3F)));
  } else if (code_point < 0x10000) {
    out->push_back(static_cast<char>(0xE0 | (code_point >> 12)));
    out->push_back(static_cast<char>(0x80 | ((code_point >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (code_point & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xF0 | (code_point >> 18)));
    out->push_back(static_cast<char>(0x80 | ((code_point >> 12) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | ((code_point >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (code_point & 0x3F)));
  }
}

// Random multi-byte UTF-8 (2-, 3- and 4-byte code points, no surrogates, no controls) of
// exactly `bytes` bytes (ASCII letters fill the last few bytes).
std::string RandomUtf8(sim::Rng& rng, std::size_t bytes) {
  std::string text;
  text.reserve(bytes);
  while (text.size() + 4 <= bytes) {
    const std::uint64_t width = 2 + rng.Index(3);
    std::uint32_t code_point;
    if (width == 2) {
      code_point = static_cast<std::uint32_t>(0xA0 + rng.Index(0x800 - 0xA0));
    } else if (width == 3) {
      code_point = static_cast<std::uint32_t>(0x800 + rng.Index(0xD800 - 0x800));
    } else {
      code_point = static_cast<std::uint32_t>(0x10000 + rng.Index(0x110000 - 0x10000));
    }
    AppendUtf8(code_point, &text);
  }
  while (text.size() < bytes) text.push_back(static_cast<char>('a' + rng.Index(26)));
  return text;
}

std::string Repeat(std::string_view unit, std::size_t times) {
  std::string text;
  for (std::size_t i = 0; i < times; ++i) text.append(unit);
  return text;
}

std::string Hex2(unsigned value) {
  static constexpr char kHex[] = "0123456789abcdef";
  return {kHex[(value >> 4) & 0xF], kHex[value & 0xF]};
}

// Every hostile string value. Random ones come from the seed's own stream.
std::vector<TextValue> TextValues(std::uint64_t seed, std::size_t max_message_bytes) {
  sim::Rng rng = sim::Rng::Stream(seed, 0x7e47);
  std::vector<TextValue> values;
  values.push_back(Plain("empty", ""));
  values.push_back(Plain("1 byte", "x"));
  for (std::size_t length : {127u, 128u, 129u, 255u, 256u, 1023u, 1024u, 1025u, 2700u, 2704u,
                             2705u, 8000u, 65536u}) {
    values.push_back(Plain("len " + std::to_string(length) + " ascii", Pattern(length)));
  }
  for (std::size_t length : {2700u, 8000u, 100000u}) {
    values.push_back(Plain("len " + std::to_string(length) + " random printable",
                           RandomPrintable(rng, length)));
  }
  for (std::size_t length : {2700u, 8000u}) {
    values.push_back(
        Plain("len " + std::to_string(length) + " random utf-8", RandomUtf8(rng, length)));
  }
  values.push_back(Plain("len 2700 of 2-byte e-acute", Repeat("\xC3\xA9", 1350)));
  values.push_back(Plain("len " + std::to_string(max_message_bytes / 2) + " random alnum",
                         RandomAlnum(rng, max_message_bytes / 2)));
  {
    TextValue exact;
    exact.name = "fills the message to exactly the size limit";
    exact.fill = 0;
    values.push_back(exact);
    TextValue over = exact;
    over.name = "fills the message to one byte over the size limit";
    over.fill = 1;
    values.push_back(over);
  }
  // Control characters, each as a JSON \u escape between two letters, and NUL alone.
  for (unsigned code = 0; code < 0x20; ++code) {
    values.push_back(Escaped("\\u00" + Hex2(code), "a\\u00" + Hex2(code) + "b",
                             std::string("a") + static_cast<char>(code) + "b"));
  }
  values.push_back(Escaped("\\u007f", "a\\u007fb", std::string("a\x7f" "b")));
  values.push_back(Escaped("only \\u0000", "\\u0000", std::string(1, '\0')));
  values.push_back(Escaped("\\u0000 at the end of 300 bytes", Pattern(300) + "\\u0000",
                           Pattern(300) + std::string(1, '\0')));
  values.push_back(Plain("raw DEL byte", "a\x7f" "b"));
  values.push_back(Escaped("short escapes \\n\\r\\t\\b\\f\\/\\\"", "n\\nr\\rt\\tb\\bf\\f s\\/ q\\\"",
                           std::string("n\nr\rt\tb\bf\f s/ q\"")));
  values.push_back(Plain("ANSI escape sequence", "\x1b[31mred\x1b[0m"));
  // Surrogates: lone ones (JSON leaves their meaning undefined), reversed, and valid pairs.
  values.push_back(Escaped("lone \\ud800", "a\\ud800b", std::nullopt));
  values.push_back(Escaped("lone \\udfff", "a\\udfffb", std::nullopt));
  values.push_back(Escaped("only \\ud800", "\\ud800", std::nullopt));
  values.push_back(Escaped("reversed pair \\udc00\\ud800", "\\udc00\\ud800", std::nullopt));
  values.push_back(Escaped("high surrogate then \\u0041", "\\ud83d\\u0041", std::nullopt));
  values.push_back(Escaped("pair \\ud83d\\ude00", "\\ud83d\\ude00", "\xF0\x9F\x98\x80"));
  values.push_back(Escaped("pair in capitals \\uD834\\uDD1E", "\\uD834\\uDD1E", "\xF0\x9D\x84\x9E"));
  values.push_back(Plain("raw U+10FFFF", "\xF4\x8F\xBF\xBF"));
  values.push_back(Plain("raw emoji with skin tone and ZWJ",
                         "\xF0\x9F\x91\xA9\xF0\x9F\x8F\xBD\xE2\x80\x8D\xF0\x9F\x92\xBB"));
  // Bidirectional and combining marks, invisible and non-characters.
  values.push_back(Escaped("U+202E escaped", "abc\\u202edef", "abc\xE2\x80\xAE" "def"));
  values.push_back(Plain("U+202E raw", "\xE2\x80\xAE" "gnp.exe"));
  values.push_back(Plain("200 stacked U+0301", "e" + Repeat("\xCC\x81", 200)));
  values.push_back(Plain("BOM and zero-width space", "\xEF\xBB\xBF" "a\xE2\x80\x8B" "b"));
  values.push_back(Plain("non-characters U+FFFE U+FFFF", "\xEF\xBF\xBE\xEF\xBF\xBF"));
  values.push_back(Escaped("U+2028 U+2029 escaped", "a\\u2028b\\u2029c",
                           "a\xE2\x80\xA8" "b\xE2\x80\xA9" "c"));
  values.push_back(Plain("no-break spaces only", "\xC2\xA0\xC2\xA0"));
  values.push_back(Plain("spaces only", "   "));
  values.push_back(Plain("padded with spaces", "  x  "));
  // SQL-looking text.
  values.push_back(Plain("sql: '; drop table x; --", "'; drop table x; --"));
  values.push_back(Plain("sql: Robert'); DROP TABLE students;--", "Robert'); DROP TABLE students;--"));
  values.push_back(Plain("sql: ' or '1'='1", "' or '1'='1"));
  values.push_back(Plain("sql: dollar quoting", "$$; select pg_sleep(30); $$"));
  values.push_back(Plain("sql: E'\\\\x00'", "E'\\x00'"));
  // CSV formulas.
  values.push_back(Plain("csv: =cmd|' /C calc'!A0", "=cmd|' /C calc'!A0"));
  values.push_back(Plain("csv: +1", "+1"));
  values.push_back(Plain("csv: @SUM(1)", "@SUM(1)"));
  values.push_back(Plain("csv: -2+3", "-2+3"));
  values.push_back(Plain("csv: =HYPERLINK", "=HYPERLINK(\"http://x.invalid\",\"y\")"));
  // COPY text format specials (decoded as written here).
  values.push_back(Plain("copy: \\.", "\\."));
  values.push_back(Plain("copy: \\. on its own line", "\n\\.\n"));
  values.push_back(Plain("copy: \\N", "\\N"));
  values.push_back(Plain("copy: tab", "\t"));
  values.push_back(Plain("copy: \\x41", "\\x41"));
  values.push_back(Plain("copy: \\011", "\\011"));
  values.push_back(Plain("copy: one backslash", "\\"));
  values.push_back(Plain("copy: two backslashes", "\\\\"));
  values.push_back(Plain("copy: tab newline return", "a\tb\nc\rd"));
  values.push_back(Plain("copy: CRLF", "\r\n"));
  // Format strings and log forgery.
  values.push_back(Plain("format: {}", "{}"));
  values.push_back(Plain("format: {:>2000000000}", "{:>2000000000}"));
  values.push_back(Plain("format: %s%s%s%n", "%s%s%s%n"));
  values.push_back(Plain("format: ${jndi:ldap://x/a}", "${jndi:ldap://x.invalid/a}"));
  values.push_back(Plain("log: forged line", "\n2026-01-01 00:00:00.000 [error] forged log line"));
  // JSON-, array- and MongoDB-looking text.
  values.push_back(Plain("json: {\"a\":1}", "{\"a\":1}"));
  values.push_back(Plain("json: null", "null"));
  values.push_back(Plain("json: []", "[]"));
  values.push_back(Plain("json: one quote", "\""));
  values.push_back(Plain("json: \\u0000 as text", "\\u0000"));
  values.push_back(Plain("pg array: {a,\"b\"}", "{a,\"b\"}"));
  values.push_back(Plain("mongo: $where", "$where"));
  values.push_back(Plain("mongo: {$gt: ''}", "{$gt: ''}"));
  values.push_back(Plain("mongo: a.b", "a.b"));
  return values;
}

// The string fields of the seed shape, as the parser names them ("items[k]" is resolved to a
// line of the receipt).
const std::vector<std::string>& TextFields() {
  static const std::vector<std::string> fields = {
      "transaction_id",        "customer.customer_id", "customer.first_name",
      "customer.last_name",    "customer.email",       "customer.street",
      "customer.city",         "customer.province",    "customer.postal_code",
      "items[k].product_id",   "items[k].item",        "payment_type",
      "location.store_id",     "location.name",        "location.address",
      "location.city",         "location.province",    "location.postal_code",
      "note"};  // an unknown field: kept in staging's `extra` (jsonb, or a MongoDB sub-document)
  return fields;
}

const std::vector<std::string>& MoneyFields() {
  static const std::vector<std::string> fields = {"items[k].price", "items[k].total_price",
                                                  "subtotal", "tax", "total"};
  return fields;
}

// JSON number tokens, written as they are: the edges of cents in int64 (and ParseCents' 10^15
// cents), of numeric(12,2) (9999999999.99), of int32, int64 and double.
const std::vector<std::string>& MoneyTokens() {
  static const std::vector<std::string> tokens = {
      "0",        "-0",           "0.0",           "0.001",
      "0.005",    "0.015",        "1e-400",        "4.9e-324",
      "-1",       "-0.01",        "9999999999.99", "10000000000.00",
      "99999999999.99", "999999999999.99", "9999999999999.99", "1e15",
      "1e300",    "1.7976931348623157e308", "2147483647", "2147483648",
      "9223372036854775807", "9223372036854775808", "1e19", "123456789012345678901234567890",
      "1E2",      "0.1e1"};
  return tokens;
}

const std::vector<std::string>& QuantityTokens() {
  static const std::vector<std::string> tokens = {
      "0",          "-0",          "1",           "-1",          "9999",
      "10000",      "10001",       "-10000",      "-10001",      "32767",
      "32768",      "2147483647",  "2147483648",  "-2147483648", "-2147483649",
      "9223372036854775807", "9223372036854775808", "1e19", "1e300", "1.0",
      "1.5",        "1e2",         "1e-400",      "0.001"};
  return tokens;
}

const std::vector<std::string>& DateTexts() {
  static const std::vector<std::string> dates = {
      "0001-01-01 00:00:00",       "1899-12-31 23:59:59",       "1900-01-01 00:00:00",
      "1970-01-01 00:00:00",       "2038-01-19 03:14:08",       "2999-12-31 23:59:59",
      "3000-01-01 00:00:00",       "9999-12-31 23:59:59",       "2024-02-29 12:00:00",
      "2023-02-29 12:00:00",       "2000-02-29 12:00:00",       "1900-02-29 12:00:00",
      "2024-01-01T00:00:00+14:00", "2024-01-01T00:00:00-12:00", "2024-01-01T00:00:00+99:00",
      "2024-01-01T00:00:00Z",      "2999-12-31T23:59:59-12:00", "2024-01-01T00:00:00.999999Z",
      "2024-13-01 00:00:00",       "2024-01-01 24:00:00",       "2024-06-30 23:59:60",
      "2024-01-01",                " 2024-01-01 00:00:00",      "2024-01-01 00:00:00 "};
  return dates;
}

const std::vector<int>& ItemCounts() {
  static const std::vector<int> counts = {0, 1, 1000, 1001, 5000};
  return counts;
}

const std::vector<std::string>& DuplicateKeyCases() {
  static const std::vector<std::string> cases = {
      "transaction_id twice",
      "transaction_id twice, the second spelled with an escape",
      "total twice, the first wrong",
      "total twice, the second wrong",
      "items twice, the second empty",
      "location.store_id twice",
      "items[0].quantity twice",
      "customer twice, the second null"};
  return cases;
}

// Unknown top-level keys (kept in staging's `extra`): raw key literals.
const std::vector<std::pair<std::string, std::string>>& ExtraKeyCases() {
  static const std::vector<std::pair<std::string, std::string>> cases = {
      {"$where", "\"$where\""},        {"a.b.c", "\"a.b.c\""},
      {"empty key", "\"\""},           {"\\u0000 key", "\"\\u0000\""},
      {"_id", "\"_id\""},              {"__proto__", "\"__proto__\""},
      {"key with \\u0000 inside", "\"k\\u0000ey\""}, {"3000-byte key", ""}};
  return cases;
}

struct Case {
  HostileKind kind;
  int field;  // index into the kind's field list (0 where there is one field)
  int value;  // index into the kind's value list
};

// Identifies a value across kinds, for coverage.
int ValueId(const Case& c) { return static_cast<int>(c.kind) * 10000 + c.value; }
int FieldId(const Case& c) { return static_cast<int>(c.kind) * 10000 + c.field; }

std::vector<Case> AllCases(std::size_t text_values) {
  std::vector<Case> cases;
  for (int field = 0; field < static_cast<int>(TextFields().size()); ++field) {
    for (int value = 0; value < static_cast<int>(text_values); ++value) {
      cases.push_back({HostileKind::kText, field, value});
    }
  }
  for (int field = 0; field < static_cast<int>(MoneyFields().size()); ++field) {
    for (int value = 0; value < static_cast<int>(MoneyTokens().size()); ++value) {
      cases.push_back({HostileKind::kMoney, field, value});
    }
  }
  auto single = [&cases](HostileKind kind, std::size_t count) {
    for (int value = 0; value < static_cast<int>(count); ++value) cases.push_back({kind, 0, value});
  };
  single(HostileKind::kQuantity, QuantityTokens().size());
  single(HostileKind::kDate, DateTexts().size());
  single(HostileKind::kItemCount, ItemCounts().size());
  single(HostileKind::kDuplicateKey, DuplicateKeyCases().size());
  single(HostileKind::kExtraKey, ExtraKeyCases().size());
  single(HostileKind::kReusedId, 1);
  return cases;
}

// The seed-shape receipt with hostile edits: `raw` replaces the JSON value at a path, `after`
// adds members after the member at a path (",\"key\":value"), `extra_members` is added last.
struct Receipt {
  Transaction transaction;
  std::map<std::string, std::string> raw;
  std::map<std::string, std::string> after;
  std::string extra_members;
};

class Renderer {
 public:
  explicit Renderer(const Receipt& receipt) : receipt_(receipt) {}

  std::string Render() {
    const Transaction& t = receipt_.transaction;
    out_ = "{";
    Member("transaction_id", "transaction_id", Literal(t.transaction_id), true);
    Member("transaction_date", "transaction_date",
           "\"" + FormatSeedDateTime(t.transaction_time) + "\"", false);
    out_ += ",\"customer\":";
    if (auto raw = receipt_.raw.find("customer"); raw != receipt_.raw.end()) {
      out_ += raw->second;
    } else {
      const event::Customer& c = t.customer;
      out_ += "{";
      Member("customer.customer_id", "customer_id", Literal(c.customer_id), true);
      Member("customer.first_name", "first_name", Literal(c.first_name), false);
      Member("customer.last_name", "last_name", Literal(c.last_name), false);
      Member("customer.email", "email", Literal(c.email), false);
      Member("customer.street", "street", Literal(c.street), false);
      Member("customer.city", "city", Literal(c.city), false);
      Member("customer.province", "province", Literal(c.province), false);
      Member("customer.postal_code", "postal_code", Literal(c.postal_code), false);
      out_ += "}";
    }
    After("customer");
    out_ += ",\"items\":[";
    for (std::size_t index = 0; index < t.lines.size(); ++index) {
      const Line& line = t.lines[index];
      const std::string prefix = "items[" + std::to_string(index) + "].";
      if (index > 0) out_ += ',';
      out_ += "{";
      bool first = true;
      if (!line.product_id.empty() || receipt_.raw.count(prefix + "product_id")) {
        Member(prefix + "product_id", "product_id", Literal(line.product_id), true);
        first = false;
      }
      Member(prefix + "item", "item", Literal(line.item), first);
      Member(prefix + "price", "price", FormatCents(line.unit_price_cents), false);
      Member(prefix + "quantity", "quantity", std::to_string(line.quantity), false);
      Member(prefix + "total_price", "total_price", FormatCents(line.line_total_cents), false);
      out_ += "}";
    }
    out_ += "]";
    After("items");
    Member("subtotal", "subtotal", FormatCents(t.subtotal_cents), false);
    Member("tax", "tax", FormatCents(t.tax_cents), false);
    Member("total", "total", FormatCents(t.total_cents), false);
    Member("payment_type", "payment_type", Literal(t.payment_type), false);
    out_ += ",\"location\":{";
    const event::Store& s = t.store;
    Member("location.store_id", "store_id", Literal(s.store_id), true);
    Member("location.name", "name", Literal(s.name), false);
    Member("location.address", "address", Literal(s.address), false);
    Member("location.city", "city", Literal(s.city), false);
    Member("location.province", "province", Literal(s.province), false);
    Member("location.postal_code", "postal_code", Literal(s.postal_code), false);
    out_ += "}";
    if (receipt_.raw.count("note")) Member("note", "note", "\"\"", false);
    out_ += receipt_.extra_members;
    out_ += "}";
    return std::move(out_);
  }

 private:
  void Member(const std::string& path, std::string_view key, const std::string& normal,
              bool first) {
    if (!first) out_ += ',';
    out_ += '"';
    out_ += key;
    out_ += "\":";
    auto raw = receipt_.raw.find(path);
    out_ += raw != receipt_.raw.end() ? raw->second : normal;
    After(path);
  }
  void After(const std::string& path) {
    if (auto after = receipt_.after.find(path); after != receipt_.after.end()) {
      out_ += after->second;
    }
  }

  const Receipt& receipt_;
  std::string out_;
};

void Recompute(Transaction* t) {
  t->subtotal_cents = 0;
  for (const Line& line : t->lines) t->subtotal_cents += line.line_total_cents;
  t->total_cents = t->subtotal_cents + t->tax_cents;
}

// 13 % tax (Ontario's HST), rounded half up, on a non-negative subtotal.
Cents Tax(Cents subtotal) { return subtotal <= 0 ? 0 : (subtotal * 13 + 50) / 100; }

Line ReferenceLine(sim::Rng& rng, const sim::ReferenceData& reference) {
  const sim::ProductInfo& product = reference.products[rng.Index(reference.products.size())];
  Line line;
  line.product_id = product.product_id;
  line.item = product.name;
  line.unit_price_cents = product.unit_price_cents;
  line.quantity = static_cast<std::int32_t>(1 + rng.Index(3));
  line.line_total_cents = line.unit_price_cents * line.quantity;
  return line;
}

// A valid receipt of the reference chain at store S001.
Transaction BaseReceipt(sim::Rng& rng, const sim::ReferenceData& reference, std::string id,
                        int day) {
  Transaction t;
  t.transaction_id = std::move(id);
  t.transaction_time.year = 2026;
  t.transaction_time.month = 3;
  t.transaction_time.day = day;
  t.transaction_time.hour = static_cast<int>(8 + rng.Index(13));
  t.transaction_time.minute = static_cast<int>(rng.Index(60));
  t.transaction_time.second = static_cast<int>(rng.Index(60));
  t.store = reference.stores.front().store;
  const std::size_t lines = 1 + rng.Index(3);
  for (std::size_t i = 0; i < lines; ++i) t.lines.push_back(ReferenceLine(rng, reference));
  t.payment_type = reference.payment_types[rng.Index(reference.payment_types.size())].name;
  Recompute(&t);
  t.tax_cents = Tax(t.subtotal_cents);
  Recompute(&t);
  return t;
}

// A JSON number token's value as an integer when it is one within +-10^15 ("1.0" and "1e2"
// count), else nullopt.
std::optional<std::int64_t> IntegerValue(const std::string& token) {
  char* end = nullptr;
  const double value = std::strtod(token.c_str(), &end);
  if (end != token.c_str() + token.size()) return std::nullopt;
  if (!(value > -1e15 && value < 1e15)) return std::nullopt;
  const auto integer = static_cast<std::int64_t>(value);
  if (static_cast<double>(integer) != value) return std::nullopt;
  return integer;
}

// One line of |cents| at quantity +-1 (a return when negative).
Line SingleLine(const Transaction& t, Cents cents) {
  Line line = t.lines.front();
  line.quantity = cents < 0 ? -1 : 1;
  line.unit_price_cents = cents < 0 ? -cents : cents;
  line.line_total_cents = cents;
  return line;
}

void ApplyMoney(int field, const std::string& token, std::size_t line_index, Receipt* receipt,
                std::string* path) {
  Transaction& t = receipt->transaction;
  const std::optional<Cents> cents = ParseCents(token);
  const std::string line_prefix = "items[" + std::to_string(line_index) + "].";
  switch (field) {
    case 0: {  // price: one unit of it
      *path = line_prefix + "price";
      if (cents) {
        Line& line = t.lines[line_index];
        line.quantity = 1;
        line.unit_price_cents = *cents;
        line.line_total_cents = *cents;
        Recompute(&t);
      }
      break;
    }
    case 1: {  // total_price: one unit at that price, or one returned
      *path = line_prefix + "total_price";
      if (cents) {
        t.lines[line_index] = SingleLine(t, *cents);
        Recompute(&t);
      }
      break;
    }
    case 2:    // subtotal
    case 4: {  // total: one line, no tax
      *path = field == 2 ? "subtotal" : "total";
      if (cents) {
        t.lines = {SingleLine(t, *cents)};
        t.tax_cents = 0;
        Recompute(&t);
      }
      break;
    }
    case 3: {  // tax
      *path = "tax";
      if (cents) {
        t.tax_cents = *cents;
        Recompute(&t);
      }
      break;
    }
  }
  receipt->raw[*path] = token;
}

void ApplyQuantity(const std::string& token, std::size_t line_index, Receipt* receipt,
                   std::string* path) {
  Transaction& t = receipt->transaction;
  *path = "items[" + std::to_string(line_index) + "].quantity";
  receipt->raw[*path] = token;
  const std::optional<std::int64_t> quantity = IntegerValue(token);
  if (!quantity) return;
  Line& line = t.lines[line_index];
  // Absurd quantities at one cent each, so that the amounts stay within range.
  const Cents unit = std::llabs(*quantity) > 10'000 ? 1 : line.unit_price_cents;
  const std::int64_t total = unit * *quantity;
  if (total > 100'000'000'000 || total < -100'000'000'000) return;
  line.unit_price_cents = unit;
  line.line_total_cents = total;
  Recompute(&t);
}

void ApplyDuplicateKey(int value, Receipt* receipt, std::string* path) {
  Transaction& t = receipt->transaction;
  switch (value) {
    case 0:
      *path = "transaction_id";
      receipt->after[*path] = ",\"transaction_id\":" + Literal(t.transaction_id + "-second");
      break;
    case 1:
      *path = "transaction_id";
      receipt->after[*path] =
          ",\"transaction\\u005fid\":" + Literal(t.transaction_id + "-escaped");
      break;
    case 2:
      *path = "total";
      receipt->raw[*path] = FormatCents(t.total_cents + 100);
      receipt->after[*path] = ",\"total\":" + FormatCents(t.total_cents);
      break;
    case 3:
      *path = "total";
      receipt->after[*path] = ",\"total\":" + FormatCents(t.total_cents + 100);
      break;
    case 4:
      *path = "items";
      receipt->after[*path] = ",\"items\":[]";
      break;
    case 5:
      *path = "location.store_id";
      receipt->after[*path] = ",\"store_id\":\"S002\"";
      break;
    case 6:
      *path = "items[0].quantity";
      receipt->after[*path] = ",\"quantity\":" + std::to_string(t.lines[0].quantity + 1);
      break;
    case 7:
      *path = "customer";
      receipt->after[*path] = ",\"customer\":null";
      break;
  }
}

// The text field at `path` of the receipt.
std::string* TextField(Transaction* t, const std::string& path, std::size_t line_index) {
  static thread_local std::string unmodelled;  // "note": not a field of Transaction
  if (path == "note") return &unmodelled;
  if (path == "transaction_id") return &t->transaction_id;
  if (path == "payment_type") return &t->payment_type;
  if (path == "items[k].product_id") return &t->lines[line_index].product_id;
  if (path == "items[k].item") return &t->lines[line_index].item;
  event::Customer& c = t->customer;
  if (path == "customer.customer_id") return &c.customer_id;
  if (path == "customer.first_name") return &c.first_name;
  if (path == "customer.last_name") return &c.last_name;
  if (path == "customer.email") return &c.email;
  if (path == "customer.street") return &c.street;
  if (path == "customer.city") return &c.city;
  if (path == "customer.province") return &c.province;
  if (path == "customer.postal_code") return &c.postal_code;
  event::Store& s = t->store;
  if (path == "location.store_id") return &s.store_id;
  if (path == "location.name") return &s.name;
  if (path == "location.address") return &s.address;
  if (path == "location.city") return &s.city;
  if (path == "location.province") return &s.province;
  return &s.postal_code;
}

// Appends `message` and a sentinel after it.
void AppendWithSentinel(std::uint64_t seed, const sim::ReferenceData& reference,
                        CorpusMessage message, std::vector<CorpusMessage>* corpus) {
  message.index = static_cast<int>(corpus->size());
  const std::string number = std::to_string(seed) + "-" + std::to_string(message.index);
  corpus->push_back(std::move(message));
  sim::Rng rng = sim::Rng::Stream(seed, 0x5e47'0000 + corpus->size());
  Transaction sentinel = BaseReceipt(rng, reference, "sentinel-" + number, 15);
  CorpusMessage after;
  after.sentinel = true;
  after.transaction_id = sentinel.transaction_id;
  event::AppendSeedJson(sentinel, &after.payload);
  after.key = sentinel.store.store_id;
  after.index = static_cast<int>(corpus->size());
  corpus->push_back(std::move(after));
}

void AppendCumulative(const HostileCorpusOptions& options, const sim::ReferenceData& reference,
                      std::vector<CorpusMessage>* corpus) {
  const std::uint64_t seed = options.seed;
  const std::string seed_text = std::to_string(seed);
  sim::Rng rng = sim::Rng::Stream(seed, 0xc0de);
  auto receipt = [&](const std::string& id, int day) {
    Transaction t = BaseReceipt(rng, reference, id, day);
    t.customer = {};
    t.payment_type = "Cash";
    return t;
  };
  auto add = [&](const Transaction& t, const std::string& field, const std::string& value) {
    CorpusMessage message;
    message.kind = HostileKind::kCumulative;
    message.transaction_id = t.transaction_id;
    message.field = field;
    message.value_name = value;
    event::AppendSeedJson(t, &message.payload);
    message.key = t.store.store_id;
    AppendWithSentinel(seed, reference, std::move(message), corpus);
  };
  constexpr Cents kMaxAmount = 999'999'999'999;  // 9 999 999 999.99, numeric(12,2)'s largest
  for (int i = 0; options.cumulative && i < 101; ++i) {
    Transaction t = receipt("max-total-" + seed_text + "-" + std::to_string(i), 20);
    t.transaction_time.hour = 12;
    t.lines = {t.lines.front()};
    t.lines[0].quantity = 1;
    t.lines[0].unit_price_cents = kMaxAmount;
    t.lines[0].line_total_cents = kMaxAmount;
    t.tax_cents = 0;
    Recompute(&t);
    add(t, "101 totals of 9999999999.99 on one store-day", "receipt " + std::to_string(i + 1));
  }
  if (options.cumulative) {
    Transaction t = receipt("tax-share-" + seed_text, 21);
    Line sold = t.lines.front();
    sold.quantity = 1;
    sold.unit_price_cents = kMaxAmount;
    sold.line_total_cents = kMaxAmount;
    Line returned = sold;
    returned.quantity = -1;
    returned.unit_price_cents = kMaxAmount - 1;
    returned.line_total_cents = -(kMaxAmount - 1);
    t.lines = {sold, returned};
    t.tax_cents = 100'000'000;
    Recompute(&t);
    add(t, "tax share of a line beyond numeric(12,2)", "subtotal 0.01, tax 1000000.00");
  }
  const sim::ProductInfo& product = reference.products.front();
  for (int i = 0; options.cumulative_inventory && i < 220; ++i) {
    Transaction t = receipt("on-hand-" + seed_text + "-" + std::to_string(i), 22);
    Line line;
    line.product_id = product.product_id;
    line.item = product.name;
    line.unit_price_cents = 1;
    line.quantity = -10'000;
    line.line_total_cents = -10'000;
    t.lines.assign(1000, line);
    t.tax_cents = 0;
    Recompute(&t);
    add(t, "220 x 1000 returned lines of 10000 units into one integer on-hand",
        "receipt " + std::to_string(i + 1));
  }
}

}  // namespace

std::string CorpusMessage::Describe() const {
  std::string text = "#" + std::to_string(index) + " ";
  text += sentinel ? "sentinel " + transaction_id : field + " = " + value_name;
  return text + " (" + std::to_string(payload.size()) + " bytes)";
}

int HostileCaseCount() {
  return static_cast<int>(AllCases(TextValues(1, 1 << 20).size()).size());
}

std::vector<CorpusMessage> MakeHostileCorpus(const HostileCorpusOptions& options) {
  const sim::ReferenceData& reference = sim::DefaultReferenceData();
  const std::vector<TextValue> text_values = TextValues(options.seed, options.max_message_bytes);
  std::vector<Case> cases = AllCases(text_values.size());

  // The order: shuffled by the seed (Fisher-Yates), then every value and every field first.
  sim::Rng order_rng = sim::Rng::Stream(options.seed, 0x0de5);
  for (std::size_t i = cases.size(); i > 1; --i) {
    std::swap(cases[i - 1], cases[order_rng.Index(i)]);
  }
  std::vector<Case> ordered;
  std::vector<bool> taken(cases.size(), false);
  std::set<int> values_seen, fields_seen;
  for (std::size_t i = 0; i < cases.size(); ++i) {
    if (values_seen.count(ValueId(cases[i])) && fields_seen.count(FieldId(cases[i]))) continue;
    values_seen.insert(ValueId(cases[i]));
    fields_seen.insert(FieldId(cases[i]));
    ordered.push_back(cases[i]);
    taken[i] = true;
  }
  for (std::size_t i = 0; i < cases.size(); ++i) {
    if (!taken[i]) ordered.push_back(cases[i]);
  }
  const std::size_t count =
      std::min(ordered.size(), static_cast<std::size_t>(std::max(options.hostile_count, 0)));

  const std::string seed_text = std::to_string(options.seed);
  std::vector<CorpusMessage> corpus;
  corpus.reserve(2 * count);
  for (std::size_t i = 0; i < count; ++i) {
    const Case& c = ordered[i];
    sim::Rng rng = sim::Rng::Stream(options.seed, 1000 + i);
    const std::string number = seed_text + "-" + std::to_string(i);
    Receipt receipt;
    receipt.transaction = BaseReceipt(rng, reference, "hostile-" + number,
                                      static_cast<int>(1 + i % 28));
    Transaction& t = receipt.transaction;
    // An unknown customer of its own, so that its fields land in an inferred dim_customer row.
    t.customer = {"HC" + number, "Hostile",  "Case " + std::to_string(i),
                  "hc" + number + "@example.com", "1 Test Street", "Toronto",
                  "Ontario",     "M5V 1A1"};
    CorpusMessage message;
    message.kind = c.kind;
    message.transaction_id = t.transaction_id;
    const std::size_t line_index = rng.Index(t.lines.size());
    const std::string line_path = "items[" + std::to_string(line_index) + "].";
    const TextValue* fill_value = nullptr;
    std::string fill_path;

    switch (c.kind) {
      case HostileKind::kText: {
        const std::string& field = TextFields()[static_cast<std::size_t>(c.field)];
        const TextValue& value = text_values[static_cast<std::size_t>(c.value)];
        message.field = field;
        if (field.rfind("items[k].", 0) == 0) message.field = line_path + field.substr(9);
        message.value_name = value.name;
        if (field.rfind("location.", 0) == 0 && field != "location.store_id") {
          // A store of its own, inferred from this receipt with the hostile attribute.
          t.store = {"HS" + number, "Hostile Store " + std::to_string(i), "1 Hostile Road",
                     "Toronto", "Ontario", "M5V 2B2"};
        }
        if (field == "items[k].item") t.lines[line_index].product_id = "HP" + number;
        std::string* target = TextField(&t, field, line_index);
        if (value.fill >= 0) {
          fill_value = &value;
          fill_path = message.field;
          receipt.raw[message.field] = "\"\"";
          target->clear();
        } else {
          receipt.raw[message.field] = value.raw;
          *target = value.decoded;
          message.has_decoded = value.has_decoded;
          message.decoded = value.decoded;
        }
        break;
      }
      case HostileKind::kMoney: {
        const std::string& token = MoneyTokens()[static_cast<std::size_t>(c.value)];
        message.value_name = token;
        ApplyMoney(c.field, token, line_index, &receipt, &message.field);
        break;
      }
      case HostileKind::kQuantity: {
        const std::string& token = QuantityTokens()[static_cast<std::size_t>(c.value)];
        message.value_name = token;
        ApplyQuantity(token, line_index, &receipt, &message.field);
        break;
      }
      case HostileKind::kDate: {
        const std::string& date = DateTexts()[static_cast<std::size_t>(c.value)];
        message.field = "transaction_date";
        message.value_name = date;
        receipt.raw["transaction_date"] = Literal(date);
        break;
      }
      case HostileKind::kItemCount: {
        const int lines = ItemCounts()[static_cast<std::size_t>(c.value)];
        message.field = "items";
        message.value_name = std::to_string(lines) + " lines";
        t.lines.clear();
        for (int line = 0; line < lines; ++line) t.lines.push_back(ReferenceLine(rng, reference));
        t.tax_cents = 0;
        Recompute(&t);
        t.tax_cents = Tax(t.subtotal_cents);
        Recompute(&t);
        break;
      }
      case HostileKind::kDuplicateKey:
        message.value_name = DuplicateKeyCases()[static_cast<std::size_t>(c.value)];
        ApplyDuplicateKey(c.value, &receipt, &message.field);
        break;
      case HostileKind::kExtraKey: {
        const auto& [name, key] = ExtraKeyCases()[static_cast<std::size_t>(c.value)];
        message.field = "extra";
        message.value_name = name;
        const std::string literal = key.empty() ? Literal(RandomPrintable(rng, 3000)) : key;
        receipt.extra_members = "," + literal + ":1";
        break;
      }
      case HostileKind::kReusedId:
        // The previous sentinel's id (the first message takes a sentinel of its own making:
        // none came before it). Same key, so the same partition: it comes after the original.
        message.field = "transaction_id";
        message.value_name = "the id of the sentinel before it, other content";
        t.transaction_id = "sentinel-" + seed_text + "-" + std::to_string(i == 0 ? 0 : i - 1) +
                           (i == 0 ? "-first" : "");
        break;
      case HostileKind::kNone:
      case HostileKind::kCumulative:
        break;
    }

    if (fill_value != nullptr) {
      // Fill the message to the limit (+ fill): the literal adds exactly its letters.
      const std::size_t empty_size = Renderer(receipt).Render().size();
      const std::size_t target = options.max_message_bytes + static_cast<std::size_t>(fill_value->fill);
      const std::size_t letters = target > empty_size ? target - empty_size : 0;
      const std::string text = RandomAlnum(rng, letters);
      receipt.raw[fill_path] = "\"" + text + "\"";
      *TextField(&t, TextFields()[static_cast<std::size_t>(c.field)], line_index) = text;
      message.has_decoded = true;
      message.decoded = text;
    }
    message.payload = Renderer(receipt).Render();
    const std::string& store_id =
        message.field == "location.store_id" && message.has_decoded ? message.decoded
                                                                     : t.store.store_id;
    message.key = store_id.size() <= 1024 ? store_id : "";
    message.index = static_cast<int>(corpus.size());
    corpus.push_back(std::move(message));

    // The sentinel: a plain valid receipt of S001, written by the project's own writer.
    Transaction sentinel = BaseReceipt(rng, reference, "sentinel-" + number, 15);
    if (i % 2 == 0) {
      sentinel.customer = reference.customers[rng.Index(reference.customers.size())].customer;
    }
    CorpusMessage after;
    after.sentinel = true;
    after.transaction_id = sentinel.transaction_id;
    event::AppendSeedJson(sentinel, &after.payload);
    after.key = sentinel.store.store_id;
    after.index = static_cast<int>(corpus.size());
    corpus.push_back(std::move(after));
  }
  AppendCumulative(options, reference, &corpus);
  return corpus;
}

}  // namespace posflow::testing
