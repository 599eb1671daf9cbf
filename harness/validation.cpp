#include "harness/validation.hpp"

#include <algorithm>
#include <cmath>
#include <sstream>
#include <thread>
#include <vector>

namespace aicbench {

namespace {

constexpr uint64_t kGolden = 0x9E3779B97F4A7C15ULL;

// splitmix64's output function: a good 64-bit mix of a counter.
uint64_t mix(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

// splitmix64 as a sequential generator, for probe vectors and sample positions.
struct SplitMix64 {
  uint64_t state;
  uint64_t next() { return mix(state += kGolden); }
  double uniform01() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }
};

}  // namespace

void parallel_for(int64_t n, const std::function<void(int64_t, int64_t)>& body) {
  const int64_t threads = std::clamp<int64_t>(std::thread::hardware_concurrency(), 1, 64);
  // Small ranges are not worth a thread start.
  if (n < 4096 || threads == 1) {
    body(0, n);
    return;
  }
  std::vector<std::thread> pool;
  const int64_t chunk = (n + threads - 1) / threads;
  for (int64_t begin = 0; begin < n; begin += chunk) {
    pool.emplace_back(body, begin, std::min(n, begin + chunk));
  }
  for (auto& t : pool) t.join();
}

void fill_uniform(std::span<float> out, uint64_t seed) {
  parallel_for(static_cast<int64_t>(out.size()), [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) {
      const double u = static_cast<double>(mix(seed + static_cast<uint64_t>(i + 1) * kGolden) >> 11) * 0x1.0p-53;
      out[i] = static_cast<float>(u * 2.0 - 1.0);
    }
  });
}

double gemm_tolerance(int64_t K, double accumulate_unit_roundoff, double output_unit_roundoff) {
  // Summing K products in floating point has error at most gamma_K * sum|a_ik b_kj| <=
  // K * u * ||a_i|| ||b_j|| (Higham, Accuracy and Stability of Numerical Algorithms, 3.1). That
  // worst case assumes every rounding error points the same way; with random data they do not,
  // and the error grows like sqrt(K) * u. We take the rigorous bound while it is small and
  // 16 * sqrt(K) * u beyond that: about 10x above the largest errors seen from sequential fp32
  // summation, the least accurate order a correct kernel may use (tests/test_validation.cpp).
  const double k = static_cast<double>(std::max<int64_t>(K, 1));
  const double accumulate = std::min(k, 16.0 * std::sqrt(k)) * accumulate_unit_roundoff;
  return accumulate + 2.0 * output_unit_roundoff;
}

GemmCheck check_gemm(std::span<const float> A, std::span<const float> B, std::span<const float> C,
                     int64_t M, int64_t N, int64_t K, double tolerance, BLayout b_layout,
                     uint64_t seed, int random_samples) {
  GemmCheck result;
  result.tolerance = tolerance;
  SplitMix64 rng{seed};
  const bool nk = b_layout == BLayout::n_by_k;
  auto b_at = [&](int64_t k, int64_t j) -> double { return nk ? B[j * K + k] : B[k * N + j]; };

  // Norms of the rows of A and the columns of B: the scale of each element's rounding error.
  std::vector<double> a_norm(M, 0.0), b_norm(N, 0.0);
  parallel_for(M, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) {
      double s = 0;
      for (int64_t k = 0; k < K; ++k) s += double(A[i * K + k]) * A[i * K + k];
      a_norm[i] = std::sqrt(s);
    }
  });
  if (nk) {
    parallel_for(N, [&](int64_t begin, int64_t end) {
      for (int64_t j = begin; j < end; ++j) {
        double s = 0;
        for (int64_t k = 0; k < K; ++k) s += double(B[j * K + k]) * B[j * K + k];
        b_norm[j] = std::sqrt(s);
      }
    });
  } else {
    for (int64_t k = 0; k < K; ++k) {
      for (int64_t j = 0; j < N; ++j) b_norm[j] += double(B[k * N + j]) * B[k * N + j];
    }
    for (double& v : b_norm) v = std::sqrt(v);
  }
  auto scale = [](double s) { return s > 0 ? s : 1.0; };  // an all-zero row has zero error

  // ---- Freivalds: two random probe vectors with |r_j| in [0.5, 1.5) and random sign, so a single
  // wrong element always moves the residual and two cannot cancel unless their errors conspire.
  constexpr int kProbes = 2;
  std::vector<double> r(N), br(K), row_err(M);
  for (int probe = 0; probe < kProbes; ++probe) {
    double weighted_b = 0;  // sum_j ||b_j||^2 r_j^2
    for (int64_t j = 0; j < N; ++j) {
      double mag = 0.5 + rng.uniform01();
      r[j] = (rng.next() & 1) ? mag : -mag;
      weighted_b += b_norm[j] * b_norm[j] * r[j] * r[j];
    }
    const double b_scale = std::sqrt(weighted_b);
    // br = B * r (length K).
    if (nk) {
      parallel_for(K, [&](int64_t begin, int64_t end) {
        std::fill(br.begin() + begin, br.begin() + end, 0.0);
        for (int64_t j = 0; j < N; ++j) {
          for (int64_t k = begin; k < end; ++k) br[k] += double(B[j * K + k]) * r[j];
        }
      });
    } else {
      parallel_for(K, [&](int64_t begin, int64_t end) {
        for (int64_t k = begin; k < end; ++k) {
          double s = 0;
          for (int64_t j = 0; j < N; ++j) s += double(B[k * N + j]) * r[j];
          br[k] = s;
        }
      });
    }
    parallel_for(M, [&](int64_t begin, int64_t end) {
      for (int64_t i = begin; i < end; ++i) {
        double s_ab = 0, s_c = 0;
        for (int64_t k = 0; k < K; ++k) s_ab += double(A[i * K + k]) * br[k];
        for (int64_t j = 0; j < N; ++j) s_c += double(C[i * N + j]) * r[j];
        double err = std::abs(s_c - s_ab) / scale(a_norm[i] * b_scale);
        if (!std::isfinite(s_c)) err = INFINITY;  // NaN or Inf anywhere in the row
        row_err[i] = probe == 0 ? err : std::max(row_err[i], err);
      }
    });
  }
  for (double e : row_err) result.freivalds_err = std::max(result.freivalds_err, e);

  // ---- Sampled elements in float64.
  std::vector<std::pair<int64_t, int64_t>> points = {
      {0, 0}, {0, N - 1}, {M - 1, 0}, {M - 1, N - 1}, {M / 2, N - 1}, {M - 1, N / 2}};
  for (int s = 0; s < random_samples; ++s) {
    points.emplace_back(static_cast<int64_t>(rng.next() % static_cast<uint64_t>(M)),
                        static_cast<int64_t>(rng.next() % static_cast<uint64_t>(N)));
  }
  int64_t worst_i = 0, worst_j = 0;
  double worst_ref = 0;
  for (auto [i, j] : points) {
    double ref = 0;
    for (int64_t k = 0; k < K; ++k) ref += double(A[i * K + k]) * b_at(k, j);
    const double got = C[i * N + j];
    double err = std::abs(got - ref) / scale(a_norm[i] * b_norm[j]);
    if (!std::isfinite(got)) err = INFINITY;
    if (err > result.max_rel_err || (std::isinf(err) && !std::isinf(result.max_rel_err))) {
      result.max_rel_err = err;
      worst_i = i;
      worst_j = j;
      worst_ref = ref;
    }
  }
  result.samples = static_cast<int>(points.size());

  result.passed = result.max_rel_err <= tolerance && result.freivalds_err <= tolerance;
  if (!result.passed) {
    std::ostringstream msg;
    msg.precision(3);
    msg << "validation failed: ";
    if (result.freivalds_err > tolerance) {
      msg << "Freivalds residual " << result.freivalds_err << " > tolerance " << tolerance
          << " (some element of C is wrong)";
    }
    if (result.max_rel_err > tolerance) {
      if (result.freivalds_err > tolerance) msg << "; ";
      msg << "max_rel_err " << result.max_rel_err << " > tolerance " << tolerance << " at C["
          << worst_i << "][" << worst_j << "] = " << C[worst_i * N + worst_j] << ", expected "
          << worst_ref;
    }
    result.message = msg.str();
  }
  return result;
}

}  // namespace aicbench
