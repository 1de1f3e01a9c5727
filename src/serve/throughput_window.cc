#include "serve/throughput_window.h"

namespace posflow::serve {

void ThroughputWindow::Add(const ThroughputSample& sample) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (!samples_.empty() &&
      (sample.consumed < samples_.back().consumed || sample.loaded < samples_.back().loaded ||
       sample.at < samples_.back().at)) {
    samples_.clear();
  }
  samples_.push_back(sample);
  // Keep one sample at or before the window's start, so the rate spans the whole window.
  const auto start = sample.at - window_;
  while (samples_.size() > 2 && samples_[1].at <= start) samples_.pop_front();
}

Throughput ThroughputWindow::Rates() const {
  std::lock_guard<std::mutex> lock(mutex_);
  Throughput rates;
  if (samples_.size() < 2) return rates;
  const ThroughputSample& first = samples_.front();
  const ThroughputSample& last = samples_.back();
  rates.window_seconds = std::chrono::duration<double>(last.at - first.at).count();
  if (rates.window_seconds < 1.0) return rates;
  rates.consumed_per_second =
      static_cast<double>(last.consumed - first.consumed) / rates.window_seconds;
  rates.loaded_per_second = static_cast<double>(last.loaded - first.loaded) / rates.window_seconds;
  return rates;
}

}  // namespace posflow::serve
