#include "event/parser.h"

#include <simdjson.h>

#include <algorithm>
#include <cstdlib>
#include <string>
#include <string_view>

namespace posflow::event {

namespace json = simdjson::ondemand;

namespace {

// Unknown values nest at most this deep; deeper is treated as hostile (json.syntax).
constexpr int kMaxDepth = 64;

// Per line: price x quantity may differ from the stated total by one rounding step.
constexpr Cents kLineTolerance = 1;
// Subtotal and tax each rounded once before the total was added up.
constexpr Cents kTotalTolerance = 2;

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
};

// "-123": a JSON integer, which simdjson may refuse only for being too large.
bool IsIntegerToken(std::string_view token) {
  if (!token.empty() && token.front() == '-') token.remove_prefix(1);
  return !token.empty() &&
         std::all_of(token.begin(), token.end(), [](char c) { return c >= '0' && c <= '9'; });
}

std::string_view TrimRight(std::string_view text) {
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t' || text.back() == '\n' ||
                           text.back() == '\r')) {
    text.remove_suffix(1);
  }
  return text;
}

// A field's name for messages ("total", "customer.email", "items[3].price"), built only when
// a problem is reported: the happy path allocates nothing for names.
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

  std::string_view parent;
  long index = -1;
  std::string_view key;
};

// A text field of a record, by its snake_case name and its camelCase (or other) alias.
template <typename Record>
struct NamedField {
  std::string_view name;
  std::string_view alias;  // empty: none
  std::string Record::*member;
};

constexpr NamedField<Customer> kCustomerFields[] = {
    {"customer_id", "customerId", &Customer::customer_id},
    {"first_name", "firstName", &Customer::first_name},
    {"last_name", "lastName", &Customer::last_name},
    {"email", "", &Customer::email},
    {"street", "address", &Customer::street},
    {"city", "", &Customer::city},
    {"province", "", &Customer::province},
    {"postal_code", "postalCode", &Customer::postal_code},
};

constexpr NamedField<Store> kStoreFields[] = {
    {"store_id", "storeId", &Store::store_id}, {"name", "storeName", &Store::name},
    {"address", "", &Store::address},          {"city", "", &Store::city},
    {"province", "", &Store::province},        {"postal_code", "postalCode", &Store::postal_code},
};

// The member `key` names (by name, or by alias when `aliases`), or nullptr.
template <typename Record, size_t kCount>
std::string Record::*FindField(const NamedField<Record> (&fields)[kCount], std::string_view key,
                               bool aliases) {
  for (const NamedField<Record>& field : fields) {
    if (key == field.name || (aliases && !field.alias.empty() && key == field.alias)) {
      return field.member;
    }
  }
  return nullptr;
}

// Thrown-free error flow: every helper returns false on a structural JSON error, which ends
// parsing with json.syntax; field-level problems are recorded and parsing goes on.
class MessageReader {
 public:
  MessageReader(const ParserOptions& options, Transaction* transaction,
                std::vector<Problem>* problems)
      : options_(options), transaction_(transaction), problems_(problems) {}

  // Reads the root object. False: structural JSON error (already recorded).
  bool ReadRoot(json::document& document);

  void Validate();

 private:
  void Add(std::string_view code, std::string message) {
    problems_->push_back(Problem{std::string(code), std::move(message)});
  }
  void AddField(std::string_view kind, const FieldPath& field, std::string message) {
    std::string code(kind);
    code += ':';
    code += field.ToString();
    problems_->push_back(Problem{std::move(code), std::move(message)});
  }
  bool Syntax(simdjson::error_code error) {
    if (!syntax_reported_) {
      Add(codes::kJsonSyntax, std::string("not valid JSON: ") + simdjson::error_message(error));
      syntax_reported_ = true;
    }
    return false;
  }

  // Field readers. Each returns false only on a structural error.
  bool ReadString(json::value value, const FieldPath& field, std::string* out, bool* present);
  bool ReadMoney(json::value value, const FieldPath& field, Cents* out, bool* present);
  bool ReadDate(json::value value, const FieldPath& field);
  bool ReadCustomer(json::value value, std::string_view field);
  bool ReadLocation(json::value value);
  bool ReadItems(json::value value, std::string_view field);
  bool ReadItem(json::value value, size_t index);
  // `present`: given (even if unusable); `usable`: within range and non-zero.
  bool ReadQuantity(json::value value, const FieldPath& field, std::int32_t* out, bool* present,
                    bool* usable);
  // Keeps an unknown field verbatim in extra_json (after checking it is well-formed JSON).
  bool KeepExtra(std::string_view key, json::value value);
  bool CheckWellFormed(json::value value, int depth);
  // The same for a document whose root is not an object (scalars are read from the document).
  bool CheckWellFormedRoot(json::document& document, json::json_type type);

  const ParserOptions& options_;
  Transaction* transaction_;
  std::vector<Problem>* problems_;
  json::document* document_ = nullptr;
  Seen seen_;
  std::vector<LineSeen> lines_seen_;
  std::string extra_;
  bool syntax_reported_ = false;
};

bool MessageReader::ReadString(json::value value, const FieldPath& field, std::string* out,
                               bool* present) {
  json::json_type type;
  if (auto error = value.type().get(type)) return Syntax(error);
  if (type == json::json_type::null) return true;  // absent
  if (type != json::json_type::string) {
    AddField(codes::kFieldType, field, field.ToString() + " must be a string");
    return true;
  }
  std::string_view text;
  if (auto error = value.get_string().get(text)) return Syntax(error);
  out->assign(text.data(), text.size());
  if (present != nullptr) *present = !text.empty();
  return true;
}

bool MessageReader::ReadMoney(json::value value, const FieldPath& field, Cents* out,
                              bool* present) {
  json::json_type type;
  if (auto error = value.type().get(type)) return Syntax(error);
  if (type == json::json_type::null) return true;
  if (type != json::json_type::number) {
    AddField(codes::kFieldType, field, field.ToString() + " must be a number");
    return true;
  }
  // Validate the number the JSON way, then read its exact decimal text.
  std::string_view token = TrimRight(value.raw_json_token());
  double ignored;
  if (auto error = value.get_double().get(ignored)) return Syntax(error);
  std::optional<Cents> cents = ParseCents(token);
  if (!cents) {
    AddField(codes::kFieldType, field,
             field.ToString() + " = " + std::string(token) + " is not an amount of money");
    return true;
  }
  *out = *cents;
  *present = true;
  return true;
}

bool MessageReader::ReadQuantity(json::value value, const FieldPath& field, std::int32_t* out,
                                 bool* present, bool* usable) {
  json::json_type type;
  if (auto error = value.type().get(type)) return Syntax(error);
  if (type == json::json_type::null) return true;
  if (type != json::json_type::number) {
    AddField(codes::kFieldType, field, field.ToString() + " must be an integer");
    *present = true;
    return true;
  }
  const std::string_view token = TrimRight(value.raw_json_token());
  json::number number;
  if (auto error = value.get_number().get(number)) {
    if (IsIntegerToken(token)) {
      *present = true;
      Add(codes::kQuantityAbsurd, field.ToString() + " = " + std::string(token) +
                                      " is out of range");
      return true;
    }
    return Syntax(error);
  }
  std::int64_t quantity;
  if (number.is_int64()) {
    quantity = number.get_int64();
  } else if (number.is_uint64()) {
    quantity = INT64_MAX;
  } else {
    // 2.0 is an integer written as a double; 2.5 is not a count of items.
    const double as_double = number.get_double();
    if (as_double != static_cast<double>(static_cast<std::int64_t>(as_double))) {
      AddField(codes::kFieldType, field, field.ToString() + " must be an integer");
      *present = true;
      return true;
    }
    quantity = static_cast<std::int64_t>(as_double);
  }
  *present = true;
  if (quantity == 0) {
    Add(codes::kQuantityZero, field.ToString() + " is 0");
  } else if (quantity > options_.max_abs_quantity || quantity < -options_.max_abs_quantity) {
    Add(codes::kQuantityAbsurd, field.ToString() + " = " + std::to_string(quantity) +
                                    " is beyond +-" + std::to_string(options_.max_abs_quantity));
  } else {
    *out = static_cast<std::int32_t>(quantity);
    *usable = true;
  }
  return true;
}

bool MessageReader::ReadDate(json::value value, const FieldPath& field) {
  std::string text;
  bool present = false;
  const size_t problems_before = problems_->size();
  if (!ReadString(value, field, &text, &present)) return false;
  if (problems_->size() != problems_before || !present) {
    seen_.date = problems_->size() != problems_before;  // ill-typed counts as given
    return true;
  }
  seen_.date = true;
  std::optional<CivilDateTime> time = ParseDateTime(text);
  if (!time) {
    Add(codes::kDateUnparseable, field.ToString() + " '" + text +
                                     "' is not YYYY-MM-DD HH:MM:SS or ISO-8601");
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
    return CheckWellFormed(value, 1);
  }
  json::object object;
  if (auto error = value.get_object().get(object)) return Syntax(error);
  Customer& customer = transaction_->customer;
  for (auto member : object) {
    std::string_view key;
    if (auto error = member.unescaped_key().get(key)) return Syntax(error);
    json::value member_value;
    if (auto error = member.value().get(member_value)) return Syntax(error);
    if (std::string Customer::*target = FindField(kCustomerFields, key, /*aliases=*/true)) {
      if (!ReadString(member_value, FieldPath(field, -1, key), &(customer.*target), nullptr)) {
        return false;
      }
    } else if (key == "name") {
      // The camelCase shape gives one "name": split it at the first space.
      std::string name;
      if (!ReadString(member_value, FieldPath(field, -1, "name"), &name, nullptr)) return false;
      const size_t space = name.find(' ');
      customer.first_name = name.substr(0, space);
      customer.last_name = space == std::string::npos ? "" : name.substr(space + 1);
    } else if (!KeepExtra(std::string(field) + "." + std::string(key), member_value)) {
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
    return CheckWellFormed(value, 1);
  }
  json::object object;
  if (auto error = value.get_object().get(object)) return Syntax(error);
  Store& store = transaction_->store;
  for (auto member : object) {
    std::string_view key;
    if (auto error = member.unescaped_key().get(key)) return Syntax(error);
    json::value member_value;
    if (auto error = member.value().get(member_value)) return Syntax(error);
    std::string Store::*target = FindField(kStoreFields, key, /*aliases=*/true);
    if (target == nullptr) {
      if (!KeepExtra("location." + std::string(key), member_value)) return false;
      continue;
    }
    bool* present = nullptr;
    if (target == &Store::store_id) {
      present = &seen_.store_id;
      if (key == "storeId") seen_.camel_case = true;
    }
    const size_t problems_before = problems_->size();
    if (!ReadString(member_value, FieldPath("location", -1, key), &(store.*target), present)) {
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
    return CheckWellFormed(value, 1);
  }
  json::array array;
  if (auto error = value.get_array().get(array)) return Syntax(error);
  size_t index = 0;
  for (auto element : array) {
    json::value item;
    if (auto error = element.get(item)) return Syntax(error);
    if (!ReadItem(item, index)) return false;
    ++index;
  }
  transaction_->lines.resize(index);
  lines_seen_.resize(index);
  seen_.items_usable = true;
  return true;
}

bool MessageReader::ReadItem(json::value value, size_t index) {
  if (transaction_->lines.size() <= index) transaction_->lines.resize(index + 1);
  if (lines_seen_.size() <= index) lines_seen_.resize(index + 1);
  Line& line = transaction_->lines[index];
  line.product_id.clear();
  line.item.clear();
  line.unit_price_cents = line.line_total_cents = 0;
  line.quantity = 0;
  LineSeen& seen = lines_seen_[index];
  seen = LineSeen{};
  json::json_type type;
  if (auto error = value.type().get(type)) return Syntax(error);
  if (type != json::json_type::object) {
    const FieldPath item("items", static_cast<long>(index), "");
    AddField(codes::kFieldType, item, item.ToString() + " must be an object");
    seen.item = seen.price = seen.quantity = seen.total = true;  // one complaint is enough
    return CheckWellFormed(value, 1);
  }
  json::object object;
  if (auto error = value.get_object().get(object)) return Syntax(error);
  for (auto member : object) {
    std::string_view key;
    if (auto error = member.unescaped_key().get(key)) return Syntax(error);
    json::value member_value;
    if (auto error = member.value().get(member_value)) return Syntax(error);
    const FieldPath field("items", static_cast<long>(index), key);
    bool ok = true;
    if (key == "item" || key == "productName" || key == "name") {
      const size_t before = problems_->size();
      ok = ReadString(member_value, field, &line.item, &seen.item);
      seen.item = seen.item || problems_->size() != before;
    } else if (key == "product_id" || key == "productId") {
      ok = ReadString(member_value, field, &line.product_id, nullptr);
    } else if (key == "price" || key == "unitPrice") {
      const size_t before = problems_->size();
      ok = ReadMoney(member_value, field, &line.unit_price_cents, &seen.price_usable);
      seen.price = seen.price_usable || problems_->size() != before;
    } else if (key == "quantity") {
      ok = ReadQuantity(member_value, field, &line.quantity, &seen.quantity,
                        &seen.quantity_usable);
    } else if (key == "total_price" || key == "totalPrice") {
      const size_t before = problems_->size();
      ok = ReadMoney(member_value, field, &line.line_total_cents, &seen.total_usable);
      seen.total = seen.total_usable || problems_->size() != before;
    } else {
      ok = KeepExtra(field.ToString(), member_value);
    }
    if (!ok) return false;
  }
  return true;
}

bool MessageReader::CheckWellFormed(json::value value, int depth) {
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
      for (auto member : object) {
        std::string_view key;
        if (auto error = member.unescaped_key().get(key)) return Syntax(error);
        json::value member_value;
        if (auto error = member.value().get(member_value)) return Syntax(error);
        if (!CheckWellFormed(member_value, depth + 1)) return false;
      }
      return true;
    }
    case json::json_type::array: {
      json::array array;
      if (auto error = value.get_array().get(array)) return Syntax(error);
      for (auto element : array) {
        json::value element_value;
        if (auto error = element.get(element_value)) return Syntax(error);
        if (!CheckWellFormed(element_value, depth + 1)) return false;
      }
      return true;
    }
    case json::json_type::string: {
      std::string_view text;
      if (auto error = value.get_string().get(text)) return Syntax(error);
      return true;
    }
    case json::json_type::number: {
      const std::string_view token = TrimRight(value.raw_json_token());
      json::number number;
      if (auto error = value.get_number().get(number)) {
        // Huge integers are valid JSON; only malformed numbers are not.
        return IsIntegerToken(token) ? true : Syntax(error);
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
      for (auto element : array) {
        json::value element_value;
        if (auto error = element.get(element_value)) return Syntax(error);
        if (!CheckWellFormed(element_value, 1)) return false;
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
  json::json_type type;
  if (auto error = value.type().get(type)) return Syntax(error);
  // A scalar is its own token; an object or array runs from its first token to where the
  // iterator stands once it has been read (the separator after it; whitespace between).
  const std::string_view token = TrimRight(value.raw_json_token());
  if (!CheckWellFormed(value, 1)) return false;
  std::string_view text = token;
  if (type == json::json_type::object || type == json::json_type::array) {
    const char* end;
    if (document_->current_location().get(end) != simdjson::SUCCESS) {
      return Syntax(simdjson::TAPE_ERROR);
    }
    text = TrimRight(std::string_view(token.data(), static_cast<size_t>(end - token.data())));
  }
  extra_.push_back(extra_.empty() ? '{' : ',');
  AppendJsonString(key, &extra_);
  extra_.push_back(':');
  extra_.append(text);
  return true;
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
  for (auto member : object) {
    std::string_view key;
    if (auto error = member.unescaped_key().get(key)) return Syntax(error);
    json::value value;
    if (auto error = member.value().get(value)) return Syntax(error);
    bool ok = true;
    size_t problems_before = problems_->size();
    if (key == "transaction_id" || key == "transactionId") {
      seen_.camel_case = seen_.camel_case || key == "transactionId";
      ok = ReadString(value, key, &transaction.transaction_id, &seen_.transaction_id);
      seen_.transaction_id = seen_.transaction_id || problems_->size() != problems_before;
    } else if (key == "transaction_date" || key == "timestamp") {
      seen_.camel_case = seen_.camel_case || key == "timestamp";
      ok = ReadDate(value, key);
    } else if (key == "items") {
      ok = ReadItems(value, key);
    } else if (key == "subtotal") {
      ok = ReadMoney(value, key, &transaction.subtotal_cents, &seen_.subtotal_usable);
      seen_.subtotal = seen_.subtotal_usable || problems_->size() != problems_before;
    } else if (key == "tax") {
      ok = ReadMoney(value, key, &transaction.tax_cents, &seen_.tax_usable);
      seen_.tax = seen_.tax_usable || problems_->size() != problems_before;
    } else if (key == "total") {
      ok = ReadMoney(value, key, &transaction.total_cents, &seen_.total_usable);
      seen_.total = seen_.total_usable || problems_->size() != problems_before;
    } else if (key == "payment_type" || key == "paymentMethod") {
      seen_.camel_case = seen_.camel_case || key == "paymentMethod";
      ok = ReadString(value, key, &transaction.payment_type, &seen_.payment_type);
      seen_.payment_type = seen_.payment_type || problems_->size() != problems_before;
    } else if (key == "location") {
      ok = ReadLocation(value);
    } else if (key == "customer") {
      ok = ReadCustomer(value, key);
    } else if (std::string Customer::*field = FindField(kCustomerFields, key, /*aliases=*/false)) {
      seen_.flattened = true;
      ok = ReadString(value, key, &(customer.*field), nullptr);
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
  if (!seen_.items_usable) transaction.lines.clear();
  if (seen_.camel_case) {
    transaction.shape = Shape::kCamelCase;
  } else if (seen_.flattened) {
    transaction.shape = Shape::kFlattened;
  } else {
    transaction.shape = Shape::kSeedProducer;
  }
  if (!extra_.empty()) {
    extra_.push_back('}');
    transaction.extra_json = std::move(extra_);
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
  if (seen_.items_usable && transaction.lines.empty()) {
    Add(codes::kItemsEmpty, "the receipt has no lines");
  }

  bool all_lines_totalled = true;
  Cents sum_of_lines = 0;
  for (size_t index = 0; index < transaction.lines.size(); ++index) {
    const Line& line = transaction.lines[index];
    const LineSeen& seen = lines_seen_[index];
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
      sum_of_lines += line.line_total_cents;
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
      } else if (std::llabs(expected - line.line_total_cents) > kLineTolerance) {
        Add(codes::kLineTotalMismatch,
            prefix() + ".total_price " + FormatCents(line.line_total_cents) + " != price " +
                FormatCents(line.unit_price_cents) + " x " + std::to_string(line.quantity) +
                " = " + FormatCents(expected));
      }
    }
  }
  if (seen_.subtotal_usable && all_lines_totalled && !transaction.lines.empty()) {
    const Cents tolerance = static_cast<Cents>(transaction.lines.size()) * kLineTolerance;
    if (std::llabs(sum_of_lines - transaction.subtotal_cents) > tolerance) {
      Add(codes::kSubtotalMismatch, "subtotal " + FormatCents(transaction.subtotal_cents) +
                                        " != sum of line totals " + FormatCents(sum_of_lines));
    }
  }
  if (seen_.subtotal_usable && seen_.tax_usable && seen_.total_usable &&
      std::llabs(transaction.subtotal_cents + transaction.tax_cents - transaction.total_cents) >
          kTotalTolerance) {
    Add(codes::kTotalMismatch, "total " + FormatCents(transaction.total_cents) + " != subtotal " +
                                   FormatCents(transaction.subtotal_cents) + " + tax " +
                                   FormatCents(transaction.tax_cents));
  }
}

}  // namespace

struct Parser::State {
  json::parser parser;
  std::string buffer;  // the message copied with simdjson's padding; reused between calls
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

  MessageReader reader(options_, transaction, problems);
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
    return false;
  }
  reader.Validate();
  return problems->empty();
}

}  // namespace posflow::event
