#pragma once
// Collectives, ours against the vendor, size by size: for each run, place (the ranks a job-wide
// row spanned), operation, dtype, in or out of place and mode, the vendor's best time at each
// size (NCCL in its best mode: plain or symmetric; MPI_Allreduce on the CPU) beside our best
// hand-written implementation's, the speed-up, and where the lead changes hands: the crossovers
// issue 10 asks for (ours against the vendor; one-shot against two-shot among ours). Only ok rows
// count: a failed or skipped row's time is never compared.
#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "reports/report_model.hpp"

namespace aicbench::reports {

struct CollectiveVersus {
  struct Size {
    double bytes = 0;
    std::optional<double> vendor_s, ours_s;  // the best ok time of each side at this size
    std::string vendor_impl, ours_impl;      // which implementation gave it
    std::optional<double> speedup() const {  // vendor time / our time: above 1, ours is faster
      if (!vendor_s || !ours_s || !(*ours_s > 0)) return std::nullopt;
      return *vendor_s / *ours_s;
    }
  };
  size_t file = 0;
  std::string title;        // "all_reduce · fp32 · out of place · 4 ranks on 1 node"
  std::vector<Size> sizes;  // ascending
  // "ours faster from 8 B to 512 KiB; the vendor faster from 1 MiB to 16 MiB" (runs of sizes
  // where both sides have a time), and our best implementation by size ("oneshot_shm from 8 B to
  // 256 KiB, twoshot_shm from 512 KiB to 16 MiB"). Empty when there is nothing to say.
  std::string lead, our_best;
};

// Every comparison the rows allow, in file order, then operation, dtype, in place, place, mode.
// Groups without any ok row of ours are left out.
std::vector<CollectiveVersus> collective_comparisons(const std::vector<ReportRow>& rows);

}  // namespace aicbench::reports
