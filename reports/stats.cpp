#include "reports/stats.hpp"

#include <algorithm>
#include <cmath>
#include <numbers>
#include <numeric>

namespace aicbench::stats {

double median(std::span<const double> values) {
  std::vector<double> v(values.begin(), values.end());
  const size_t n = v.size();
  std::nth_element(v.begin(), v.begin() + n / 2, v.end());
  const double upper = v[n / 2];
  if (n % 2) return upper;
  return 0.5 * (*std::max_element(v.begin(), v.begin() + n / 2) + upper);
}

double quantile(std::span<const double> values, double p) {
  std::vector<double> v(values.begin(), values.end());
  std::sort(v.begin(), v.end());
  const double h = (v.size() - 1) * std::clamp(p, 0.0, 1.0);
  const size_t lo = static_cast<size_t>(std::floor(h));
  const size_t hi = std::min(lo + 1, v.size() - 1);
  return v[lo] + (h - lo) * (v[hi] - v[lo]);
}

std::optional<double> robust_relative_spread(std::span<const double> values) {
  if (values.size() < 2) return std::nullopt;
  const double m = median(values);
  if (!(m > 0)) return std::nullopt;
  if (values.size() == 2) return std::abs(values[0] - values[1]) / std::sqrt(2.0) / m;
  std::vector<double> deviations;
  for (double x : values) deviations.push_back(std::abs(x - m));
  // 1.4826 = 1 / Phi^-1(3/4): makes the MAD estimate the standard deviation of normal data.
  return 1.4826 * median(deviations) / m;
}

namespace {

// Midranks (1-based) of the pooled sample, and the tie term sum(t^3 - t) over groups of ties.
struct Ranks {
  std::vector<double> rank;
  double tie_term = 0;
};

Ranks midranks(const std::vector<double>& pooled) {
  std::vector<size_t> order(pooled.size());
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return pooled[a] < pooled[b]; });
  Ranks r;
  r.rank.resize(pooled.size());
  for (size_t i = 0; i < order.size();) {
    size_t j = i;
    while (j + 1 < order.size() && pooled[order[j + 1]] == pooled[order[i]]) ++j;
    const double mid = 0.5 * static_cast<double>(i + j) + 1.0;
    for (size_t k = i; k <= j; ++k) r.rank[order[k]] = mid;
    const double t = static_cast<double>(j - i + 1);
    r.tie_term += t * t * t - t;
    i = j + 1;
  }
  return r;
}

// counts[u] = number of orderings of n1 x's and n2 y's in which U (pairs with x > y) equals u.
// Recurrence on the largest value: an x above all n2 y's adds n2 to U, a y adds nothing.
std::vector<double> u_counts(size_t n1, size_t n2) {
  const size_t umax = n1 * n2;
  // layer[j][u] for the current i (number of x's).
  std::vector<std::vector<double>> prev(n2 + 1, std::vector<double>(umax + 1, 0.0));
  for (size_t j = 0; j <= n2; ++j) prev[j][0] = 1;  // i = 0: one ordering, U = 0
  for (size_t i = 1; i <= n1; ++i) {
    std::vector<std::vector<double>> cur(n2 + 1, std::vector<double>(umax + 1, 0.0));
    cur[0][0] = 1;  // j = 0: only x's, U = 0
    for (size_t j = 1; j <= n2; ++j) {
      for (size_t u = 0; u <= i * j; ++u) {
        double c = cur[j - 1][u];
        if (u >= j) c += prev[j][u - j];
        cur[j][u] = c;
      }
    }
    prev = std::move(cur);
  }
  return prev[n2];
}

double binomial(size_t n, size_t k) {
  double c = 1;
  k = std::min(k, n - k);
  for (size_t i = 1; i <= k; ++i) c = c * static_cast<double>(n - k + i) / static_cast<double>(i);
  return c;
}

}  // namespace

MannWhitney mann_whitney_u(std::span<const double> x, std::span<const double> y) {
  const size_t n1 = x.size(), n2 = y.size();
  std::vector<double> pooled(x.begin(), x.end());
  pooled.insert(pooled.end(), y.begin(), y.end());
  const Ranks r = midranks(pooled);
  double r1 = 0;
  for (size_t i = 0; i < n1; ++i) r1 += r.rank[i];
  MannWhitney result;
  result.u = r1 - static_cast<double>(n1 * (n1 + 1)) / 2.0;
  const double mu = static_cast<double>(n1 * n2) / 2.0;
  const size_t n = n1 + n2;

  if (r.tie_term == 0 && n <= kExactLimit) {
    const std::vector<double> counts = u_counts(n1, n2);
    const double total = binomial(n, n1);
    const size_t u = static_cast<size_t>(std::llround(result.u));
    double below = 0, above = 0;  // P(U <= u), P(U >= u) as counts
    for (size_t k = 0; k < counts.size(); ++k) {
      if (k <= u) below += counts[k];
      if (k >= u) above += counts[k];
    }
    result.p = std::min(1.0, 2.0 * std::min(below, above) / total);
    result.exact = true;
    return result;
  }
  const double nn = static_cast<double>(n);
  const double variance =
      static_cast<double>(n1 * n2) / 12.0 * ((nn + 1.0) - r.tie_term / (nn * (nn - 1.0)));
  if (!(variance > 0)) {
    result.p = 1;  // every value tied: nothing to tell apart
    return result;
  }
  const double z = std::max(0.0, std::abs(result.u - mu) - 0.5) / std::sqrt(variance);
  result.p = std::min(1.0, std::erfc(z / std::numbers::sqrt2));
  return result;
}

double smallest_attainable_p(size_t n1, size_t n2) {
  if (n1 == 0 || n2 == 0) return 1;
  return std::min(1.0, 2.0 / binomial(n1 + n2, n1));
}

std::vector<double> benjamini_hochberg(std::span<const double> p_values) {
  const size_t m = p_values.size();
  std::vector<size_t> order(m);
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return p_values[a] < p_values[b]; });
  std::vector<double> adjusted(m);
  double running = 1;
  for (size_t k = m; k-- > 0;) {  // from the largest p-value down: adjusted = min over j >= k
    const double value = p_values[order[k]] * static_cast<double>(m) / static_cast<double>(k + 1);
    running = std::min(running, value);
    adjusted[order[k]] = running;
  }
  return adjusted;
}

Interval bootstrap_median_ratio(std::span<const double> baseline, std::span<const double> current,
                                double level, int resamples, uint64_t seed) {
  SplitMix64 rng(seed);
  std::vector<double> b(baseline.size()), c(current.size()), ratios;
  ratios.reserve(static_cast<size_t>(resamples));
  for (int r = 0; r < resamples; ++r) {
    for (double& v : b) v = baseline[rng.below(baseline.size())];
    for (double& v : c) v = current[rng.below(current.size())];
    ratios.push_back(median(c) / median(b));
  }
  return {quantile(ratios, (1 - level) / 2), quantile(ratios, (1 + level) / 2)};
}

uint64_t SplitMix64::next() {
  uint64_t z = (state_ += 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

uint64_t SplitMix64::below(uint64_t n) {
  // Lemire: the high half of a 64x64 product, rejecting the few values that would bias it.
  const uint64_t threshold = (0 - n) % n;
  for (;;) {
    const unsigned __int128 product = static_cast<unsigned __int128>(next()) * n;
    if (static_cast<uint64_t>(product) >= threshold) return static_cast<uint64_t>(product >> 64);
  }
}

double SplitMix64::uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }

double SplitMix64::normal() {
  const double u1 = 1.0 - uniform();  // (0, 1]: log stays finite
  const double u2 = uniform();
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * std::numbers::pi * u2);
}

uint64_t fnv1a(std::string_view text) {
  uint64_t h = 0xcbf29ce484222325ULL;
  for (unsigned char ch : text) {
    h ^= ch;
    h *= 0x100000001b3ULL;
  }
  return h;
}

}  // namespace aicbench::stats
