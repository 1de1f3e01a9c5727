#pragma once

// Rates from counters sampled over time: messages consumed (Σ of the stored next offsets of the
// topic's partitions) and receipts loaded (Σ ops.etl_watermark.loaded_transactions) per second
// over the last minute. The counters only grow in normal operation; a counter that went down
// (a database re-initialised under a running server) restarts the window.
//
// Thread-safety: every method may be called from any thread.

#include <chrono>
#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>

namespace posflow::serve {

struct ThroughputSample {
  std::chrono::steady_clock::time_point at;
  std::int64_t consumed = 0;  // messages consumed so far
  std::int64_t loaded = 0;    // receipts loaded so far
};

struct Throughput {
  // Seconds between the oldest sample of the window and the newest; 0 with one sample.
  double window_seconds = 0;
  // Per second over that span; nullopt until two samples at least a second apart.
  std::optional<double> consumed_per_second;
  std::optional<double> loaded_per_second;
};

class ThroughputWindow {
 public:
  // `window`: how far back rates look (default one minute). Samples older are dropped, but
  // the newest sample at or before the window's start is kept as its base.
  explicit ThroughputWindow(std::chrono::seconds window = std::chrono::seconds(60))
      : window_(window) {}

  void Add(const ThroughputSample& sample);
  // The rates from the samples so far, as of the newest sample.
  Throughput Rates() const;

 private:
  const std::chrono::seconds window_;
  mutable std::mutex mutex_;
  std::deque<ThroughputSample> samples_;  // oldest first; guarded by mutex_
};

}  // namespace posflow::serve
