#include "sim/random.h"

#include <cassert>
#include <cmath>

namespace posflow::sim {
namespace {

constexpr std::uint64_t RotateLeft(std::uint64_t x, int bits) {
  return (x << bits) | (x >> (64 - bits));
}

}  // namespace

std::uint64_t SplitMix64(std::uint64_t* state) {
  std::uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

Rng::Rng(std::uint64_t seed) {
  std::uint64_t expander = seed;
  for (std::uint64_t& word : state_) word = SplitMix64(&expander);
  // xoshiro's only bad state is all zeros; splitmix64 cannot produce four zeros in a row, but
  // keep the guarantee explicit.
  if ((state_[0] | state_[1] | state_[2] | state_[3]) == 0) state_[0] = 1;
}

Rng Rng::Stream(std::uint64_t seed, std::uint64_t stream) {
  // Decorrelate (seed, stream) pairs before the seed expansion: neighbouring seeds and
  // neighbouring streams land far apart.
  std::uint64_t mixer = stream * 0xd1b54a32d192ed03ULL + 0x632be59bd9b4e019ULL;
  return Rng(seed ^ SplitMix64(&mixer));
}

std::uint64_t Rng::Next() {
  const std::uint64_t result = RotateLeft(state_[1] * 5, 7) * 9;
  const std::uint64_t shifted = state_[1] << 17;
  state_[2] ^= state_[0];
  state_[3] ^= state_[1];
  state_[1] ^= state_[2];
  state_[0] ^= state_[3];
  state_[2] ^= shifted;
  state_[3] = RotateLeft(state_[3], 45);
  return result;
}

std::uint64_t Rng::Below(std::uint64_t bound) {
  assert(bound > 0 && "Rng::Below needs a positive bound");
  // Values below `threshold` would make the low residues more likely: draw again.
  const std::uint64_t threshold = (0 - bound) % bound;
  std::uint64_t value = Next();
  while (value < threshold) value = Next();
  return value % bound;
}

std::int64_t Rng::Between(std::int64_t low, std::int64_t high) {
  assert(low <= high && "Rng::Between needs low <= high");
  const std::uint64_t span = static_cast<std::uint64_t>(high) - static_cast<std::uint64_t>(low);
  if (span == ~std::uint64_t{0}) return static_cast<std::int64_t>(Next());
  return static_cast<std::int64_t>(static_cast<std::uint64_t>(low) + Below(span + 1));
}

double Rng::UniformDouble() {
  return static_cast<double>(Next() >> 11) * 0x1.0p-53;
}

bool Rng::Chance(double probability) {
  if (probability <= 0) return false;
  if (probability >= 1) return true;
  return UniformDouble() < probability;
}

std::size_t Rng::Index(std::size_t bound) {
  __extension__ using Wide = unsigned __int128;  // GCC/Clang; __extension__: not ISO C++
  return static_cast<std::size_t>((static_cast<Wide>(Next()) * bound) >> 64);
}

WeightedChoice::WeightedChoice(const std::vector<double>& weights) {
  const std::size_t n = weights.size();
  double sum = 0;
  for (double weight : weights) {
    assert(weight >= 0 && "weights must not be negative");
    sum += weight;
  }
  assert(sum > 0 && "at least one weight must be positive");
  probability_.resize(n);
  keep_.assign(n, 1.0);
  alias_.resize(n);
  // Scale so that the mean is 1; pair each slot under 1 with one over 1 that tops it up.
  std::vector<double> scaled(n);
  std::vector<std::size_t> small;
  std::vector<std::size_t> large;
  for (std::size_t i = 0; i < n; ++i) {
    probability_[i] = weights[i] / sum;
    scaled[i] = probability_[i] * static_cast<double>(n);
    alias_[i] = i;
    (scaled[i] < 1.0 ? small : large).push_back(i);
  }
  while (!small.empty() && !large.empty()) {
    const std::size_t under = small.back();
    small.pop_back();
    const std::size_t over = large.back();
    keep_[under] = scaled[under];
    alias_[under] = over;
    scaled[over] = (scaled[over] + scaled[under]) - 1.0;
    if (scaled[over] < 1.0) {
      large.pop_back();
      small.push_back(over);
    }
  }
  // What is left is 1 up to rounding: such slots keep their own index (keep_ = 1).
}

std::size_t WeightedChoice::Draw(Rng& rng) const {
  assert(!keep_.empty() && "WeightedChoice::Draw on an empty choice");
  const std::size_t slot = rng.Index(keep_.size());
  return rng.UniformDouble() < keep_[slot] ? slot : alias_[slot];
}

double ZipfWeight(std::size_t rank, int exponent_sixteenths) {
  assert(exponent_sixteenths >= 0 && exponent_sixteenths <= 64 && "exponent out of range");
  // (rank+1)^(1/16) by four square roots, then its integer power: sqrt and * are correctly
  // rounded by IEEE-754, so this is reproducible where std::pow need not be.
  double root = static_cast<double>(rank + 1);
  for (int i = 0; i < 4; ++i) root = std::sqrt(root);
  double power = 1.0;
  for (int i = 0; i < exponent_sixteenths; ++i) power *= root;
  return 1.0 / power;
}

WeightedChoice MakeZipf(std::size_t n, int exponent_sixteenths) {
  assert(n >= 1 && "a Zipf distribution needs at least one rank");
  std::vector<double> weights(n);
  for (std::size_t rank = 0; rank < n; ++rank) weights[rank] = ZipfWeight(rank, exponent_sixteenths);
  return WeightedChoice(weights);
}

}  // namespace posflow::sim
