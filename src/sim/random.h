#pragma once

// Deterministic pseudo-random numbers and the few distributions the simulator needs.
//
// Everything here is defined by integer and IEEE-754 double arithmetic only (no <random>
// distributions, no libm), so a seed gives the same numbers with every compiler and standard
// library: simulator output is reproducible byte for byte.
//
// Rng is xoshiro256** (Blackman & Vigna, 2018) seeded through splitmix64 (Steele, Lea & Flood,
// 2014), written here from the published definitions. Not cryptographic. Not thread-safe: use
// one Rng per thread (Rng::Stream derives independent ones from one seed).

#include <cstdint>
#include <vector>

namespace posflow::sim {

// splitmix64: advances `*state` and returns the next output. Used to expand seeds.
std::uint64_t SplitMix64(std::uint64_t* state);

class Rng {
 public:
  // A generator whose whole sequence is determined by `seed` (any value, 0 included).
  explicit Rng(std::uint64_t seed);

  // A generator for the named sub-stream `stream` of `seed`: streams of one seed do not overlap
  // in practice, so parts of the simulator draw independently (changing how many numbers one
  // part draws does not shift another's).
  static Rng Stream(std::uint64_t seed, std::uint64_t stream);

  // The next 64 uniformly distributed bits.
  std::uint64_t Next();

  // Uniform in [0, bound). REQUIRES: bound > 0. Unbiased (rejection of the short tail).
  std::uint64_t Below(std::uint64_t bound);

  // In [0, bound) by multiply-shift: one draw, no division, bias below bound / 2^64 (far below
  // anything measurable for the small bounds of tables). REQUIRES: bound > 0.
  std::size_t Index(std::size_t bound);

  // Uniform in [low, high]. REQUIRES: low <= high.
  std::int64_t Between(std::int64_t low, std::int64_t high);

  // Uniform in [0, 1), 53 bits of precision.
  double UniformDouble();

  // True with probability `probability` (<= 0: never, >= 1: always).
  bool Chance(double probability);

 private:
  std::uint64_t state_[4];
};

// Draws indices 0..n-1 with probabilities proportional to fixed weights, in O(1) per draw
// (Walker's alias method, built with Vose's stable construction). Weights must be >= 0 with a
// positive sum. Immutable after construction.
class WeightedChoice {
 public:
  WeightedChoice() = default;
  explicit WeightedChoice(const std::vector<double>& weights);

  // REQUIRES: constructed with at least one positive weight.
  std::size_t Draw(Rng& rng) const;

  std::size_t size() const { return probability_.size(); }
  // The probability of index `index`.
  double Probability(std::size_t index) const { return probability_[index]; }

 private:
  std::vector<double> probability_;  // normalized weights
  std::vector<double> keep_;         // per slot: probability of keeping the slot's own index
  std::vector<std::size_t> alias_;   // per slot: the index drawn otherwise
};

// Zipf-like ranks: index r (0-based rank) has weight 1 / (r + 1)^(exponent_sixteenths / 16).
// REQUIRES: n >= 1, 0 <= exponent_sixteenths <= 64.
WeightedChoice MakeZipf(std::size_t n, int exponent_sixteenths);

// (rank + 1)^(-exponent_sixteenths / 16), computed from square roots and multiplications only
// (IEEE-754 rounds both exactly), so it is the same on every platform.
// REQUIRES: 0 <= exponent_sixteenths <= 64.
double ZipfWeight(std::size_t rank, int exponent_sixteenths);

}  // namespace posflow::sim
