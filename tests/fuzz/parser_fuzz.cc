// libFuzzer target for the POS message parser (built with clang in the asan preset).
// Invariants: Parse never crashes, hangs or leaks on any bytes; a message it accepts
// re-serializes (AppendSeedJson) into a message it accepts again with the same money.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "event/parser.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static posflow::event::Parser parser;
  static posflow::event::Parser reparser;
  posflow::event::Transaction transaction;
  std::vector<posflow::event::Problem> problems;
  const std::string_view message(reinterpret_cast<const char*>(data), size);
  if (!parser.Parse(message, &transaction, &problems)) {
    if (problems.empty()) std::abort();  // a rejection always says why
    return 0;
  }
  std::string json;
  posflow::event::AppendSeedJson(transaction, &json);
  posflow::event::Transaction again;
  if (!reparser.Parse(json, &again, &problems)) std::abort();
  if (again.lines != transaction.lines || again.total_cents != transaction.total_cents ||
      again.subtotal_cents != transaction.subtotal_cents ||
      again.tax_cents != transaction.tax_cents ||
      again.transaction_id != transaction.transaction_id ||
      again.store != transaction.store) {
    std::abort();
  }
  return 0;
}
