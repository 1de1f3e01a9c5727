// Simulator throughput: how fast `posflow produce` can make messages before any sink.
//   build/release/bench/posflow_generator_bench
// items_per_second = transactions (or messages) per second; bytes_per_second = JSON bytes.

#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "event/transaction.h"
#include "sim/generator.h"
#include "sim/manifest.h"
#include "sim/message_stream.h"
#include "sim/reference_data.h"

namespace posflow::sim {
namespace {

// Generating transactions only (the simulated clock, baskets, customers, prices).
void BM_Generate(benchmark::State& state) {
  Generator generator(DefaultReferenceData(), GeneratorOptions{});
  event::Transaction transaction;
  for (auto _ : state) {
    generator.Next(&transaction);
    benchmark::DoNotOptimize(transaction.total_cents);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Generate);

// Serializing generated transactions (event::AppendSeedJson) into one reused buffer.
void BM_Serialize(benchmark::State& state) {
  Generator generator(DefaultReferenceData(), GeneratorOptions{});
  std::vector<event::Transaction> transactions(4096);
  for (event::Transaction& transaction : transactions) generator.Next(&transaction);
  std::string json;
  std::size_t index = 0;
  std::int64_t bytes = 0;
  for (auto _ : state) {
    json.clear();
    event::AppendSeedJson(transactions[index], &json);
    index = (index + 1) % transactions.size();
    bytes += static_cast<std::int64_t>(json.size());
    benchmark::DoNotOptimize(json.data());
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(bytes);
}
BENCHMARK(BM_Serialize);

// What the produce loop does per message before the sink: generate, serialize, count in the
// manifest. Arg: bad ratio in per mille (duplicates at 1 %).
void BM_MessageStreamWithManifest(benchmark::State& state) {
  StreamOptions options;
  options.bad_ratio = static_cast<double>(state.range(0)) / 1000.0;
  options.duplicate_ratio = state.range(0) > 0 ? 0.01 : 0.0;
  // Leave out the 1 MiB messages: they would measure memcpy.
  for (BadKind kind : AllBadKinds()) {
    if (kind != BadKind::kTooLarge) options.bad_kinds.push_back(kind);
  }
  MessageStream stream(DefaultReferenceData(), options);
  ManifestBuilder manifest;
  Message message;
  std::int64_t bytes = 0;
  for (auto _ : state) {
    stream.Next(&message);
    bytes += static_cast<std::int64_t>(message.value.size());
    switch (message.kind) {
      case MessageKind::kValid:
        manifest.AddValid(message.transaction);
        break;
      case MessageKind::kDuplicate:
        manifest.AddDuplicate(message.key);
        break;
      case MessageKind::kBad:
        manifest.AddBad(message.key, message.code);
        break;
    }
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(bytes);
}
BENCHMARK(BM_MessageStreamWithManifest)->Arg(0)->Arg(50);

}  // namespace
}  // namespace posflow::sim
