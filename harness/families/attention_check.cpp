#include "harness/families/attention_check.hpp"

#include <algorithm>
#include <atomic>
#include <functional>
#include <cmath>
#include <limits>
#include <sstream>
#include <stdexcept>
#include <thread>
#include <tuple>
#include <vector>

namespace aicbench {

namespace {

constexpr double kU32 = 0x1.0p-24;
const AttentionPrecision kPrecisions[] = {
    {"bf16", 0x1.0p-8, 0x1.0p-8},
    {"fp16", 0x1.0p-11, 0x1.0p-11},
    {"fp32", 0, kU32},
};

// splitmix64 (as harness/validation.cpp's), for the sampled rows.
struct Rng {
  uint64_t state;
  uint64_t next() {
    uint64_t z = (state += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
  }
  int64_t below(int64_t n) { return static_cast<int64_t>(next() % static_cast<uint64_t>(n)); }
};

struct Row {
  int64_t b, i, h;
};

// Calls fn(i) for i in [0, n) on every hardware thread, indices handed out one at a time.
void for_each_index(int64_t n, const std::function<void(int64_t)>& fn) {
  const int64_t threads = std::clamp<int64_t>(std::thread::hardware_concurrency(), 1, 64);
  std::atomic<int64_t> next{0};
  auto worker = [&] {
    for (int64_t i; (i = next.fetch_add(1)) < n;) fn(i);
  };
  std::vector<std::thread> pool;
  for (int64_t t = 1; t < std::min(threads, n); ++t) pool.emplace_back(worker);
  worker();
  for (auto& t : pool) t.join();
}

std::string describe(const Row& r, int64_t d) {
  return "O[b=" + std::to_string(r.b) + "][i=" + std::to_string(r.i) + "][h=" + std::to_string(r.h) +
         "][d=" + std::to_string(d) + "]";
}

}  // namespace

const AttentionPrecision& attention_precision(const std::string& dtype) {
  for (const auto& p : kPrecisions) {
    if (dtype == p.dtype) return p;
  }
  throw std::invalid_argument("attention has no precision " + dtype);
}

double score_bound(std::span<const float> Q, std::span<const float> K,
                   const kernels::AttentionShape& s) {
  auto max_norm = [&](std::span<const float> x) {
    double worst = 0;
    for (size_t v = 0; v + s.D <= x.size(); v += s.D) {
      double n = 0;
      for (int64_t d = 0; d < s.D; ++d) n += double(x[v + d]) * x[v + d];
      worst = std::max(worst, n);
    }
    return std::sqrt(worst);
  };
  return s.scale() * max_norm(Q) * max_norm(K);
}

// Each term bounds an error relative to sum_j p_j |v_jd| (see the header):
//  * P rounded to the 16-bit type before P*V: each weight off by at most u_p of itself;
//  * O rounded to its type: u_out of |o_d|, and |o_d| <= sum_j p_j |v_jd|;
//  * fp32 sums (P*V over Sk keys, the softmax's denominator, the online softmax's rescaling of
//    the accumulator once per key tile): 3 * min(Sk, 16 sqrt(Sk)) * 2^-24, the same bound as
//    for GEMM (harness/validation.cpp: rigorous up to 256 terms, 16 sqrt(n) u beyond), plus the
//    final division and product, 4 * 2^-24;
//  * exp: the GPU's ex2.approx is within 2^-22 relative (PTX ISA), std::exp closer; a relative
//    error e in every weight moves o by at most 2e of the bound (numerator and denominator):
//    2 * 2^-21 leaves a factor of two;
//  * the scores: a dot product of length D in fp32 (min(D, 16 sqrt(D)) * 2^-24 of |q| |k|), and
//    the scaling and the subtraction of the maximum (5 roundings of at most |s|): an absolute
//    error e in every score moves each weight by a factor within exp(+-2e), so o by 2e of the
//    bound, to first order.
double attention_tolerance(const AttentionPrecision& p, const kernels::AttentionShape& s,
                           double bound) {
  auto sum_terms = [](int64_t n) {
    const double k = static_cast<double>(std::max<int64_t>(n, 1));
    return std::min(k, 16.0 * std::sqrt(k));
  };
  const double accumulate = 3 * sum_terms(s.Sk) * kU32 + 4 * kU32;
  const double exp_error = 2 * 0x1.0p-21;
  const double score_error = (sum_terms(s.D) + 5) * kU32 * bound;
  return p.u_probabilities + p.u_output + accumulate + exp_error + 2 * score_error;
}

void reference_row(std::span<const float> Q, std::span<const float> K, std::span<const float> V,
                   const kernels::AttentionShape& s, int64_t b, int64_t i, int64_t h,
                   double* out, double* bound) {
  const int64_t D = s.D, g = s.kv_head(h), keys = s.key_end(i);
  std::fill(out, out + D, 0.0);
  std::fill(bound, bound + D, 0.0);
  if (keys == 0) return;
  const float* q = Q.data() + s.q_offset(b, i, h);
  std::vector<double> p(static_cast<size_t>(keys));
  double m = -std::numeric_limits<double>::infinity();
  for (int64_t j = 0; j < keys; ++j) {
    const float* k = K.data() + s.kv_offset(b, j, g);
    double dot = 0;
    for (int64_t d = 0; d < D; ++d) dot += double(q[d]) * double(k[d]);
    p[j] = dot * s.scale();
    m = std::max(m, p[j]);
  }
  double sum = 0;
  for (double& x : p) sum += (x = std::exp(x - m));
  for (int64_t j = 0; j < keys; ++j) {
    const double w = p[j] / sum;
    const float* v = V.data() + s.kv_offset(b, j, g);
    for (int64_t d = 0; d < D; ++d) {
      out[d] += w * v[d];
      bound[d] += w * std::abs(double(v[d]));
    }
  }
}

AttentionCheck check_attention(std::span<const float> Q, std::span<const float> K,
                               std::span<const float> V, std::span<const float> O,
                               const kernels::AttentionShape& s, double tolerance, uint64_t seed,
                               int random_rows) {
  AttentionCheck result;
  result.tolerance = tolerance;
  // Corners, the middle, the rows at the edges of 64- and 128-row query tiles, random rows.
  std::vector<Row> rows = {{0, 0, 0},
                           {s.B - 1, s.Sq - 1, s.H - 1},
                           {0, s.Sq - 1, 0},
                           {s.B - 1, 0, s.H - 1},
                           {s.B / 2, s.Sq / 2, s.H / 2}};
  for (int64_t edge : {int64_t{63}, int64_t{64}, int64_t{127}, int64_t{128}}) {
    if (edge < s.Sq) rows.push_back({s.B - 1, edge, 0});
  }
  Rng rng{seed};
  for (int r = 0; r < random_rows; ++r) rows.push_back({rng.below(s.B), rng.below(s.Sq), rng.below(s.H)});

  // Rows in parallel: each costs Sk * D multiply-adds in float64.
  std::vector<double> row_err(rows.size(), 0.0), row_worst_ref(rows.size(), 0.0);
  std::vector<int64_t> row_worst_d(rows.size(), 0);
  for_each_index(static_cast<int64_t>(rows.size()), [&](int64_t n) {
    std::vector<double> ref(s.D), bound(s.D);
    const Row& r = rows[n];
    reference_row(Q, K, V, s, r.b, r.i, r.h, ref.data(), bound.data());
    const float* got = O.data() + s.q_offset(r.b, r.i, r.h);
    for (int64_t d = 0; d < s.D; ++d) {
      double err = std::abs(got[d] - ref[d]) / (bound[d] > 0 ? bound[d] : 1.0);
      if (!std::isfinite(got[d])) err = INFINITY;
      if (err > row_err[n] || (std::isinf(err) && !std::isinf(row_err[n]))) {
        row_err[n] = err;
        row_worst_d[n] = d;
        row_worst_ref[n] = ref[d];
      }
    }
  });
  size_t worst = 0;
  for (size_t n = 0; n < rows.size(); ++n) {
    if (row_err[n] > row_err[worst]) worst = n;
  }
  result.max_rel_err = row_err[worst];
  result.rows = static_cast<int>(rows.size());
  result.passed = result.max_rel_err <= tolerance;
  if (!result.passed) {
    const Row& r = rows[worst];
    const int64_t d = row_worst_d[worst];
    std::ostringstream msg;
    msg.precision(4);
    msg << "validation failed: max_rel_err " << result.max_rel_err << " > tolerance " << tolerance
        << " at " << describe(r, d) << " = " << O[s.q_offset(r.b, r.i, r.h) + d] << ", expected "
        << row_worst_ref[worst];
    result.message = msg.str();
  }
  return result;
}

void compare_with_reference(AttentionCheck& check, std::span<const float> O,
                            std::span<const float> reference, std::span<const float> V,
                            const kernels::AttentionShape& s, const std::string& reference_name) {
  double vmax = 0;
  for (float v : V) vmax = std::max(vmax, double(std::abs(v)));
  if (vmax == 0) vmax = 1;
  const int64_t n = static_cast<int64_t>(std::min(O.size(), reference.size()));
  // Per chunk its worst element; chunks are contiguous, so the first worst is deterministic.
  std::vector<std::pair<double, int64_t>> worst_per_chunk(64, {0.0, 0});
  const int64_t chunk = std::max<int64_t>(1, (n + 63) / 64);
  for_each_index(64, [&](int64_t c) {
    auto& [worst, at] = worst_per_chunk[c];
    for (int64_t e = c * chunk; e < std::min(n, (c + 1) * chunk); ++e) {
      double diff = std::abs(double(O[e]) - double(reference[e])) / vmax;
      if (!std::isfinite(O[e]) || !std::isfinite(reference[e])) diff = INFINITY;
      if (diff > worst || (std::isinf(diff) && !std::isinf(worst))) {
        worst = diff;
        at = e;
      }
    }
  });
  auto [diff, at] = worst_per_chunk.front();
  for (const auto& [w, e] : worst_per_chunk) {
    if (w > diff) std::tie(diff, at) = std::pair{w, e};
  }
  check.max_diff_vs_reference = diff;
  check.reference_tolerance = 2 * check.tolerance;
  check.reference_name = reference_name;
  if (diff > check.reference_tolerance) {
    std::ostringstream msg;
    msg.precision(4);
    msg << (check.message.empty() ? "validation failed: " : check.message + "; ")
        << "the whole output differs from " << reference_name << "'s by " << diff
        << " of max|V| > " << check.reference_tolerance << " at "
        << describe({at / s.D / s.H / s.Sq, at / s.D / s.H % s.Sq, at / s.D % s.H}, at % s.D) << " ("
        << O[at] << " against " << reference[at] << ")";
    check.message = msg.str();
    check.passed = false;
  }
}

}  // namespace aicbench
