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
// A Parser keeps buffers between calls: use one per thread. Not thread-safe.

#include <cstddef>
#include <memory>
#include <string_view>
#include <vector>

#include "event/problem.h"
#include "event/transaction.h"

namespace posflow::event {

struct ParserOptions {
  // Messages larger than this are rejected unread (message.too_large). Default 1 MiB.
  size_t max_message_bytes = 1 << 20;
  // |quantity| above this is absurd (quantity.absurd). Default 10 000.
  std::int32_t max_abs_quantity = 10'000;
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
