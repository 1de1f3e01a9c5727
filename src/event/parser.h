#pragma once

// Parsing and validating POS messages (simdjson On-Demand) into the canonical Transaction.
//
// Accepted shapes (see transaction.h, Shape): the seed producer's, the flattened
// pos_example*.json, and the camelCase point_of_sale_example.json; transaction dates as
// "YYYY-MM-DD HH:MM:SS" or ISO-8601 with an offset. Unknown fields are kept in extra_json.
// Unknown store, product or customer ids are not errors.
//
// Rounding tolerance (the seed rounds each figure separately): a line total may differ from
// price x quantity by 1 cent; the subtotal from the sum of line totals by 1 cent per line; the
// total from subtotal + tax by 2 cents (subtotal and tax each rounded once).
//
// Beyond the shapes: key fields and free text are bounded and hold no character PostgreSQL text
// refuses (key fields no control character at all); no object repeats a key, nor gives a field
// twice under two spellings; money fits numeric(12,2), the running sum of the line totals too;
// unknown fields, kept as jsonb, hold no \u0000 and no number numeric cannot hold. Problem
// messages quote at most ~100 bytes of the message, always as valid UTF-8 without NUL. See
// ParserOptions for the limits and problem.h for the codes.
//
// A Parser keeps buffers between calls: use one per thread. Not thread-safe.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

#include "common/civil_time.h"
#include "event/problem.h"
#include "event/transaction.h"

namespace posflow::event {

// Every limit below exists because PostgreSQL (or an index on it) would otherwise refuse the
// staged row later, where one bad message could stop ingest or the ETL: the parser refuses it
// first, with a stable code, and the message goes to the dead letters.
struct ParserOptions {
  // Messages larger than this are rejected unread (message.too_large). Default 1 MiB.
  size_t max_message_bytes = 1 << 20;
  // |quantity| above this is absurd (quantity.absurd). Default 10 000.
  std::int32_t max_abs_quantity = 10'000;
  // Longest key field, in bytes after JSON unescaping: transaction_id, location.store_id,
  // customer.customer_id, payment_type, items[i].item and items[i].product_id. Longer:
  // field.too_long:<field>. Key fields are primary keys, joined and indexed (a btree entry
  // must stay under ~2.7 kB). Default 128. Cost: a length comparison per key field, and a
  // scan of its bytes for control characters (field.control_char) when the message holds a
  // backslash or a DEL byte (JSON carries the others only escaped).
  size_t max_key_bytes = 128;
  // Longest free-text field, in bytes after unescaping: the customer's names, email, street,
  // city, province and postal code; the store's name, address, city, province and postal
  // code. Longer: field.too_long:<field>. Default 1024. Cost: a length comparison per text
  // field, and a memchr for NUL (field.control_char) when the message holds a backslash.
  size_t max_text_bytes = 1024;
  // Most receipt lines in one message (items.too_many); the lines past it are not read.
  // line_count and line_number are integer columns and each line is a row. Default 1000.
  // Cost: none.
  size_t max_items = 1000;
  // The transaction dates accepted (the date as written, before any UTC offset), inclusive:
  // outside, date.out_of_range. Defaults 1900-01-01 .. 2999-12-31, which is also the widest
  // window: dw.dim_date holds no other days, so a wider setting is narrowed to it. Cost: two
  // comparisons.
  CivilDate min_date{kMinYear, 1, 1};
  CivilDate max_date{kMaxYear, 12, 31};
};

class Parser {
 public:
  explicit Parser(ParserOptions options = {});
  ~Parser();
  Parser(const Parser&) = delete;
  Parser& operator=(const Parser&) = delete;

  // Parses and validates one message. Returns true when it is valid; otherwise `problems`
  // holds every problem found (not just the first) and `transaction` is partly filled.
  // `problems` is cleared first.
  bool Parse(std::string_view message, Transaction* transaction, std::vector<Problem>* problems);

 private:
  struct State;
  ParserOptions options_;
  std::unique_ptr<State> state_;
};

}  // namespace posflow::event
