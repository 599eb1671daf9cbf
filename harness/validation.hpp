#pragma once
// Validation of GEMM outputs (docs/architecture.md, rule 1), independent of any implementation under test.
//
// Two checks, both in float64 on the host:
//  * Freivalds' check over the whole output: for random vectors r, compare C*r with A*(B*r).
//    Costs O(MK + KN + MN) instead of O(MNK), and sees every element of C.
//  * A sample of elements (random, plus the corners and the last row and column, where tile
//    edge bugs live) recomputed as float64 dot products.
// Errors are scale-free: an element's error is divided by ||a_i||_2 * ||b_j||_2 (row i of A,
// column j of B), which bounds |c_ij| and the size of its rounding error; the Freivalds residual
// of row i is divided by the matching norm of the whole row. docs/validation.md has the details.
#include <cstdint>
#include <functional>
#include <span>
#include <string>

namespace aicbench {

struct GemmCheck {
  double max_rel_err = 0;    // sampled elements
  double freivalds_err = 0;  // whole output
  double tolerance = 0;
  int samples = 0;
  bool passed = false;
  std::string message;  // why it failed, with the numbers; empty when it passed
};

// Tolerance for an fp32-accumulated dot product of length K whose output is stored with unit
// roundoff `output_unit_roundoff` (2^-24 for fp32). See validation.cpp for the derivation.
double gemm_tolerance(int64_t K, double accumulate_unit_roundoff, double output_unit_roundoff);

// How B is stored: K x N row-major (the classic C = A * B), or N x K row-major (the TN layout of
// the tensor-core GEMMs, C = A * B^T with B^T the K x N operand).
enum class BLayout { k_by_n, n_by_k };

// A: M x K row-major, B as `b_layout` says, C: M x N row-major. Inputs of narrower types are
// widened to float (exactly) by the caller before checking. Uses every hardware thread.
GemmCheck check_gemm(std::span<const float> A, std::span<const float> B, std::span<const float> C,
                     int64_t M, int64_t N, int64_t K, double tolerance,
                     BLayout b_layout = BLayout::k_by_n, uint64_t seed = 12345,
                     int random_samples = 256);

// Deterministic, fast fill of `out` with uniform values in [-1, 1): benchmark inputs are never
// zeros (zeros run faster and draw less power than real data). Element i depends only on the
// seed and i, so the fill is split over threads and gives the same values on any machine.
void fill_uniform(std::span<float> out, uint64_t seed);

// Runs body(begin, end) over [0, n) split into contiguous chunks, one per hardware thread.
void parallel_for(int64_t n, const std::function<void(int64_t, int64_t)>& body);

}  // namespace aicbench
