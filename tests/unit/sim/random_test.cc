#include "sim/random.h"

#include <gtest/gtest.h>

#include <set>
#include <vector>

namespace posflow::sim {
namespace {

TEST(Rng, SameSeedGivesSameSequence) {
  Rng first(42);
  Rng second(42);
  for (int i = 0; i < 1000; ++i) ASSERT_EQ(first.Next(), second.Next());
}

TEST(Rng, DifferentSeedsAndStreamsDiffer) {
  Rng seed_one(1);
  Rng seed_two(2);
  Rng stream_one = Rng::Stream(1, 1);
  Rng stream_two = Rng::Stream(1, 2);
  int same_seed = 0;
  int same_stream = 0;
  for (int i = 0; i < 100; ++i) {
    same_seed += seed_one.Next() == seed_two.Next() ? 1 : 0;
    same_stream += stream_one.Next() == stream_two.Next() ? 1 : 0;
  }
  EXPECT_EQ(same_seed, 0);
  EXPECT_EQ(same_stream, 0);
}

// Pins the arithmetic: a change to the generator would silently change every simulator run.
TEST(Rng, SequenceIsPinned) {
  std::uint64_t state = 0;
  EXPECT_EQ(SplitMix64(&state), 0xe220a8397b1dcdafULL);
  Rng rng(0);
  const std::uint64_t first = rng.Next();
  Rng again(0);
  EXPECT_EQ(again.Next(), first);
  EXPECT_NE(first, 0u);
}

TEST(Rng, BelowAndBetweenStayInRangeAndCoverIt) {
  Rng rng(7);
  std::set<std::uint64_t> seen;
  for (int i = 0; i < 10000; ++i) {
    const std::uint64_t value = rng.Below(10);
    ASSERT_LT(value, 10u);
    seen.insert(value);
    const std::int64_t between = rng.Between(-3, 3);
    ASSERT_GE(between, -3);
    ASSERT_LE(between, 3);
    ASSERT_LT(rng.Index(7), 7u);
  }
  EXPECT_EQ(seen.size(), 10u);
}

TEST(Rng, UniformDoubleIsInUnitIntervalWithMeanNearHalf) {
  Rng rng(9);
  double sum = 0;
  for (int i = 0; i < 100000; ++i) {
    const double value = rng.UniformDouble();
    ASSERT_GE(value, 0.0);
    ASSERT_LT(value, 1.0);
    sum += value;
  }
  EXPECT_NEAR(sum / 100000, 0.5, 0.01);
}

TEST(WeightedChoice, DrawsInProportionToWeightsAndNeverZeroWeights) {
  const std::vector<double> weights = {1, 0, 3, 6};
  WeightedChoice choice(weights);
  EXPECT_DOUBLE_EQ(choice.Probability(0), 0.1);
  EXPECT_DOUBLE_EQ(choice.Probability(1), 0.0);
  Rng rng(3);
  std::vector<int> counts(4, 0);
  constexpr int kDraws = 200000;
  for (int i = 0; i < kDraws; ++i) ++counts[choice.Draw(rng)];
  EXPECT_EQ(counts[1], 0);
  EXPECT_NEAR(counts[0] / double{kDraws}, 0.1, 0.005);
  EXPECT_NEAR(counts[2] / double{kDraws}, 0.3, 0.005);
  EXPECT_NEAR(counts[3] / double{kDraws}, 0.6, 0.005);
}

TEST(WeightedChoice, SingleWeightAlwaysDrawsIt) {
  WeightedChoice choice(std::vector<double>{5});
  Rng rng(1);
  for (int i = 0; i < 100; ++i) EXPECT_EQ(choice.Draw(rng), 0u);
}

TEST(Zipf, WeightsAreExactForWholeExponentsAndDecrease) {
  EXPECT_DOUBLE_EQ(ZipfWeight(0, 16), 1.0);
  EXPECT_DOUBLE_EQ(ZipfWeight(3, 0), 1.0);
  EXPECT_NEAR(ZipfWeight(3, 16), 0.25, 1e-12);  // 1 / 4
  EXPECT_NEAR(ZipfWeight(15, 8), 0.25, 1e-12);  // 1 / sqrt(16)
  for (std::size_t rank = 1; rank < 100; ++rank) {
    EXPECT_LT(ZipfWeight(rank, 12), ZipfWeight(rank - 1, 12));
  }
  WeightedChoice zipf = MakeZipf(100, 16);
  EXPECT_NEAR(zipf.Probability(0) / zipf.Probability(9), 10.0, 1e-9);
}

}  // namespace
}  // namespace posflow::sim
