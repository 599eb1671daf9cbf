#pragma once
// The collective operations aicbench measures, and nccl-tests' conventions for their sizes and
// bandwidths, shared by every implementation (MPI, NCCL, hand-written) and by `model collective`.
//
// Size (the `bytes` parameter) is nccl-tests' "size": the bytes of one rank's buffer for
// all_reduce and broadcast, and of the whole gathered/scattered buffer for all_gather,
// reduce_scatter and all_to_all. algbw = size / time; busbw = algbw * busbw_factor(op, ranks),
// the factor that makes busbw comparable with the hardware's link bandwidth whatever the rank
// count (nccl-tests' doc/PERFORMANCE.md).
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace aicbench {

enum class CollectiveOp { all_reduce, all_gather, reduce_scatter, all_to_all, broadcast };

inline constexpr CollectiveOp kCollectiveOps[] = {CollectiveOp::all_reduce, CollectiveOp::all_gather,
                                                  CollectiveOp::reduce_scatter, CollectiveOp::all_to_all,
                                                  CollectiveOp::broadcast};

// The family name: "all_reduce", ...
inline std::string_view to_string(CollectiveOp op) {
  switch (op) {
    case CollectiveOp::all_reduce: return "all_reduce";
    case CollectiveOp::all_gather: return "all_gather";
    case CollectiveOp::reduce_scatter: return "reduce_scatter";
    case CollectiveOp::all_to_all: return "all_to_all";
    case CollectiveOp::broadcast: return "broadcast";
  }
  return "unknown";
}

inline std::optional<CollectiveOp> parse_collective_op(std::string_view name) {
  for (CollectiveOp op : kCollectiveOps) {
    if (to_string(op) == name) return op;
  }
  return std::nullopt;
}

// all_reduce 2(n-1)/n; reduce_scatter, all_gather and all_to_all (n-1)/n; broadcast 1.
inline double busbw_factor(CollectiveOp op, int ranks) {
  const double n = ranks;
  switch (op) {
    case CollectiveOp::all_reduce: return 2.0 * (n - 1) / n;
    case CollectiveOp::all_gather:
    case CollectiveOp::reduce_scatter:
    case CollectiveOp::all_to_all: return (n - 1) / n;
    case CollectiveOp::broadcast: return 1.0;
  }
  return 1.0;
}

}  // namespace aicbench
