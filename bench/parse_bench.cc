// Parse + validate throughput of event::Parser on simulator output (issue 3's target:
// >= 500 000 messages/s on one core for 5-line receipts). Run from a release build:
//   build/release/bench/posflow_parse_bench

#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "event/parser.h"
#include "sim/generator.h"
#include "sim/reference_data.h"

namespace posflow::event {
namespace {

// `count` serialized simulator receipts, all with exactly `lines` lines when lines > 0
// (otherwise the simulator's own basket-size distribution).
std::vector<std::string> Messages(size_t count, size_t lines) {
  sim::Generator generator(sim::DefaultReferenceData(), sim::GeneratorOptions{});
  std::vector<std::string> messages;
  Transaction transaction;
  while (messages.size() < count) {
    generator.Next(&transaction);
    if (lines > 0 && transaction.lines.size() < lines) continue;
    if (lines > 0) {
      transaction.lines.resize(lines);
      transaction.subtotal_cents = 0;
      for (const Line& line : transaction.lines) transaction.subtotal_cents += line.line_total_cents;
      transaction.total_cents = transaction.subtotal_cents + transaction.tax_cents;
    }
    messages.emplace_back();
    AppendSeedJson(transaction, &messages.back());
  }
  return messages;
}

void ParseAll(benchmark::State& state, const std::vector<std::string>& messages) {
  Parser parser;
  Transaction transaction;
  std::vector<Problem> problems;
  size_t index = 0;
  size_t bytes = 0;
  for (auto _ : state) {
    const std::string& message = messages[index];
    if (!parser.Parse(message, &transaction, &problems)) state.SkipWithError("invalid message");
    benchmark::DoNotOptimize(transaction.total_cents);
    bytes += message.size();
    index = index + 1 == messages.size() ? 0 : index + 1;
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(static_cast<int64_t>(bytes));
}

void BM_ParseFiveLineReceipts(benchmark::State& state) {
  static const std::vector<std::string> messages = Messages(10000, 5);
  ParseAll(state, messages);
}
BENCHMARK(BM_ParseFiveLineReceipts);

void BM_ParseSimulatorMix(benchmark::State& state) {
  static const std::vector<std::string> messages = Messages(10000, 0);
  ParseAll(state, messages);
}
BENCHMARK(BM_ParseSimulatorMix);

}  // namespace
}  // namespace posflow::event
