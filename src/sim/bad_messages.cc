#include "sim/bad_messages.h"

#include <cassert>
#include <charconv>

#include "event/problem.h"
#include "sim/reference_data.h"

namespace posflow::sim {
namespace {

namespace codes = event::codes;

// ---- Minimal editing of well-formed JSON text (our own serialization) ----------------------

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

std::size_t SkipSpace(const std::string& json, std::size_t pos) {
  while (pos < json.size() && IsSpace(json[pos])) ++pos;
  return pos;
}

// One past the end of the JSON value that starts at `pos`.
std::size_t ValueEnd(const std::string& json, std::size_t pos) {
  const char first = json[pos];
  if (first == '"') {
    for (++pos; pos < json.size() && json[pos] != '"'; ++pos) {
      if (json[pos] == '\\') ++pos;
    }
    return pos + 1;
  }
  if (first == '{' || first == '[') {
    int depth = 0;
    bool in_string = false;
    for (; pos < json.size(); ++pos) {
      const char c = json[pos];
      if (in_string) {
        if (c == '\\') {
          ++pos;
        } else if (c == '"') {
          in_string = false;
        }
      } else if (c == '"') {
        in_string = true;
      } else if (c == '{' || c == '[') {
        ++depth;
      } else if ((c == '}' || c == ']') && --depth == 0) {
        return pos + 1;
      }
    }
    return json.size();
  }
  while (pos < json.size() && json[pos] != ',' && json[pos] != '}' && json[pos] != ']' &&
         !IsSpace(json[pos])) {
    ++pos;
  }
  return pos;
}

// A member of an object (or an element of an array, then key_begin == value_begin).
struct Member {
  std::size_t key_begin = 0;
  std::size_t value_begin = 0;
  std::size_t value_end = 0;
};

// The member `key` of the object whose '{' is at `object_begin`.
std::optional<Member> FindMember(const std::string& json, std::size_t object_begin,
                                 std::string_view key) {
  if (json[object_begin] != '{') return std::nullopt;
  std::size_t pos = SkipSpace(json, object_begin + 1);
  while (pos < json.size() && json[pos] == '"') {
    Member member;
    member.key_begin = pos;
    const std::size_t key_end = ValueEnd(json, pos);
    const std::string_view name(json.data() + pos + 1, key_end - pos - 2);
    pos = SkipSpace(json, key_end);
    if (pos >= json.size() || json[pos] != ':') return std::nullopt;
    member.value_begin = SkipSpace(json, pos + 1);
    member.value_end = ValueEnd(json, member.value_begin);
    if (name == key) return member;
    pos = SkipSpace(json, member.value_end);
    if (pos >= json.size() || json[pos] != ',') return std::nullopt;
    pos = SkipSpace(json, pos + 1);
  }
  return std::nullopt;
}

// The element `index` of the array whose '[' is at `array_begin`.
std::optional<Member> FindElement(const std::string& json, std::size_t array_begin,
                                  std::size_t index) {
  if (json[array_begin] != '[') return std::nullopt;
  std::size_t pos = SkipSpace(json, array_begin + 1);
  for (std::size_t i = 0; pos < json.size() && json[pos] != ']'; ++i) {
    Member element{pos, pos, ValueEnd(json, pos)};
    if (i == index) return element;
    pos = SkipSpace(json, element.value_end);
    if (pos >= json.size() || json[pos] != ',') return std::nullopt;
    pos = SkipSpace(json, pos + 1);
  }
  return std::nullopt;
}

// Resolves "location.store_id" or "items[0].quantity" from the root object.
std::optional<Member> Resolve(const std::string& json, std::string_view path) {
  std::optional<Member> current = Member{0, 0, json.size()};
  while (!path.empty()) {
    const std::size_t dot = path.find('.');
    std::string_view segment = path.substr(0, dot);
    path = dot == std::string_view::npos ? std::string_view() : path.substr(dot + 1);
    std::optional<std::size_t> index;
    if (const std::size_t bracket = segment.find('['); bracket != std::string_view::npos) {
      std::size_t value = 0;
      std::from_chars(segment.data() + bracket + 1, segment.data() + segment.size() - 1, value);
      index = value;
      segment = segment.substr(0, bracket);
    }
    current = FindMember(json, current->value_begin, segment);
    if (!current) return std::nullopt;
    if (index) {
      current = FindElement(json, current->value_begin, *index);
      if (!current) return std::nullopt;
    }
  }
  return current;
}

// Removes the member at `path` with one of its separating commas. REQUIRES: it exists.
void RemoveMember(std::string* json, std::string_view path) {
  std::optional<Member> member = Resolve(*json, path);
  assert(member && "RemoveMember: no such member");
  const std::size_t after = SkipSpace(*json, member->value_end);
  if (after < json->size() && (*json)[after] == ',') {
    json->erase(member->key_begin, after + 1 - member->key_begin);
    return;
  }
  std::size_t before = member->key_begin;
  while (before > 0 && IsSpace((*json)[before - 1])) --before;
  if (before > 0 && (*json)[before - 1] == ',') --before;
  json->erase(before, member->value_end - before);
}

// Replaces the value of the member at `path` with `value` (JSON text). REQUIRES: it exists.
void ReplaceValue(std::string* json, std::string_view path, std::string_view value) {
  std::optional<Member> member = Resolve(*json, path);
  assert(member && "ReplaceValue: no such member");
  json->replace(member->value_begin, member->value_end - member->value_begin, value);
}

// ---- The kinds ---------------------------------------------------------------------------

std::string Serialize(const event::Transaction& transaction) {
  std::string json;
  event::AppendSeedJson(transaction, &json);
  return json;
}

// Recomputes subtotal from the stated line totals, then tax and total.
void Resum(event::Transaction* transaction, std::int64_t tax_millionths) {
  Cents subtotal = 0;
  for (const event::Line& line : transaction->lines) subtotal += line.line_total_cents;
  transaction->subtotal_cents = subtotal;
  transaction->tax_cents = SalesTaxCents(subtotal, tax_millionths);
  transaction->total_cents = subtotal + transaction->tax_cents;
}

std::size_t AnyLine(const event::Transaction& transaction, Rng& rng) {
  return static_cast<std::size_t>(rng.Below(transaction.lines.size()));
}

template <typename T, std::size_t N>
const T& Pick(const T (&table)[N], Rng& rng) {
  return table[rng.Below(N)];
}

std::string TooLarge(const event::Transaction& valid, const BadMessageOptions& options,
                     std::string* out) {
  *out = Serialize(valid);
  const std::size_t target = options.max_message_bytes + 1024;
  static constexpr std::string_view kField = ",\"padding\":\"\"";
  const std::size_t filler = target > out->size() + kField.size()
                                 ? target - out->size() - kField.size()
                                 : 1024;
  std::string padding = ",\"padding\":\"";
  padding.append(filler, 'x');
  padding.push_back('"');
  out->insert(out->size() - 1, padding);
  return std::string(codes::kTooLarge);
}

std::string Utf8(const event::Transaction& valid, Rng& rng, std::string* out) {
  *out = Serialize(valid);
  // Never valid in UTF-8: a byte that cannot start a character, a lead byte followed by ASCII,
  // and an encoded UTF-16 surrogate.
  static constexpr std::string_view kInvalid[] = {"\xff", "\xc3(", "\xed\xa0\x80"};
  std::optional<Member> name = Resolve(*out, "items[0].item");
  assert(name && "a valid transaction has a first item");
  const std::size_t inside = name->value_begin + 1 + (name->value_end - name->value_begin - 2) / 2;
  // Step back to a character boundary so the ASCII around stays intact.
  std::size_t at = inside;
  while (at > name->value_begin + 1 && (static_cast<unsigned char>((*out)[at]) & 0xc0) == 0x80) {
    --at;
  }
  out->insert(at, Pick(kInvalid, rng));
  return std::string(codes::kUtf8);
}

std::string JsonSyntax(const event::Transaction& valid, Rng& rng, std::string* out) {
  *out = Serialize(valid);
  switch (rng.Below(4)) {
    case 0: {
      // Truncated half way, at an ASCII byte so the cut does not make invalid UTF-8.
      std::size_t cut = out->size() / 2;
      while (cut > 1 && static_cast<unsigned char>((*out)[cut]) >= 0x80) --cut;
      out->resize(cut);
      break;
    }
    case 1:
      out->pop_back();  // the closing brace
      break;
    case 2:
      out->insert(out->size() - 1, ",");  // a trailing comma
      break;
    default: {
      // "transaction_id" "…": the colon is missing.
      std::optional<Member> id = Resolve(*out, "transaction_id");
      assert(id && "a valid transaction has an id");
      const std::size_t colon = out->rfind(':', id->value_begin);
      out->replace(colon, 1, " ");
      break;
    }
  }
  return std::string(codes::kJsonSyntax);
}

std::string NotObject(const event::Transaction& valid, Rng& rng, std::string* out) {
  const std::string json = Serialize(valid);
  out->clear();
  if (rng.Chance(0.5)) {
    out->push_back('[');
    out->append(json);
    out->push_back(']');
  } else {
    event::AppendJsonString(json, out);  // the object, double-encoded as a string
  }
  return std::string(codes::kNotObject);
}

std::string FieldMissing(const event::Transaction& valid, Rng& rng, std::string* out) {
  static constexpr std::string_view kFields[] = {
      "transaction_id", "transaction_date", "items",         "subtotal",         "tax",
      "total",          "payment_type",     "location",      "location.store_id",
  };
  const std::string_view field = Pick(kFields, rng);
  *out = Serialize(valid);
  RemoveMember(out, field);
  return std::string(codes::kFieldMissing) + ":" + std::string(field);
}

std::string FieldType(const event::Transaction& valid, Rng& rng, std::string* out) {
  struct Variant {
    std::string_view field;
    std::string_view value;  // JSON text of the wrong type
  };
  static constexpr Variant kVariants[] = {
      {"total", "\"abc\""},
      {"subtotal", "\"12.34\""},
      {"transaction_id", "12345"},
      {"payment_type", "3"},
      {"items", "{\"item\":\"Bananas\"}"},
      {"location", "\"Toronto\""},
      {"customer", "\"walk-in\""},
      {"items[0].quantity", "\"two\""},
  };
  const Variant& variant = Pick(kVariants, rng);
  *out = Serialize(valid);
  ReplaceValue(out, variant.field, variant.value);
  return std::string(codes::kFieldType) + ":" + std::string(variant.field);
}

std::string DateUnparseable(const event::Transaction& valid, Rng& rng, std::string* out) {
  static constexpr std::string_view kDates[] = {
      "\"2026-02-30 12:00:00\"", "\"31/10/2026 14:05\"", "\"yesterday\"",
      "\"2026-10-01 25:00:00\""};
  *out = Serialize(valid);
  ReplaceValue(out, "transaction_date", Pick(kDates, rng));
  return std::string(codes::kDateUnparseable);
}

}  // namespace

const std::vector<BadKind>& AllBadKinds() {
  static const std::vector<BadKind> kinds = {
      BadKind::kTooLarge,         BadKind::kUtf8,          BadKind::kJsonSyntax,
      BadKind::kNotObject,        BadKind::kFieldMissing,  BadKind::kFieldType,
      BadKind::kItemsEmpty,       BadKind::kQuantityZero,  BadKind::kQuantityAbsurd,
      BadKind::kPriceNegative,    BadKind::kLineTotalMismatch, BadKind::kSubtotalMismatch,
      BadKind::kTotalMismatch,    BadKind::kDateUnparseable,
  };
  return kinds;
}

std::string_view BadKindName(BadKind kind) {
  switch (kind) {
    case BadKind::kTooLarge:
      return codes::kTooLarge;
    case BadKind::kUtf8:
      return codes::kUtf8;
    case BadKind::kJsonSyntax:
      return codes::kJsonSyntax;
    case BadKind::kNotObject:
      return codes::kNotObject;
    case BadKind::kFieldMissing:
      return codes::kFieldMissing;
    case BadKind::kFieldType:
      return codes::kFieldType;
    case BadKind::kItemsEmpty:
      return codes::kItemsEmpty;
    case BadKind::kQuantityZero:
      return codes::kQuantityZero;
    case BadKind::kQuantityAbsurd:
      return codes::kQuantityAbsurd;
    case BadKind::kPriceNegative:
      return codes::kPriceNegative;
    case BadKind::kLineTotalMismatch:
      return codes::kLineTotalMismatch;
    case BadKind::kSubtotalMismatch:
      return codes::kSubtotalMismatch;
    case BadKind::kTotalMismatch:
      return codes::kTotalMismatch;
    case BadKind::kDateUnparseable:
      return codes::kDateUnparseable;
  }
  return "unknown";
}

std::optional<BadKind> ParseBadKind(std::string_view name) {
  for (BadKind kind : AllBadKinds()) {
    if (BadKindName(kind) == name) return kind;
  }
  return std::nullopt;
}

std::string MakeBadMessage(const event::Transaction& valid, std::int64_t tax_millionths,
                           BadKind kind, const BadMessageOptions& options, Rng& rng,
                           std::string* out) {
  assert(!valid.lines.empty() && "bad messages are built from a transaction with lines");
  switch (kind) {
    case BadKind::kTooLarge:
      return TooLarge(valid, options, out);
    case BadKind::kUtf8:
      return Utf8(valid, rng, out);
    case BadKind::kJsonSyntax:
      return JsonSyntax(valid, rng, out);
    case BadKind::kNotObject:
      return NotObject(valid, rng, out);
    case BadKind::kFieldMissing:
      return FieldMissing(valid, rng, out);
    case BadKind::kFieldType:
      return FieldType(valid, rng, out);
    case BadKind::kDateUnparseable:
      return DateUnparseable(valid, rng, out);
    default:
      break;
  }
  // The money kinds: change the transaction, keep every other sum consistent, serialize.
  event::Transaction bad = valid;
  switch (kind) {
    case BadKind::kItemsEmpty:
      bad.lines.clear();
      bad.subtotal_cents = bad.tax_cents = bad.total_cents = 0;
      break;
    case BadKind::kQuantityZero: {
      event::Line& line = bad.lines[AnyLine(bad, rng)];
      line.quantity = 0;
      line.line_total_cents = 0;
      Resum(&bad, tax_millionths);
      break;
    }
    case BadKind::kQuantityAbsurd: {
      event::Line& line = bad.lines[AnyLine(bad, rng)];
      line.quantity = options.absurd_quantity;
      line.line_total_cents = line.unit_price_cents * line.quantity;
      Resum(&bad, tax_millionths);
      break;
    }
    case BadKind::kPriceNegative: {
      event::Line& line = bad.lines[AnyLine(bad, rng)];
      line.unit_price_cents = -line.unit_price_cents;
      line.line_total_cents = line.unit_price_cents * line.quantity;
      Resum(&bad, tax_millionths);
      break;
    }
    case BadKind::kLineTotalMismatch: {
      event::Line& line = bad.lines[AnyLine(bad, rng)];
      const Cents off = rng.Between(50, 999);
      line.line_total_cents += rng.Chance(0.5) || line.line_total_cents < off ? off : -off;
      Resum(&bad, tax_millionths);
      break;
    }
    case BadKind::kSubtotalMismatch: {
      const Cents off = rng.Between(100, 999) + static_cast<Cents>(bad.lines.size());
      bad.subtotal_cents += rng.Chance(0.5) || bad.subtotal_cents < off ? off : -off;
      bad.tax_cents = SalesTaxCents(bad.subtotal_cents, tax_millionths);
      bad.total_cents = bad.subtotal_cents + bad.tax_cents;
      break;
    }
    case BadKind::kTotalMismatch: {
      const Cents off = rng.Between(100, 999);
      bad.total_cents += rng.Chance(0.5) || bad.total_cents < off ? off : -off;
      break;
    }
    default:
      assert(false && "unhandled bad kind");
  }
  out->clear();
  event::AppendSeedJson(bad, out);
  return std::string(BadKindName(kind));
}

}  // namespace posflow::sim
