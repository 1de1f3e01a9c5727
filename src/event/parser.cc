#include "event/parser.h"

#include <simdjson.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "common/text.h"

namespace posflow::event {

namespace json = simdjson::ondemand;

namespace {

// Unknown values nest at most this deep; deeper is treated as hostile (json.syntax).
constexpr int kMaxDepth = 64;

// Per line: price x quantity may differ from the stated total by one rounding step.
constexpr Cents kLineTolerance = 1;
// Subtotal and tax each rounded once before the total was added up.
constexpr Cents kTotalTolerance = 2;

// numeric(12,2), the type of every amount column (and of staging's running Σ line_total):
// 10 digits before the point, 2 after.
constexpr Cents kMaxAmountCents = 999'999'999'999;
constexpr const char* kAmountRange = "+-9999999999.99 (numeric(12,2))";

// A problem message quotes at most this many bytes of any one piece of the message...
constexpr size_t kMaxQuoteBytes = 100;
// ... and is at most this long in all (plus "…"): a safety net, the pieces are bounded already.
constexpr size_t kMaxProblemMessageBytes = 500;

// Numbers kept in extra_json, which staging stores as jsonb, whose numbers are numeric:
// PostgreSQL refuses a numeric with more than 16383 digits after the point or 131072 before it
// ("value overflows numeric format"), so 1e-20000, valid JSON, would fail the row. These bounds
// stay far inside that, and far above any number a POS message means.
constexpr size_t kMaxExtraNumberDigits = 1000;
constexpr long kMaxExtraNumberExponent = 1000;

// `text` as a problem message may quote it: at most `max_bytes` (cut on a character boundary,
// then "…"), valid UTF-8, and every control character (NUL included) as '?'.
std::string Quote(std::string_view text, size_t max_bytes = kMaxQuoteBytes) {
  std::string quoted = StorableText(text, max_bytes);
  for (char& c : quoted) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte < 0x20 || byte == 0x7f) c = '?';
  }
  return quoted;
}

// The first byte of `text` that is a control character (U+0000-U+001F, U+007F), or npos.
// Every such character is one byte in UTF-8, and no byte of a multi-byte character is < 0x80.
size_t FindControlChar(std::string_view text) {
  for (size_t i = 0; i < text.size(); ++i) {
    const auto byte = static_cast<unsigned char>(text[i]);
    if (byte < 0x20 || byte == 0x7f) return i;
  }
  return std::string_view::npos;
}

// |a - b| > tolerance, without overflow.
bool DiffersBeyond(Cents a, Cents b, Cents tolerance) {
  Cents difference;
  if (__builtin_sub_overflow(a, b, &difference)) return true;
  return difference > tolerance || difference < -tolerance;
}

bool WithinAmountRange(Cents cents) {
  return cents <= kMaxAmountCents && cents >= -kMaxAmountCents;
}

// What the parser checks in a string field's unescaped bytes.
enum class TextKind {
  kKey,       // max_key_bytes; no control character at all
  kFreeText,  // max_text_bytes; no NUL (PostgreSQL text cannot hold it)
};

// Which required fields a message has given, and how it spelled them.
struct Seen {
  bool transaction_id = false;
  bool date = false;
  bool items = false;
  bool subtotal = false;
  bool tax = false;
  bool total = false;
  bool payment_type = false;
  bool location = false;
  bool store_id = false;
  bool camel_case = false;
  bool flattened = false;
  // The value was read and can be used in arithmetic (given but ill-typed is not usable).
  bool items_usable = false;
  bool subtotal_usable = false;
  bool tax_usable = false;
  bool total_usable = false;
  // More than max_items lines: only the first max_items were read.
  bool items_truncated = false;
  // Bit i: the field of kRootFields[i] / kCustomerFields[i] was given (duplicate keys).
  std::uint32_t root_fields = 0;
  std::uint32_t customer_fields = 0;  // at the top level (flattened) or in "customer"
};

// Per line: which of the required fields were present and usable.
struct LineSeen {
  bool item = false;
  bool price = false;
  bool quantity = false;
  bool total = false;
  // Usable in arithmetic: read as a number within range.
  bool price_usable = false;
  bool quantity_usable = false;
  bool total_usable = false;
  // Bit i: the field of kLineFields[i] was given.
  std::uint32_t fields = 0;
};

// Buffers a Parser reuses from one message to the next: the happy path allocates none.
struct Scratch {
  std::vector<LineSeen> lines_seen;
  // Where each key of the extra JSON object sits in it (without its quotes).
  std::vector<std::pair<size_t, size_t>> extra_keys;
  std::vector<std::string_view> sorted_keys;
};

// The shape of a JSON number token (RFC 8259: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?).
struct NumberShape {
  size_t digits = 0;  // integer and fraction digits
  long exponent = 0;  // saturated beyond +-kMaxExtraNumberExponent
};

// False when `token` is not a JSON number. Reads the token itself: simdjson refuses valid
// numbers it cannot hold (1e400, 20-digit integers), which are out of range, not bad JSON.
bool ReadNumberShape(std::string_view token, NumberShape* shape) {
  size_t pos = 0;
  const size_t size = token.size();
  auto is_digit = [&token, size](size_t at) {
    return at < size && token[at] >= '0' && token[at] <= '9';
  };
  if (pos < size && token[pos] == '-') ++pos;
  if (!is_digit(pos)) return false;
  const size_t integer_begin = pos;
  if (token[pos] == '0') {
    ++pos;
  } else {
    while (is_digit(pos)) ++pos;
  }
  shape->digits = pos - integer_begin;
  if (pos < size && token[pos] == '.') {
    const size_t fraction_begin = ++pos;
    while (is_digit(pos)) ++pos;
    if (pos == fraction_begin) return false;
    shape->digits += pos - fraction_begin;
  }
  shape->exponent = 0;
  if (pos < size && (token[pos] == 'e' || token[pos] == 'E')) {
    ++pos;
    const bool negative = pos < size && token[pos] == '-';
    if (pos < size && (token[pos] == '+' || token[pos] == '-')) ++pos;
    if (!is_digit(pos)) return false;
    long exponent = 0;
    for (; is_digit(pos); ++pos) {
      if (exponent <= kMaxExtraNumberExponent) exponent = exponent * 10 + (token[pos] - '0');
    }
    shape->exponent = negative ? -exponent : exponent;
  }
  return pos == size;
}

std::string_view TrimRight(std::string_view text) {
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t' || text.back() == '\n' ||
                           text.back() == '\r')) {
    text.remove_suffix(1);
  }
  return text;
}

// A field's name ("total", "customer.email", "items[3].price"), built only when a problem is
// reported: the happy path allocates nothing for names. ToString() is exact (it also names
// unknown fields in extra_json); problems quote it (Quote).
struct FieldPath {
  FieldPath(std::string_view key_name) : key(key_name) {}  // NOLINT(google-explicit-constructor)
  FieldPath(const char* key_name) : key(key_name) {}       // NOLINT(google-explicit-constructor)
  FieldPath(std::string_view parent_name, long item_index, std::string_view key_name)
      : parent(parent_name), index(item_index), key(key_name) {}

  std::string ToString() const {
    std::string text(parent);
    if (index >= 0) text += "[" + std::to_string(index) + "]";
    if (!key.empty()) {
      if (!text.empty()) text += '.';
      text += key;
    }
    return text;
  }

  // The name an unknown member of a nested object gets in extra_json: always "<parent>.<key>",
  // an empty key included ("location." is not the location itself).
  std::string ExtraName() const {
    std::string text(parent);
    if (index >= 0) text += "[" + std::to_string(index) + "]";
    text += '.';
    text += key;
    return text;
  }

  std::string_view parent;
  long index = -1;
  std::string_view key;
};

// Where a value sits inside an unknown (or ill-typed) field: a chain of frames on the stack,
// spelled out ("loyalty.tiers[2].name") only when a problem is reported.
struct ValuePath {
  const ValuePath* parent = nullptr;
  std::string_view key;  // the member's key, or the field's own name at the top of the chain
  long index = -1;       // the array element's index, when >= 0

  std::string ToString() const {
    std::string text;
    if (parent == nullptr) {
      text = key;
    } else {
      text = parent->ToString();
      if (index < 0) {  // a member, its key possibly empty ("x." is not "x")
        text += '.';
        text += key;
      }
    }
    if (index >= 0) text += "[" + std::to_string(index) + "]";
    return text;
  }
};

// The keys of one JSON object, to find a repeated one. Objects are small: a linear scan over
// the first kInline keys; past them (a huge object) every key is kept and sorted once at the
// end, O(n log n) with no hash table an adversary could flood. The views must outlive the set
// (simdjson's unescaped strings live as long as the document).
class KeySet {
 public:
  // False when `key` repeats one of the first kInline keys.
  bool Insert(std::string_view key) {
    if (size_ < kInline) {
      for (size_t i = 0; i < size_; ++i) {
        if (inline_[i] == key) return false;
      }
      inline_[size_++] = key;
      return true;
    }
    if (overflow_.empty()) overflow_.assign(inline_.begin(), inline_.end());
    overflow_.push_back(key);
    return true;
  }

  // After the last Insert: a repeated key Insert did not report, or nullopt.
  std::optional<std::string_view> FindRepeated() {
    if (overflow_.empty()) return std::nullopt;
    std::sort(overflow_.begin(), overflow_.end());
    const auto repeated = std::adjacent_find(overflow_.begin(), overflow_.end());
    if (repeated == overflow_.end()) return std::nullopt;
    return *repeated;
  }

 private:
  static constexpr size_t kInline = 16;
  std::array<std::string_view, kInline> inline_;
  size_t size_ = 0;
  std::vector<std::string_view> overflow_;
};

// A field under up to three accepted spellings (the first is the canonical one), for messages;
// FindRootField and FindLineField match keys against the same spellings.
struct Spellings {
  std::string_view names[3];

  std::string ToString() const {
    std::string text(names[0]);
    for (int i = 1; i < 3 && !names[i].empty(); ++i) {
      text += '/';
      text += names[i];
    }
    return text;
  }
};

// The top-level fields; the index is the field's bit in Seen::root_fields. An alias is the
// camelCase shape's spelling.
enum RootField {
  kTransactionIdField,
  kDateField,
  kItemsField,
  kSubtotalField,
  kTaxField,
  kTotalField,
  kPaymentTypeField,
  kLocationField,
  kCustomerField,
};
constexpr Spellings kRootFields[] = {
    {{"transaction_id", "transactionId"}}, {{"transaction_date", "timestamp"}}, {{"items"}},
    {{"subtotal"}}, {{"tax"}}, {{"total"}}, {{"payment_type", "paymentMethod"}}, {{"location"}},
    {{"customer"}},
};

// The fields of a receipt line; the index is the field's bit in LineSeen::fields.
enum LineField { kItemField, kProductIdField, kPriceField, kQuantityField, kLineTotalField };
constexpr Spellings kLineFields[] = {
    {{"item", "productName", "name"}}, {{"product_id", "productId"}}, {{"price", "unitPrice"}},
    {{"quantity"}}, {{"total_price", "totalPrice"}},
};

// The top-level field `key` spells (its index in kRootFields), or -1; `*camel_case` when it is
// the camelCase shape's spelling. Runs for every key: switches on the length first.
int FindRootField(std::string_view key, bool* camel_case) {
  *camel_case = false;
  switch (key.size()) {
    case 3:
      return key == "tax" ? kTaxField : -1;
    case 5:
      return key == "items" ? kItemsField : key == "total" ? kTotalField : -1;
    case 8:
      return key == "subtotal"   ? kSubtotalField
             : key == "location" ? kLocationField
             : key == "customer" ? kCustomerField
                                 : -1;
    case 9:
      *camel_case = key == "timestamp";
      return *camel_case ? kDateField : -1;
    case 12:
      return key == "payment_type" ? kPaymentTypeField : -1;
    case 13:
      *camel_case = true;
      return key == "transactionId"   ? kTransactionIdField
             : key == "paymentMethod" ? kPaymentTypeField
                                      : -1;
    case 14:
      return key == "transaction_id" ? kTransactionIdField : -1;
    case 16:
      return key == "transaction_date" ? kDateField : -1;
    default:
      return -1;
  }
}

// The line field `key` spells (its index in kLineFields), or -1. Runs for every key of every
// line: switches on the length first.
int FindLineField(std::string_view key) {
  switch (key.size()) {
    case 4:
      return key == "item" || key == "name" ? kItemField : -1;
    case 5:
      return key == "price" ? kPriceField : -1;
    case 8:
      return key == "quantity" ? kQuantityField : -1;
    case 9:
      return key == "productId" ? kProductIdField : key == "unitPrice" ? kPriceField : -1;
    case 10:
      return key == "product_id" ? kProductIdField : key == "totalPrice" ? kLineTotalField : -1;
    case 11:
      return key == "productName" ? kItemField : key == "total_price" ? kLineTotalField : -1;
    default:
      return -1;
  }
}

// A text field of a record, by its snake_case name and its camelCase (or other) alias.
template <typename Record>
struct NamedField {
  std::string_view name;
  std::string_view alias;  // empty: none
  std::string Record::*member;
  TextKind kind;

  std::string Spelled() const {
    return alias.empty() ? std::string(name) : std::string(name) + "/" + std::string(alias);
  }
};

constexpr NamedField<Customer> kCustomerFields[] = {
    {"customer_id", "customerId", &Customer::customer_id, TextKind::kKey},
    {"first_name", "firstName", &Customer::first_name, TextKind::kFreeText},
    {"last_name", "lastName", &Customer::last_name, TextKind::kFreeText},
    {"email", "", &Customer::email, TextKind::kFreeText},
    {"street", "address", &Customer::street, TextKind::kFreeText},
    {"city", "", &Customer::city, TextKind::kFreeText},
    {"province", "", &Customer::province, TextKind::kFreeText},
    {"postal_code", "postalCode", &Customer::postal_code, TextKind::kFreeText},
};
// The camelCase shape's one "name" gives both first_name and last_name.
static_assert(kCustomerFields[1].name == "first_name" && kCustomerFields[2].name == "last_name");
constexpr std::uint32_t kCustomerNameBits = (1u << 1) | (1u << 2);

constexpr NamedField<Store> kStoreFields[] = {
    {"store_id", "storeId", &Store::store_id, TextKind::kKey},
    {"name", "storeName", &Store::name, TextKind::kFreeText},
    {"address", "", &Store::address, TextKind::kFreeText},
    {"city", "", &Store::city, TextKind::kFreeText},
    {"province", "", &Store::province, TextKind::kFreeText},
    {"postal_code", "postalCode", &Store::postal_code, TextKind::kFreeText},
};

// The index of the field `key` names (by name, or by alias when `aliases`), or -1.
template <typename Record, size_t kCount>
int FindField(const NamedField<Record> (&fields)[kCount], std::string_view key, bool aliases) {
  for (size_t i = 0; i < kCount; ++i) {
    const NamedField<Record>& field = fields[i];
    if (key == field.name || (aliases && !field.alias.empty() && key == field.alias)) {
      return static_cast<int>(i);
    }
  }
  return -1;
}

// Thrown-free error flow: every helper returns false on a structural JSON error, which ends
// parsing with json.syntax; field-level problems are recorded and parsing goes on.
class MessageReader {
 public:
  // `may_hold_control_chars`: false when the message has no backslash and no DEL byte. A
  // string can hold a control character other than DEL only through an escape ("\u0000",
  // "\n"): simdjson refuses raw ones (UNESCAPED_CHARS). Then the per-field scans are skipped.
  MessageReader(const ParserOptions& options, bool may_hold_control_chars, Scratch* scratch,
                Transaction* transaction, std::vector<Problem>* problems)
      : options_(options),
        may_hold_control_chars_(may_hold_control_chars),
        min_date_(std::max(options.min_date, CivilDate{kMinYear, 1, 1})),
        max_date_(std::min(options.max_date, CivilDate{kMaxYear, 12, 31})),
        scratch_(*scratch),
        transaction_(transaction),
        problems_(problems),
        extra_(transaction->extra_json) {}

  // Reads the root object. False: structural JSON error (already recorded).
  bool ReadRoot(json::document& document);

  void Validate();

 private:
  void Add(std::string_view code, std::string_view message) {
    problems_->push_back(
        Problem{std::string(code), StorableText(message, kMaxProblemMessageBytes)});
  }
  // `field` is the exact name; the code carries it quoted (bounded, no control characters).
  void AddField(std::string_view kind, const FieldPath& field, std::string_view message) {
    std::string code(kind);
    code += ':';
    code += Quote(field.ToString());
    problems_->push_back(
        Problem{std::move(code), StorableText(message, kMaxProblemMessageBytes)});
  }
  void AddField(std::string_view kind, const ValuePath& path, std::string_view message) {
    AddField(kind, FieldPath(path.ToString()), message);
  }
  // A field's name as problem messages quote it.
  static std::string Name(const FieldPath& field) { return Quote(field.ToString()); }
  bool Syntax(simdjson::error_code error) {
    if (!syntax_reported_) {
      Add(codes::kJsonSyntax, std::string("not valid JSON: ") + simdjson::error_message(error));
      syntax_reported_ = true;
    }
    return false;
  }

  // json.duplicate_key, once per message: `key` repeats in the object `where` (a FieldPath or
  // a ValuePath; empty: the top level); `spellings`, when given, names the field it repeats.
  template <typename Where>
  void Duplicate(const Where& where, std::string_view key, std::string_view spellings) {
    if (duplicate_reported_) return;
    duplicate_reported_ = true;
    const std::string object = where.ToString();
    std::string message = "duplicate key '" + Quote(key, 60) + "' in " +
                          (object.empty() ? std::string("the top level") : Quote(object, 40));
    if (!spellings.empty()) {
      message += ": ";
      message += spellings;
      message += " given twice";
    }
    Add(codes::kDuplicateKey, message);
  }
  // Marks the field(s) `bits` of an object as given. False (json.duplicate_key) when one of them
  // was given already: the caller then skips the value. `spellings()` names the field; it is
  // called only then (the happy path builds no string).
  template <typename Where, typename Spelled>
  bool MarkGiven(std::uint32_t* given, std::uint32_t bits, const Where& where,
                 std::string_view key, const Spelled& spellings) {
    if ((*given & bits) == 0) {
      *given |= bits;
      return true;
    }
    Duplicate(where, key, spellings());
    return false;
  }

  // field.too_long and field.control_char for a string field's unescaped bytes.
  void CheckText(std::string_view text, const FieldPath& field, TextKind kind);
  // field.control_char (once per message) for a \u0000 in a kept unknown field.
  void ExtraNul(const ValuePath& path);

  // Field readers. Each returns false only on a structural error.
  // `text` views simdjson's buffer (valid for the document); `is_string` false when the value
  // was null (absent) or not a string (field.type, recorded).
  bool ReadStringView(json::value value, const FieldPath& field, std::string_view* text,
                      bool* is_string);
  // Reads, checks (CheckText) and copies a string; `present` (optional): given and non-empty.
  bool ReadString(json::value value, const FieldPath& field, TextKind kind, std::string* out,
                  bool* present);
  // `usable`: a number within numeric(12,2).
  bool ReadMoney(json::value value, const FieldPath& field, Cents* out, bool* usable);
  bool ReadDate(json::value value, const FieldPath& field);
  bool ReadCustomer(json::value value, std::string_view field);
  bool ReadLocation(json::value value);
  bool ReadItems(json::value value, std::string_view field);
  bool ReadItem(json::value value, size_t index);
  // `present`: given (even if unusable); `usable`: within range and non-zero.
  bool ReadQuantity(json::value value, const FieldPath& field, std::int32_t* out, bool* present,
                    bool* usable);
  // Keeps an unknown field verbatim in extra_json (after checking it is well-formed JSON that
  // jsonb takes).
  bool KeepExtra(std::string_view key, json::value value);
  // Checks that `value` is well-formed JSON jsonb takes (no \u0000, numbers numeric holds, no
  // repeated key), reading it whole.
  bool CheckWellFormed(json::value value, int depth, const ValuePath& path);
  // The same for a document whose root is not an object (scalars are read from the document).
  bool CheckWellFormedRoot(json::document& document, json::json_type type);
  // json.duplicate_key for two unknown fields with one name in extra_json ("location.lane" at
  // the top level and "lane" in location).
  void CheckExtraKeysDistinct();

  const ParserOptions& options_;
  const bool may_hold_control_chars_;
  const CivilDate min_date_;  // options' window, narrowed to ParseDateTime's
  const CivilDate max_date_;
  Scratch& scratch_;
  Transaction* transaction_;
  std::vector<Problem>* problems_;
  json::document* document_ = nullptr;
  Seen seen_;
  // The extra JSON object as it is built, in the transaction's own string (its capacity kept
  // from message to message).
  std::string& extra_;
  bool syntax_reported_ = false;
  bool duplicate_reported_ = false;
  bool extra_nul_reported_ = false;
  bool extra_number_reported_ = false;
};

void MessageReader::CheckText(std::string_view text, const FieldPath& field, TextKind kind) {
  const bool key = kind == TextKind::kKey;
  const size_t limit = key ? options_.max_key_bytes : options_.max_text_bytes;
  if (text.size() > limit) {
    AddField(codes::kFieldTooLong, field,
             Name(field) + " is " + std::to_string(text.size()) + " bytes, over the limit of " +
                 std::to_string(limit) + (key ? " for a key" : " for text"));
  }
  if (!may_hold_control_chars_) return;
  const size_t at = key ? FindControlChar(text) : text.find('\0');
  if (at != std::string_view::npos) {
    static constexpr char kHex[] = "0123456789ABCDEF";
    const auto byte = static_cast<unsigned char>(text[at]);
    std::string message = Name(field) + " holds the control character U+00";
    message += kHex[byte >> 4];
    message += kHex[byte & 0xf];
    message += " at byte " + std::to_string(at);
    message += key ? " (a key holds none)" : " (PostgreSQL text cannot hold NUL)";
    AddField(codes::kFieldControlChar, field, message);
  }
}

void MessageReader::ExtraNul(const ValuePath& path) {
  if (extra_nul_reported_) return;
  extra_nul_reported_ = true;
  const std::string name = path.ToString();
  AddField(codes::kFieldControlChar, FieldPath(name),
           "unknown field " + Quote(name) +
               " holds \\u0000, which PostgreSQL's jsonb refuses (SQLSTATE 22P05)");
}

bool MessageReader::ReadStringView(json::value value, const FieldPath& field,
                                   std::string_view* text, bool* is_string) {
  *is_string = false;
  json::json_type type;
  if (auto error = value.type().get(type)) return Syntax(error);
  if (type == json::json_type::null) return true;  // absent
  if (type != json::json_type::string) {
    AddField(codes::kFieldType, field, Name(field) + " must be a string");
    return true;
  }
  if (auto error = value.get_string().get(*text)) return Syntax(error);
  *is_string = true;
  return true;
}

bool MessageReader::ReadString(json::value value, const FieldPath& field, TextKind kind,
                               std::string* out, bool* present) {
  std::string_view text;
  bool is_string = false;
  if (!ReadStringView(value, field, &text, &is_string)) return false;
  if (!is_string) return true;
  const size_t limit = kind == TextKind::kKey ? options_.max_key_bytes : options_.max_text_bytes;
  if (text.size() > limit || may_hold_control_chars_) CheckText(text, field, kind);
  out->assign(text.data(), text.size());
  if (present != nullptr) *present = !text.empty();
  return true;
}

bool MessageReader::ReadMoney(json::value value, const FieldPath& field, Cents* out,
                              bool* usable) {
  json::json_type type;
  if (auto error = value.type().get(type)) return Syntax(error);
  if (type == json::json_type::null) return true;
  if (type != json::json_type::number) {
    AddField(codes::kFieldType, field, Name(field) + " must be a number");
    return true;
  }
  // The exact decimal text, never a double.
  const std::string_view token = TrimRight(value.raw_json_token());
  NumberShape shape;
  if (!ReadNumberShape(token, &shape)) return Syntax(simdjson::NUMBER_ERROR);
  const std::optional<Cents> cents = ParseCents(token);
  if (!cents || !WithinAmountRange(*cents)) {
    AddField(codes::kAmountOutOfRange, field,
             Name(field) + " = " + Quote(token) + " is not an amount within " + kAmountRange);
    return true;
  }
  *out = *cents;
  *usable = true;
  return true;
}

bool MessageReader::ReadQuantity(json::value value, const FieldPath& field, std::int32_t* out,
                                 bool* present, bool* usable) {
  json::json_type type;
  if (auto error = value.type().get(type)) return Syntax(error);
  if (type == json::json_type::null) return true;
  *present = true;
  if (type != json::json_type::number) {
    AddField(codes::kFieldType, field, Name(field) + " must be an integer");
    return true;
  }
  const std::string_view token = TrimRight(value.raw_json_token());
  NumberShape shape;
  if (!ReadNumberShape(token, &shape)) return Syntax(simdjson::NUMBER_ERROR);
  const std::int64_t limit = options_.max_abs_quantity;
  auto absurd = [&] {
    Add(codes::kQuantityAbsurd, Name(field) + " = " + Quote(token) + " is beyond +-" +
                                    std::to_string(limit));
  };
  json::number number;
  if (value.get_number().get(number) != simdjson::SUCCESS) {
    // A valid JSON number beyond 64 bits or a double's range: no count of items.
    absurd();
    return true;
  }
  std::int64_t quantity;
  if (number.is_int64()) {
    quantity = number.get_int64();
  } else if (number.is_uint64()) {
    absurd();
    return true;
  } else {
    // 2.0 is an integer written as a double; 2.5 is not a count of items. Range-checked
    // before the conversion: a double beyond int64 (1e300) does not convert.
    const double as_double = number.get_double();
    if (std::trunc(as_double) != as_double) {
      AddField(codes::kFieldType, field, Name(field) + " must be an integer");
      return true;
    }
    if (std::fabs(as_double) > static_cast<double>(limit)) {
      absurd();
      return true;
    }
    quantity = static_cast<std::int64_t>(as_double);
  }
  if (quantity == 0) {
    Add(codes::kQuantityZero, Name(field) + " is 0");
  } else if (quantity > limit || quantity < -limit) {
    absurd();
  } else {
    *out = static_cast<std::int32_t>(quantity);
    *usable = true;
  }
  return true;
}

bool MessageReader::ReadDate(json::value value, const FieldPath& field) {
  std::string_view text;
  bool is_string = false;
  const size_t problems_before = problems_->size();
  if (!ReadStringView(value, field, &text, &is_string)) return false;
  if (!is_string || text.empty()) {
    seen_.date = problems_->size() != problems_before;  // ill-typed counts as given
    return true;
  }
  seen_.date = true;
  const std::optional<CivilDateTime> time = ParseDateTimeUnbounded(text);
  if (!time) {
    Add(codes::kDateUnparseable,
        Name(field) + " '" + Quote(text) + "' is not YYYY-MM-DD HH:MM:SS or ISO-8601");
    return true;
  }
  const CivilDate date{time->year, time->month, time->day};
  if (date < min_date_ || date > max_date_) {
    Add(codes::kDateOutOfRange, Name(field) + " " + FormatDate(date) + " is outside " +
                                    FormatDate(min_date_) + " .. " + FormatDate(max_date_));
    return true;
  }
  if (time->utc_offset_minutes && (*time->utc_offset_minutes > kMaxUtcOffsetMinutes ||
                                   *time->utc_offset_minutes < -kMaxUtcOffsetMinutes)) {
    Add(codes::kDateOutOfRange,
        Name(field) + " '" + Quote(text) + "' has a UTC offset beyond +-18:00");
    return true;
  }
  transaction_->transaction_time = *time;
  return true;
}

bool MessageReader::ReadCustomer(json::value value, std::string_view field) {
  json::json_type type;
  if (auto error = value.type().get(type)) return Syntax(error);
  if (type == json::json_type::null) return true;  // anonymous sale
  if (type != json::json_type::object) {
    AddField(codes::kFieldType, field, std::string(field) + " must be an object");
    return CheckWellFormed(value, 1, ValuePath{nullptr, field, -1});
  }
  json::object object;
  if (auto error = value.get_object().get(object)) return Syntax(error);
  Customer& customer = transaction_->customer;
  const FieldPath where(field);
  for (auto member : object) {
    std::string_view key;
    if (auto error = member.unescaped_key().get(key)) return Syntax(error);
    json::value member_value;
    if (auto error = member.value().get(member_value)) return Syntax(error);
    const FieldPath member_field(field, -1, key);
    if (const int index = FindField(kCustomerFields, key, /*aliases=*/true); index >= 0) {
      const NamedField<Customer>& target = kCustomerFields[index];
      if (!MarkGiven(&seen_.customer_fields, 1u << index, where, key,
                     [&target] { return target.Spelled(); })) continue;
      if (!ReadString(member_value, member_field, target.kind, &(customer.*target.member),
                      nullptr)) {
        return false;
      }
    } else if (key == "name") {
      // The camelCase shape gives one "name": split it at the first space.
      if (!MarkGiven(&seen_.customer_fields, kCustomerNameBits, where, key,
                     [] { return std::string("name/first_name/last_name"); })) {
        continue;
      }
      std::string_view name;
      bool is_string = false;
      if (!ReadStringView(member_value, member_field, &name, &is_string)) return false;
      if (!is_string) continue;
      CheckText(name, member_field, TextKind::kFreeText);
      const size_t space = name.find(' ');
      customer.first_name.assign(name.substr(0, space));
      customer.last_name.assign(space == std::string_view::npos ? std::string_view()
                                                                : name.substr(space + 1));
    } else if (!KeepExtra(member_field.ExtraName(), member_value)) {
      return false;
    }
  }
  return true;
}

bool MessageReader::ReadLocation(json::value value) {
  json::json_type type;
  if (auto error = value.type().get(type)) return Syntax(error);
  if (type == json::json_type::null) return true;
  seen_.location = true;
  if (type != json::json_type::object) {
    AddField(codes::kFieldType, "location", "location must be an object");
    seen_.store_id = true;  // one complaint about the location is enough
    return CheckWellFormed(value, 1, ValuePath{nullptr, "location", -1});
  }
  json::object object;
  if (auto error = value.get_object().get(object)) return Syntax(error);
  Store& store = transaction_->store;
  const FieldPath where("location");
  std::uint32_t given = 0;
  for (auto member : object) {
    std::string_view key;
    if (auto error = member.unescaped_key().get(key)) return Syntax(error);
    json::value member_value;
    if (auto error = member.value().get(member_value)) return Syntax(error);
    const FieldPath member_field("location", -1, key);
    const int index = FindField(kStoreFields, key, /*aliases=*/true);
    if (index < 0) {
      if (!KeepExtra(member_field.ExtraName(), member_value)) return false;
      continue;
    }
    const NamedField<Store>& target = kStoreFields[index];
    if (!MarkGiven(&given, 1u << index, where, key, [&target] { return target.Spelled(); })) {
      continue;
    }
    bool* present = nullptr;
    if (target.member == &Store::store_id) {
      present = &seen_.store_id;
      if (key == "storeId") seen_.camel_case = true;
    }
    const size_t problems_before = problems_->size();
    if (!ReadString(member_value, member_field, target.kind, &(store.*target.member), present)) {
      return false;
    }
    if (present != nullptr && problems_->size() != problems_before) *present = true;
  }
  return true;
}

bool MessageReader::ReadItems(json::value value, std::string_view field) {
  json::json_type type;
  if (auto error = value.type().get(type)) return Syntax(error);
  if (type == json::json_type::null) return true;
  seen_.items = true;
  if (type != json::json_type::array) {
    AddField(codes::kFieldType, field, std::string(field) + " must be an array");
    return CheckWellFormed(value, 1, ValuePath{nullptr, field, -1});
  }
  json::array array;
  if (auto error = value.get_array().get(array)) return Syntax(error);
  size_t count = 0;
  for (auto element : array) {
    json::value item;
    if (auto error = element.get(item)) return Syntax(error);
    // Lines past the limit are counted, not read (nor kept: the message is refused).
    if (count < options_.max_items && !ReadItem(item, count)) return false;
    ++count;
  }
  const size_t read = std::min(count, options_.max_items);
  transaction_->lines.resize(read);
  scratch_.lines_seen.resize(read);
  seen_.items_usable = true;
  if (count > options_.max_items) {
    seen_.items_truncated = true;
    Add(codes::kItemsTooMany, std::to_string(count) + " items, over the limit of " +
                                  std::to_string(options_.max_items));
  }
  return true;
}

bool MessageReader::ReadItem(json::value value, size_t index) {
  if (transaction_->lines.size() <= index) transaction_->lines.resize(index + 1);
  if (scratch_.lines_seen.size() <= index) scratch_.lines_seen.resize(index + 1);
  Line& line = transaction_->lines[index];
  line.product_id.clear();
  line.item.clear();
  line.unit_price_cents = line.line_total_cents = 0;
  line.quantity = 0;
  LineSeen& seen = scratch_.lines_seen[index];
  seen = LineSeen{};
  const FieldPath item("items", static_cast<long>(index), "");
  json::json_type type;
  if (auto error = value.type().get(type)) return Syntax(error);
  if (type != json::json_type::object) {
    AddField(codes::kFieldType, item, Name(item) + " must be an object");
    seen.item = seen.price = seen.quantity = seen.total = true;  // one complaint is enough
    return CheckWellFormed(value, 1, ValuePath{nullptr, "items", static_cast<long>(index)});
  }
  json::object object;
  if (auto error = value.get_object().get(object)) return Syntax(error);
  for (auto member : object) {
    std::string_view key;
    if (auto error = member.unescaped_key().get(key)) return Syntax(error);
    json::value member_value;
    if (auto error = member.value().get(member_value)) return Syntax(error);
    const FieldPath field("items", static_cast<long>(index), key);
    const int line_field = FindLineField(key);
    if (line_field < 0) {
      if (!KeepExtra(field.ExtraName(), member_value)) return false;
      continue;
    }
    if (!MarkGiven(&seen.fields, 1u << line_field, item, key,
                   [line_field] { return kLineFields[line_field].ToString(); })) {
      continue;
    }
    bool ok = true;
    const size_t before = problems_->size();
    switch (line_field) {
      case kItemField:
        ok = ReadString(member_value, field, TextKind::kKey, &line.item, &seen.item);
        seen.item = seen.item || problems_->size() != before;
        break;
      case kProductIdField:
        ok = ReadString(member_value, field, TextKind::kKey, &line.product_id, nullptr);
        break;
      case kPriceField:
        ok = ReadMoney(member_value, field, &line.unit_price_cents, &seen.price_usable);
        seen.price = seen.price_usable || problems_->size() != before;
        break;
      case kQuantityField:
        ok = ReadQuantity(member_value, field, &line.quantity, &seen.quantity,
                          &seen.quantity_usable);
        break;
      case kLineTotalField:
        ok = ReadMoney(member_value, field, &line.line_total_cents, &seen.total_usable);
        seen.total = seen.total_usable || problems_->size() != before;
        break;
    }
    if (!ok) return false;
  }
  return true;
}

bool MessageReader::CheckWellFormed(json::value value, int depth, const ValuePath& path) {
  if (depth > kMaxDepth) {
    Add(codes::kJsonSyntax, "JSON nested deeper than " + std::to_string(kMaxDepth));
    syntax_reported_ = true;
    return false;
  }
  json::json_type type;
  if (auto error = value.type().get(type)) return Syntax(error);
  switch (type) {
    case json::json_type::object: {
      json::object object;
      if (auto error = value.get_object().get(object)) return Syntax(error);
      KeySet keys;
      for (auto member : object) {
        std::string_view key;
        if (auto error = member.unescaped_key().get(key)) return Syntax(error);
        const ValuePath member_path{&path, key, -1};
        if (key.find('\0') != std::string_view::npos) ExtraNul(member_path);
        if (!keys.Insert(key)) Duplicate(path, key, "");
        json::value member_value;
        if (auto error = member.value().get(member_value)) return Syntax(error);
        if (!CheckWellFormed(member_value, depth + 1, member_path)) return false;
      }
      if (const std::optional<std::string_view> repeated = keys.FindRepeated()) {
        Duplicate(path, *repeated, "");
      }
      return true;
    }
    case json::json_type::array: {
      json::array array;
      if (auto error = value.get_array().get(array)) return Syntax(error);
      long index = 0;
      for (auto element : array) {
        json::value element_value;
        if (auto error = element.get(element_value)) return Syntax(error);
        if (!CheckWellFormed(element_value, depth + 1, ValuePath{&path, "", index})) return false;
        ++index;
      }
      return true;
    }
    case json::json_type::string: {
      // Unescaped: "\u0000" is six bytes of JSON text but one NUL.
      std::string_view text;
      if (auto error = value.get_string().get(text)) return Syntax(error);
      if (text.find('\0') != std::string_view::npos) ExtraNul(path);
      return true;
    }
    case json::json_type::number: {
      const std::string_view token = TrimRight(value.raw_json_token());
      NumberShape shape;
      if (!ReadNumberShape(token, &shape)) return Syntax(simdjson::NUMBER_ERROR);
      if ((shape.digits > kMaxExtraNumberDigits || shape.exponent > kMaxExtraNumberExponent ||
           shape.exponent < -kMaxExtraNumberExponent) &&
          !extra_number_reported_) {
        extra_number_reported_ = true;
        AddField(codes::kNumberOutOfRange, path,
                 "unknown field " + Quote(path.ToString(), 60) + " = " + Quote(token, 40) +
                     " has more than " + std::to_string(kMaxExtraNumberDigits) +
                     " digits or an exponent beyond +-" +
                     std::to_string(kMaxExtraNumberExponent) + " (jsonb's numeric)");
      }
      return true;
    }
    case json::json_type::boolean: {
      bool flag;
      if (auto error = value.get_bool().get(flag)) return Syntax(error);
      return true;
    }
    case json::json_type::null: {
      bool is_null;
      if (auto error = value.is_null().get(is_null)) return Syntax(error);
      if (!is_null) return Syntax(simdjson::N_ATOM_ERROR);
      return true;
    }
  }
  return true;
}

bool MessageReader::CheckWellFormedRoot(json::document& document, json::json_type type) {
  switch (type) {
    case json::json_type::array: {
      json::array array;
      if (auto error = document.get_array().get(array)) return Syntax(error);
      const ValuePath root{nullptr, "", -1};
      long index = 0;
      for (auto element : array) {
        json::value element_value;
        if (auto error = element.get(element_value)) return Syntax(error);
        if (!CheckWellFormed(element_value, 1, ValuePath{&root, "", index})) return false;
        ++index;
      }
      break;
    }
    case json::json_type::string: {
      std::string_view text;
      if (auto error = document.get_string().get(text)) return Syntax(error);
      break;
    }
    case json::json_type::number: {
      double number;
      if (auto error = document.get_double().get(number)) return Syntax(error);
      break;
    }
    case json::json_type::boolean: {
      bool flag;
      if (auto error = document.get_bool().get(flag)) return Syntax(error);
      break;
    }
    case json::json_type::null: {
      bool is_null;
      if (auto error = document.is_null().get(is_null)) return Syntax(error);
      if (!is_null) return Syntax(simdjson::N_ATOM_ERROR);
      break;
    }
    case json::json_type::object:
      break;
  }
  const char* trailing;
  if (document.current_location().get(trailing) == simdjson::SUCCESS) {
    return Syntax(simdjson::TAPE_ERROR);
  }
  return true;
}

bool MessageReader::KeepExtra(std::string_view key, json::value value) {
  const ValuePath path{nullptr, key, -1};
  if (key.find('\0') != std::string_view::npos) ExtraNul(path);
  json::json_type type;
  if (auto error = value.type().get(type)) return Syntax(error);
  // A scalar is its own token; an object or array runs from its first token to where the
  // iterator stands once it has been read (the separator after it; whitespace between).
  const std::string_view token = TrimRight(value.raw_json_token());
  if (!CheckWellFormed(value, 1, path)) return false;
  std::string_view text = token;
  if (type == json::json_type::object || type == json::json_type::array) {
    const char* end;
    if (document_->current_location().get(end) != simdjson::SUCCESS) {
      return Syntax(simdjson::TAPE_ERROR);
    }
    text = TrimRight(std::string_view(token.data(), static_cast<size_t>(end - token.data())));
  }
  extra_.push_back(extra_.empty() ? '{' : ',');
  const size_t key_begin = extra_.size() + 1;  // past the opening quote
  AppendJsonString(key, &extra_);
  scratch_.extra_keys.emplace_back(key_begin, extra_.size() - 1 - key_begin);
  extra_.push_back(':');
  extra_.append(text);
  return true;
}

void MessageReader::CheckExtraKeysDistinct() {
  // Each object's own repeated keys are reported as they come; what is left is two objects'
  // unknown fields meeting under one name in extra_json, which jsonb would silently merge.
  if (scratch_.extra_keys.size() < 2 || duplicate_reported_) return;
  std::vector<std::string_view>& keys = scratch_.sorted_keys;
  keys.clear();
  const std::string_view extra(extra_);
  for (const auto& [begin, length] : scratch_.extra_keys) {
    keys.push_back(extra.substr(begin, length));
  }
  std::sort(keys.begin(), keys.end());
  const auto repeated = std::adjacent_find(keys.begin(), keys.end());
  if (repeated != keys.end()) {
    duplicate_reported_ = true;
    Add(codes::kDuplicateKey,
        "duplicate key: the unknown field \"" + Quote(*repeated) + "\" is given twice");
  }
}

bool MessageReader::ReadRoot(json::document& document) {
  document_ = &document;
  json::json_type type;
  if (auto error = document.type().get(type)) return Syntax(error);
  if (type != json::json_type::object) {
    if (!CheckWellFormedRoot(document, type)) return false;
    Add(codes::kNotObject, "the message is JSON but not an object");
    return false;
  }
  json::object object;
  if (auto error = document.get_object().get(object)) return Syntax(error);
  Transaction& transaction = *transaction_;
  Customer& customer = transaction.customer;
  const FieldPath top_level("");
  extra_.clear();
  for (auto member : object) {
    std::string_view key;
    if (auto error = member.unescaped_key().get(key)) return Syntax(error);
    json::value value;
    if (auto error = member.value().get(value)) return Syntax(error);
    bool ok = true;
    const size_t problems_before = problems_->size();
    bool camel_case = false;
    const int root_field = FindRootField(key, &camel_case);
    if (root_field >= 0) {
      if (!MarkGiven(&seen_.root_fields, 1u << root_field, top_level, key,
                     [root_field] { return kRootFields[root_field].ToString(); })) {
        continue;
      }
      seen_.camel_case = seen_.camel_case || camel_case;
      switch (root_field) {
        case kTransactionIdField:
          ok = ReadString(value, key, TextKind::kKey, &transaction.transaction_id,
                          &seen_.transaction_id);
          seen_.transaction_id = seen_.transaction_id || problems_->size() != problems_before;
          break;
        case kDateField:
          ok = ReadDate(value, key);
          break;
        case kItemsField:
          ok = ReadItems(value, key);
          break;
        case kSubtotalField:
          ok = ReadMoney(value, key, &transaction.subtotal_cents, &seen_.subtotal_usable);
          seen_.subtotal = seen_.subtotal_usable || problems_->size() != problems_before;
          break;
        case kTaxField:
          ok = ReadMoney(value, key, &transaction.tax_cents, &seen_.tax_usable);
          seen_.tax = seen_.tax_usable || problems_->size() != problems_before;
          break;
        case kTotalField:
          ok = ReadMoney(value, key, &transaction.total_cents, &seen_.total_usable);
          seen_.total = seen_.total_usable || problems_->size() != problems_before;
          break;
        case kPaymentTypeField:
          ok = ReadString(value, key, TextKind::kKey, &transaction.payment_type,
                          &seen_.payment_type);
          seen_.payment_type = seen_.payment_type || problems_->size() != problems_before;
          break;
        case kLocationField:
          ok = ReadLocation(value);
          break;
        case kCustomerField:
          ok = ReadCustomer(value, key);
          break;
      }
    } else if (const int index = FindField(kCustomerFields, key, /*aliases=*/false);
               index >= 0) {
      const NamedField<Customer>& target = kCustomerFields[index];
      if (!MarkGiven(&seen_.customer_fields, 1u << index, top_level, key,
                     [&target] { return "customer." + target.Spelled(); })) {
        continue;
      }
      seen_.flattened = true;
      ok = ReadString(value, key, target.kind, &(customer.*target.member), nullptr);
    } else {
      ok = KeepExtra(key, value);
    }
    if (!ok) return false;
  }
  // Anything but the end of input after the object is trailing garbage.
  const char* trailing;
  if (document.current_location().get(trailing) == simdjson::SUCCESS) {
    Add(codes::kJsonSyntax, "not valid JSON: trailing content after the object");
    syntax_reported_ = true;
    return false;
  }
  CheckExtraKeysDistinct();
  if (!seen_.items_usable) transaction.lines.clear();
  if (seen_.camel_case) {
    transaction.shape = Shape::kCamelCase;
  } else if (seen_.flattened) {
    transaction.shape = Shape::kFlattened;
  } else {
    transaction.shape = Shape::kSeedProducer;
  }
  if (extra_.empty()) {
    extra_ = "{}";
  } else {
    extra_.push_back('}');
  }
  return true;
}

void MessageReader::Validate() {
  Transaction& transaction = *transaction_;
  const bool camel = seen_.camel_case;
  if (!seen_.transaction_id) {
    AddField(codes::kFieldMissing, camel ? "transactionId" : "transaction_id",
             "the transaction id is missing");
  }
  if (!seen_.date) {
    AddField(codes::kFieldMissing, camel ? "timestamp" : "transaction_date",
             "the transaction date is missing");
  }
  if (!seen_.items) AddField(codes::kFieldMissing, "items", "items is missing");
  if (!seen_.subtotal) AddField(codes::kFieldMissing, "subtotal", "subtotal is missing");
  if (!seen_.tax) AddField(codes::kFieldMissing, "tax", "tax is missing");
  if (!seen_.total) AddField(codes::kFieldMissing, "total", "total is missing");
  if (!seen_.payment_type) {
    AddField(codes::kFieldMissing, camel ? "paymentMethod" : "payment_type",
             "the payment type is missing");
  }
  if (!seen_.location) {
    AddField(codes::kFieldMissing, "location", "location is missing");
  } else if (!seen_.store_id) {
    AddField(codes::kFieldMissing, camel ? "location.storeId" : "location.store_id",
             "the store id is missing");
  }
  if (seen_.items_usable && transaction.lines.empty() && !seen_.items_truncated) {
    Add(codes::kItemsEmpty, "the receipt has no lines");
  }

  bool all_lines_totalled = true;
  bool running_sum_reported = false;
  Cents sum_of_lines = 0;
  for (size_t index = 0; index < transaction.lines.size(); ++index) {
    const Line& line = transaction.lines[index];
    const LineSeen& seen = scratch_.lines_seen[index];
    auto prefix = [index] { return "items[" + std::to_string(index) + "]"; };
    auto missing = [&](std::string_view key, const char* what) {
      AddField(codes::kFieldMissing, FieldPath("items", static_cast<long>(index), key),
               prefix() + " has no " + what);
    };
    if (!seen.item) missing("item", "item name");
    if (!seen.price) missing("price", "price");
    if (!seen.quantity) missing("quantity", "quantity");
    if (!seen.total) missing("total_price", "total_price");
    if (seen.total_usable) {
      // Staging stores the running sum with each line, as numeric(12,2): every prefix must fit.
      const bool overflow =
          __builtin_add_overflow(sum_of_lines, line.line_total_cents, &sum_of_lines);
      if (overflow) all_lines_totalled = false;  // no sum left to compare the subtotal with
      if (!running_sum_reported && (overflow || !WithinAmountRange(sum_of_lines))) {
        running_sum_reported = true;
        AddField(codes::kAmountOutOfRange, "items",
                 "the running sum of the line totals leaves " + std::string(kAmountRange) +
                     " at " + prefix());
      }
    } else {
      all_lines_totalled = false;
    }
    if (seen.price_usable && line.unit_price_cents < 0) {
      Add(codes::kPriceNegative,
          prefix() + ".price " + FormatCents(line.unit_price_cents) + " is negative");
    }
    if (seen.price_usable && seen.quantity_usable && seen.total_usable) {
      Cents expected;
      if (__builtin_mul_overflow(line.unit_price_cents, static_cast<Cents>(line.quantity),
                                 &expected)) {
        Add(codes::kLineTotalMismatch, prefix() + ": price x quantity overflows");
      } else if (DiffersBeyond(expected, line.line_total_cents, kLineTolerance)) {
        Add(codes::kLineTotalMismatch,
            prefix() + ".total_price " + FormatCents(line.line_total_cents) + " != price " +
                FormatCents(line.unit_price_cents) + " x " + std::to_string(line.quantity) +
                " = " + FormatCents(expected));
      }
    }
  }
  if (seen_.subtotal_usable && all_lines_totalled && !transaction.lines.empty() &&
      !seen_.items_truncated) {
    Cents tolerance;
    if (__builtin_mul_overflow(static_cast<Cents>(transaction.lines.size()), kLineTolerance,
                               &tolerance) ||
        DiffersBeyond(sum_of_lines, transaction.subtotal_cents, tolerance)) {
      Add(codes::kSubtotalMismatch, "subtotal " + FormatCents(transaction.subtotal_cents) +
                                        " != sum of line totals " + FormatCents(sum_of_lines));
    }
  }
  if (seen_.subtotal_usable && seen_.tax_usable && seen_.total_usable) {
    Cents expected;
    if (__builtin_add_overflow(transaction.subtotal_cents, transaction.tax_cents, &expected) ||
        DiffersBeyond(expected, transaction.total_cents, kTotalTolerance)) {
      Add(codes::kTotalMismatch, "total " + FormatCents(transaction.total_cents) +
                                     " != subtotal " + FormatCents(transaction.subtotal_cents) +
                                     " + tax " + FormatCents(transaction.tax_cents));
    }
  }
}

}  // namespace

struct Parser::State {
  json::parser parser;
  std::string buffer;  // the message copied with simdjson's padding; reused between calls
  Scratch scratch;
};

Parser::Parser(ParserOptions options) : options_(options), state_(std::make_unique<State>()) {}
Parser::~Parser() = default;

bool Parser::Parse(std::string_view message, Transaction* transaction,
                   std::vector<Problem>* problems) {
  problems->clear();
  // Reset the transaction but keep its strings' capacity: no allocation on the happy path.
  transaction->transaction_id.clear();
  transaction->transaction_time = CivilDateTime{};
  Customer& customer = transaction->customer;
  for (std::string* field : {&customer.customer_id, &customer.first_name, &customer.last_name,
                             &customer.email, &customer.street, &customer.city,
                             &customer.province, &customer.postal_code}) {
    field->clear();
  }
  Store& store = transaction->store;
  for (std::string* field : {&store.store_id, &store.name, &store.address, &store.city,
                             &store.province, &store.postal_code}) {
    field->clear();
  }
  // Lines are resized (not cleared) by ReadItems, keeping their strings.
  transaction->subtotal_cents = transaction->tax_cents = transaction->total_cents = 0;
  transaction->payment_type.clear();
  transaction->extra_json = "{}";
  transaction->shape = Shape::kSeedProducer;

  if (message.size() > options_.max_message_bytes) {
    transaction->lines.clear();
    problems->push_back(Problem{std::string(codes::kTooLarge),
                                "message of " + std::to_string(message.size()) +
                                    " bytes is over the limit of " +
                                    std::to_string(options_.max_message_bytes)});
    return false;
  }
  if (!simdjson::validate_utf8(message.data(), message.size())) {
    transaction->lines.clear();
    problems->push_back(Problem{std::string(codes::kUtf8), "the message is not valid UTF-8"});
    return false;
  }
  std::string& buffer = state_->buffer;
  buffer.assign(message.data(), message.size());
  buffer.append(simdjson::SIMDJSON_PADDING, '\0');

  Scratch& scratch = state_->scratch;
  scratch.lines_seen.clear();
  scratch.extra_keys.clear();
  const bool may_hold_control_chars = message.find('\\') != std::string_view::npos ||
                                      message.find('\x7f') != std::string_view::npos;
  MessageReader reader(options_, may_hold_control_chars, &scratch, transaction, problems);
  json::document document;
  auto error = state_->parser
                   .iterate(simdjson::padded_string_view(buffer.data(), message.size(),
                                                         buffer.size()))
                   .get(document);
  if (error) {
    transaction->lines.clear();
    problems->push_back(Problem{std::string(codes::kJsonSyntax),
                                std::string("not valid JSON: ") + simdjson::error_message(error)});
    return false;
  }
  if (!reader.ReadRoot(document)) {
    transaction->lines.clear();  // never leave the previous message's lines behind
    transaction->extra_json = "{}";
    return false;
  }
  reader.Validate();
  return problems->empty();
}

}  // namespace posflow::event
