#pragma once
// Validation of attention outputs (docs/validation.md, "Attention"), independent of every
// implementation under test. In float64 on the host:
//  * sampled rows (one query of one head: D outputs) recomputed with the softmax in float64: the
//    corners of the problem (first and last batch, query, head), the query rows at the edges of
//    a 64- and 128-row tile, and random rows;
//  * the whole output against a second implementation (the unfused cuBLAS path on the GPU),
//    element by element.
// Errors are scale-free: output element d of a row is a convex combination of V's column d,
// o_d = sum_j p_j v_jd, and every rounding error an implementation makes (P rounded to 16 bits
// before P*V, the output rounded, the fp32 sums, the scores' own error) is bounded by a multiple
// of sum_j p_j |v_jd|; the sampled error is |o_d - ref_d| divided by that sum.
#include <cstdint>
#include <optional>
#include <span>
#include <string>

#include "kernels/attention/attention_shape.hpp"

namespace aicbench {

// The precision an implementation computes in, as the error budget sees it.
struct AttentionPrecision {
  const char* dtype;
  double u_probabilities;  // unit roundoff of P where it is rounded before P*V (0: not rounded)
  double u_output;         // unit roundoff of O's type
};
// bf16 and fp16 (inputs rounded on the host, P and O rounded on the device) and fp32 (the cpu
// backend: nothing rounded below fp32). Throws std::invalid_argument for anything else.
const AttentionPrecision& attention_precision(const std::string& dtype);

// The tolerance of the sampled check for `shape` in precision `p`, given the largest score
// magnitude the inputs allow, scale * max ||q|| * max ||k|| (score_bound()). Derivation in
// attention_check.cpp and docs/validation.md.
double attention_tolerance(const AttentionPrecision& p, const kernels::AttentionShape& shape,
                           double score_bound);
double score_bound(std::span<const float> Q, std::span<const float> K,
                   const kernels::AttentionShape& shape);

struct AttentionCheck {
  double max_rel_err = 0;  // sampled rows against float64
  double tolerance = 0;
  int rows = 0;            // rows sampled
  // The whole output against another implementation: the largest |o - o_other| / max|V|, and
  // what it may reach (two implementations each within `tolerance`: twice it).
  std::optional<double> max_diff_vs_reference;
  double reference_tolerance = 0;
  std::string reference_name;  // the other implementation, e.g. "unfused"
  bool passed = false;
  std::string message;  // why it failed, with the numbers; empty when it passed
};

// Q, K, V: the inputs as the device saw them (rounded to the precision), widened to float; O the
// output widened to float. All in the BSHD layout of attention_shape.hpp.
AttentionCheck check_attention(std::span<const float> Q, std::span<const float> K,
                               std::span<const float> V, std::span<const float> O,
                               const kernels::AttentionShape& shape, double tolerance,
                               uint64_t seed = 2024, int random_rows = 64);

// Adds the whole-output comparison with `reference` (another implementation's output on the
// same inputs) to `check`, and fails it where they differ by more than twice its tolerance,
// relative to max |V|.
void compare_with_reference(AttentionCheck& check, std::span<const float> O,
                            std::span<const float> reference, std::span<const float> V,
                            const kernels::AttentionShape& shape, const std::string& reference_name);

// One row's float64 reference: out[d] = o_d and bound[d] = sum_j p_j |v_jd| (the scale of its
// error). Both D long. A row that sees no key gives zeros and bounds of zero.
void reference_row(std::span<const float> Q, std::span<const float> K, std::span<const float> V,
                   const kernels::AttentionShape& shape, int64_t b, int64_t i, int64_t h,
                   double* out, double* bound);

}  // namespace aicbench
