#pragma once
// The statistics behind `aicbench compare` (and anything else that turns samples into a decision):
// order statistics, the Mann-Whitney U test, a bootstrap interval for a ratio of medians, and
// Benjamini-Hochberg's control of the false discovery rate. Plain functions of numbers: no files,
// no options, deterministic (the bootstrap takes its seed), so each is tested against known values.
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

namespace aicbench::stats {

// The median (mean of the middle two for an even count). Requires a non-empty sample.
double median(std::span<const double> values);

// Linear-interpolation quantile (type 7, as numpy's default), p in [0, 1]. Non-empty sample.
double quantile(std::span<const double> values, double p);

// A robust relative spread of a sample: 1.4826 * MAD / median (the standard deviation's value
// for normal data, unmoved by one wild value) for 3 or more values; for 2 values their standard
// deviation over their mean. nullopt for fewer than 2 values or a non-positive median.
std::optional<double> robust_relative_spread(std::span<const double> values);

struct MannWhitney {
  double u = 0;         // U of the first sample: pairs (x, y) with x > y, ties counting 1/2
  double p = 1;         // two-sided p-value
  bool exact = false;   // from the exact null distribution (no ties, n1 + n2 <= kExactLimit)
};

// The exact null distribution is used when there are no ties and n1 + n2 <= this (every count
// C(n1 + n2, n1) is then an exact integer in a double); otherwise the normal approximation with
// the tie correction of the variance and a continuity correction of 1/2, as scipy's mannwhitneyu
// (which Google Benchmark's tools/compare.py calls).
inline constexpr size_t kExactLimit = 50;

// Two-sided Mann-Whitney U test of x against y. Both samples non-empty.
MannWhitney mann_whitney_u(std::span<const double> x, std::span<const double> y);

// The smallest two-sided p-value the test can give with these sample sizes: 2 / C(n1 + n2, n1),
// reached when the samples do not overlap at all. A benchmark whose smallest attainable p-value
// cannot pass a significance bar has no test at all, only the appearance of one.
double smallest_attainable_p(size_t n1, size_t n2);

// Benjamini-Hochberg adjusted p-values (step-up, made monotone, capped at 1), in the order given:
// rejecting every hypothesis whose adjusted p-value is <= q keeps the expected share of false
// discoveries among the rejections at or below q (for independent or positively dependent tests).
std::vector<double> benjamini_hochberg(std::span<const double> p_values);

struct Interval {
  double low = 0, high = 0;
};

// Percentile bootstrap interval of median(current) / median(baseline): `resamples` resamples of
// each side with replacement, the (1 - level)/2 and (1 + level)/2 quantiles of the ratios. The
// same seed gives the same interval on every platform (the generator and the mapping to indices
// are our own, not the standard library's implementation-defined distributions).
Interval bootstrap_median_ratio(std::span<const double> baseline, std::span<const double> current,
                                double level, int resamples, uint64_t seed);

// A small, fast, portable generator (SplitMix64): the bootstrap's and the tests' simulations.
class SplitMix64 {
 public:
  explicit SplitMix64(uint64_t seed) : state_(seed) {}
  uint64_t next();
  // Uniform in [0, n) without modulo bias (Lemire's method with rejection).
  uint64_t below(uint64_t n);
  // Uniform in [0, 1).
  double uniform();
  // Standard normal (Box-Muller, one value per call).
  double normal();

 private:
  uint64_t state_;
};

// FNV-1a of a string: a seed that depends on a benchmark's name and not on its position.
uint64_t fnv1a(std::string_view text);

}  // namespace aicbench::stats
