#pragma once

// The canonical POS transaction: what every input shape parses into, what staging stores and
// what the simulator generates. Money in integer cents, time as written on the receipt.

#include <cstdint>
#include <string>
#include <vector>

#include "common/civil_time.h"
#include "common/money.h"

namespace posflow::event {

// Which of the accepted JSON shapes a message had.
enum class Shape {
  kSeedProducer,  // the seed producer: customer object, items[{item,price,quantity,total_price}]
  kFlattened,     // pos_example*.json: customer fields at the top level
  kCamelCase,     // point_of_sale_example.json: transactionId, timestamp, productId, ...
};

const char* ShapeName(Shape shape);

// Empty customer_id: an anonymous sale.
struct Customer {
  std::string customer_id;
  std::string first_name;
  std::string last_name;
  std::string email;
  std::string street;
  std::string city;
  std::string province;
  std::string postal_code;

  bool anonymous() const { return customer_id.empty(); }
  bool operator==(const Customer&) const = default;
};

struct Store {
  std::string store_id;
  std::string name;
  std::string address;
  std::string city;
  std::string province;
  std::string postal_code;

  bool operator==(const Store&) const = default;
};

// One receipt line. A negative quantity is a return.
struct Line {
  std::string product_id;  // empty when the message names only the item
  std::string item;        // product name as printed on the receipt
  Cents unit_price_cents = 0;
  std::int32_t quantity = 0;
  Cents line_total_cents = 0;

  bool operator==(const Line&) const = default;
};

struct Transaction {
  std::string transaction_id;
  CivilDateTime transaction_time;
  Customer customer;
  Store store;
  std::vector<Line> lines;
  Cents subtotal_cents = 0;
  Cents tax_cents = 0;
  Cents total_cents = 0;
  std::string payment_type;
  // Fields the message carried that posflow does not model, as one JSON object ("{}" if none),
  // kept for staging. E.g. {"paymentStatus":"Approved","schema_version":1}.
  std::string extra_json = "{}";
  Shape shape = Shape::kSeedProducer;

  bool operator==(const Transaction&) const = default;
};

// Appends `transaction` as one line of JSON in the seed producer's shape (shape 1), with
// product_id on each line when known and the extra fields merged in at the top level; the date
// in ISO-8601 when it has a UTC offset or a fraction of a second, and the customer object
// whenever any of its fields is set (even without a customer_id).
// The output of a transaction the parser accepted parses back to an equal Transaction (but for
// `shape`).
void AppendSeedJson(const Transaction& transaction, std::string* out);

// Appends `text` as a JSON string literal (quotes and escapes included).
void AppendJsonString(std::string_view text, std::string* out);

// The same without the quotes: `"`, `\` and control characters escaped, every other byte
// copied (so valid UTF-8 in, valid JSON string content out).
void AppendJsonEscaped(std::string_view text, std::string* out);

}  // namespace posflow::event
