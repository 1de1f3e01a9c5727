// serve/throughput_window.h: rates over the last minute from sampled counters.

#include "serve/throughput_window.h"

#include <gtest/gtest.h>

namespace posflow::serve {
namespace {

using std::chrono::seconds;

ThroughputSample At(std::chrono::steady_clock::time_point start, int second,
                    std::int64_t consumed, std::int64_t loaded) {
  return {start + seconds(second), consumed, loaded};
}

TEST(ThroughputWindow, HasNoRateUntilTwoSamplesASecondApart) {
  ThroughputWindow window;
  const auto start = std::chrono::steady_clock::now();
  EXPECT_FALSE(window.Rates().consumed_per_second);
  window.Add(At(start, 0, 100, 90));
  EXPECT_FALSE(window.Rates().consumed_per_second);
  window.Add({start + std::chrono::milliseconds(300), 150, 100});
  EXPECT_FALSE(window.Rates().loaded_per_second);
  window.Add(At(start, 10, 1100, 590));
  const Throughput rates = window.Rates();
  EXPECT_DOUBLE_EQ(rates.window_seconds, 10);
  EXPECT_DOUBLE_EQ(*rates.consumed_per_second, 100);
  EXPECT_DOUBLE_EQ(*rates.loaded_per_second, 50);
}

TEST(ThroughputWindow, SpansTheLastMinuteFromTheNewestSampleBeforeIt) {
  ThroughputWindow window(seconds(60));
  const auto start = std::chrono::steady_clock::now();
  window.Add(At(start, 0, 0, 0));          // dropped: a newer sample is before the window
  window.Add(At(start, 30, 3000, 3000));   // the window's base
  window.Add(At(start, 60, 6000, 4000));
  window.Add(At(start, 100, 10000, 8000));
  const Throughput rates = window.Rates();
  EXPECT_DOUBLE_EQ(rates.window_seconds, 70);
  EXPECT_DOUBLE_EQ(*rates.consumed_per_second, 100);
  EXPECT_DOUBLE_EQ(*rates.loaded_per_second, 5000.0 / 70);
}

TEST(ThroughputWindow, RestartsWhenACounterGoesBack) {
  ThroughputWindow window;
  const auto start = std::chrono::steady_clock::now();
  window.Add(At(start, 0, 5000, 5000));
  window.Add(At(start, 5, 10, 10));  // the database was re-initialised
  EXPECT_FALSE(window.Rates().consumed_per_second);
  window.Add(At(start, 10, 60, 30));
  EXPECT_DOUBLE_EQ(*window.Rates().consumed_per_second, 10);
}

}  // namespace
}  // namespace posflow::serve
