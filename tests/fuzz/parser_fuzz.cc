// libFuzzer target for the POS message parser (built with clang in the asan preset; scripts/test
// runs it with -max_len=1048576, the default max_message_bytes).
//
// Invariants, on any bytes: Parse never crashes, hangs, leaks or hits undefined behaviour; its
// result does not depend on what the parser read before; a rejection always says why, and
// every problem is storable (valid UTF-8, no NUL, bounded). A message it accepts:
//   - has every key field within max_key_bytes and without control characters, every free-text
//     field within max_text_bytes and without NUL, 1..max_items lines, every amount and the
//     running sum of the line totals within numeric(12,2), quantities within +-max_abs_quantity
//     and not 0, the date within the default window and its UTC offset within +-18:00, and
//     extra_json a valid UTF-8 object without \u0000;
//   - re-serializes (AppendSeedJson) into a message it accepts again, equal but for the shape.
// Any violation aborts (a crash for libFuzzer).

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "common/civil_time.h"
#include "common/text.h"
#include "event/parser.h"

namespace {

using posflow::Cents;
using posflow::event::Parser;
using posflow::event::ParserOptions;
using posflow::event::Problem;
using posflow::event::Transaction;

const ParserOptions kOptions;  // the defaults: the invariants below check them
constexpr Cents kMaxAmountCents = 999'999'999'999;

void Fail(const char* what, std::string_view detail = {}) {
  std::fprintf(stderr, "parser_fuzz invariant broken: %s %.*s\n", what,
               static_cast<int>(std::min<size_t>(detail.size(), 200)), detail.data());
  std::abort();
}

void CheckKey(std::string_view text, const char* field) {
  if (text.size() > kOptions.max_key_bytes) Fail("key field too long:", field);
  for (char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte < 0x20 || byte == 0x7f) Fail("control character in key field:", field);
  }
  if (!posflow::IsValidUtf8(text)) Fail("key field not UTF-8:", field);
}

void CheckText(std::string_view text, const char* field) {
  if (text.size() > kOptions.max_text_bytes) Fail("text field too long:", field);
  if (text.find('\0') != std::string_view::npos) Fail("NUL in text field:", field);
  if (!posflow::IsValidUtf8(text)) Fail("text field not UTF-8:", field);
}

void CheckAmount(Cents cents, const char* field) {
  if (cents > kMaxAmountCents || cents < -kMaxAmountCents) Fail("amount out of range:", field);
}

void CheckAccepted(const Transaction& transaction) {
  CheckKey(transaction.transaction_id, "transaction_id");
  if (transaction.transaction_id.empty()) Fail("empty transaction_id");
  CheckKey(transaction.store.store_id, "store_id");
  if (transaction.store.store_id.empty()) Fail("empty store_id");
  CheckKey(transaction.customer.customer_id, "customer_id");
  CheckKey(transaction.payment_type, "payment_type");
  if (transaction.payment_type.empty()) Fail("empty payment_type");
  const auto& customer = transaction.customer;
  for (const std::string* text : {&customer.first_name, &customer.last_name, &customer.email,
                                  &customer.street, &customer.city, &customer.province,
                                  &customer.postal_code}) {
    CheckText(*text, "customer");
  }
  const auto& store = transaction.store;
  for (const std::string* text :
       {&store.name, &store.address, &store.city, &store.province, &store.postal_code}) {
    CheckText(*text, "store");
  }
  if (transaction.lines.empty() || transaction.lines.size() > kOptions.max_items) {
    Fail("line count out of range");
  }
  Cents running = 0;
  for (const auto& line : transaction.lines) {
    CheckKey(line.item, "item");
    CheckKey(line.product_id, "product_id");
    CheckAmount(line.unit_price_cents, "price");
    CheckAmount(line.line_total_cents, "total_price");
    if (line.unit_price_cents < 0) Fail("negative price accepted");
    if (line.quantity == 0 || line.quantity > kOptions.max_abs_quantity ||
        line.quantity < -kOptions.max_abs_quantity) {
      Fail("quantity out of range");
    }
    running += line.line_total_cents;  // bounded: <= 1000 x 10^12
    CheckAmount(running, "running sum of line totals");
  }
  CheckAmount(transaction.subtotal_cents, "subtotal");
  CheckAmount(transaction.tax_cents, "tax");
  CheckAmount(transaction.total_cents, "total");
  const posflow::CivilDateTime& time = transaction.transaction_time;
  const posflow::CivilDate date{time.year, time.month, time.day};
  if (date < kOptions.min_date || date > kOptions.max_date) Fail("date out of window");
  if (time.utc_offset_minutes && (*time.utc_offset_minutes > posflow::kMaxUtcOffsetMinutes ||
                                  *time.utc_offset_minutes < -posflow::kMaxUtcOffsetMinutes)) {
    Fail("UTC offset out of range");
  }
  const std::string& extra = transaction.extra_json;
  if (extra.size() < 2 || extra.front() != '{' || extra.back() != '}') Fail("extra not an object");
  if (!posflow::IsValidUtf8(extra)) Fail("extra not UTF-8");
  // A backslash escape: an odd run of backslashes before "u0000".
  for (size_t at = extra.find("u0000"); at != std::string::npos; at = extra.find("u0000", at + 1)) {
    size_t backslashes = 0;
    while (backslashes < at && extra[at - 1 - backslashes] == '\\') ++backslashes;
    if (backslashes % 2 == 1) Fail("\\u0000 in extra_json", extra);
  }
}

void CheckProblems(const std::vector<Problem>& problems) {
  if (problems.empty()) Fail("a rejection without a problem");
  for (const Problem& problem : problems) {
    if (problem.code.empty() || problem.message.empty()) Fail("empty problem");
    if (!posflow::IsValidUtf8(problem.code) || !posflow::IsValidUtf8(problem.message)) {
      Fail("problem not UTF-8", problem.code);
    }
    if (problem.code.find('\0') != std::string::npos ||
        problem.message.find('\0') != std::string::npos) {
      Fail("NUL in a problem", problem.code);
    }
    if (problem.code.size() > 160 || problem.message.size() > 512) {
      Fail("problem too long", problem.code);
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  // Two long-lived parsers that have read different messages before: their buffers (reused
  // between calls) must not leak one message into the next.
  static Parser parser(kOptions);
  static Parser other(kOptions);
  // Re-serialization writes amounts in full ("1e2" becomes "100.00"): it may grow past the
  // limit a little; the re-parse allows for that.
  static Parser reparser({.max_message_bytes = 8u << 20});
  static unsigned calls = 0;
  const std::string_view message(reinterpret_cast<const char*>(data), size);

  Transaction transaction;
  std::vector<Problem> problems;
  const bool accepted = parser.Parse(message, &transaction, &problems);
  if (accepted != problems.empty()) Fail("the result disagrees with the problems");
  if (++calls % 2 == 0) {
    Transaction again;
    std::vector<Problem> again_problems;
    if (other.Parse(message, &again, &again_problems) != accepted ||
        again_problems != problems || (accepted && again != transaction)) {
      Fail("two parsers disagree on one message");
    }
  }
  if (!accepted) {
    CheckProblems(problems);
    return 0;
  }
  CheckAccepted(transaction);

  std::string json;
  posflow::event::AppendSeedJson(transaction, &json);
  Transaction reparsed;
  if (!reparser.Parse(json, &reparsed, &problems)) {
    Fail("re-serialized message refused:", problems.empty() ? "" : problems[0].code);
  }
  reparsed.shape = transaction.shape;
  if (reparsed != transaction) Fail("re-serialized message parses differently", json);
  return 0;
}
