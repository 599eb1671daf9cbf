#pragma once
// The data every GPU collective is validated on (nccl-tests' idea: inputs built so that the exact
// result is known and representable, then a count of wrong elements over the whole output).
//
// Rank r's input element i is a small integer in [-3, 3]. Sums of them are exact in fp32 and in
// bf16 (8 significant bits: every integer up to 256) whatever order a library adds them in, as
// long as at most 64 ranks add into one element: beyond 64 ranks only every `period`-th rank
// contributes a nonzero value to a given element (period = ceil(ranks / 64)), so that a partial
// sum never exceeds 3 * 64 = 192 in magnitude. `salt` changes every value, so that repeated calls
// checked one after another do not pass on the previous call's result.
//
// Host and device code: the fill and check kernels (collective_data.cu) and the tests use the same
// functions.
#include <cstdint>

#include "collectives/collective_ops.hpp"

#if defined(__CUDACC__)
#define AICBENCH_HOST_DEVICE __host__ __device__
#else
#define AICBENCH_HOST_DEVICE
#endif

namespace aicbench::collectives {

// The element types of the GPU collectives (the `dtype` of a benchmark: fp32, bf16).
enum class ElemType { fp32, bf16 };
inline constexpr int elem_bytes(ElemType t) { return t == ElemType::fp32 ? 4 : 2; }

AICBENCH_HOST_DEVICE inline int contributor_period(int ranks) { return ranks <= 64 ? 1 : (ranks + 63) / 64; }

// Rank `rank`'s value at index `i` of its send buffer.
AICBENCH_HOST_DEVICE inline int input_value(int rank, int64_t i, int period, int salt) {
  if (period > 1 && (i - rank) % period != 0) return 0;
  return static_cast<int>((i * 5 + int64_t(rank) * 3 + salt) % 7) - 3;
}

// Elements in each rank's send and receive buffers for `op` over `ranks` ranks, where `count` is
// the per-rank count nccl-tests calls it: all_reduce and broadcast count elements in and out;
// all_gather count in, ranks * count out; reduce_scatter ranks * count in, count out; all_to_all
// ranks * count in and out (count to and from each peer).
AICBENCH_HOST_DEVICE inline int64_t send_elements(CollectiveOp op, int ranks, int64_t count) {
  return (op == CollectiveOp::reduce_scatter || op == CollectiveOp::all_to_all) ? ranks * count : count;
}
AICBENCH_HOST_DEVICE inline int64_t recv_elements(CollectiveOp op, int ranks, int64_t count) {
  return (op == CollectiveOp::all_gather || op == CollectiveOp::all_to_all) ? ranks * count : count;
}

// What rank `rank` must hold at index `j` of its receive buffer after `op` (sum; broadcast from
// rank 0).
AICBENCH_HOST_DEVICE inline int expected_value(CollectiveOp op, int rank, int ranks, int64_t count,
                                               int64_t j, int salt) {
  const int period = contributor_period(ranks);
  // The sum over every rank of their element `i`: only ranks congruent to i mod period add.
  auto sum_over_ranks = [&](int64_t i) {
    int sum = 0;
    for (int s = static_cast<int>(((i % period) + period) % period); s < ranks; s += period) {
      sum += input_value(s, i, period, salt);
    }
    return sum;
  };
  switch (op) {
    case CollectiveOp::all_reduce: return sum_over_ranks(j);
    case CollectiveOp::broadcast: return input_value(0, j, period, salt);
    case CollectiveOp::all_gather: return input_value(static_cast<int>(j / count), j % count, period, salt);
    case CollectiveOp::reduce_scatter: return sum_over_ranks(int64_t(rank) * count + j);
    case CollectiveOp::all_to_all:
      // Block s of the output came from rank s, which sent its block `rank` to us.
      return input_value(static_cast<int>(j / count), int64_t(rank) * count + j % count, period, salt);
  }
  return 0;
}

}  // namespace aicbench::collectives
