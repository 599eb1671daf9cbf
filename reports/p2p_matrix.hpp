#pragma once
// The node-level table of peer-to-peer results: per run and per kind of measurement, a GPU x GPU
// matrix, rows the source (the reading GPU for latency), columns the destination (the GPU whose
// memory is read), so that one slow pair, a missing NVLink, stands out in its row and column.
// Built from the rows of the p2p and p2p_latency families (harness/families/p2p.cpp) only.
#include <cstddef>
#include <string>
#include <vector>

#include "reports/report_model.hpp"

namespace aicbench::reports {

struct P2pMatrix {
  size_t file = 0;        // the run (result file) the rows came from
  std::string family;     // p2p or p2p_latency
  std::string title;      // "p2p · ce (copy engines, cudaMemcpyPeerAsync) · one direction · 64 MiB per direction"
  std::string unit;       // "GB/s" or "time per access"
  std::string axes;       // what rows and columns are: "rows: from GPU, columns: to GPU"
  size_t gpus = 0;        // GPUs 0 .. gpus-1, from the largest index a row names
  // cells[src][dst]: the number as text; the status (skipped, failed, error) where the row is not
  // ok; "–" on the diagonal of a bandwidth matrix (no such row); empty where no row was found.
  std::vector<std::vector<std::string>> cells;
  // Where the numbers fall, for a one-line summary: the lowest and highest ok value and the pair.
  std::string summary;    // "min 21.2 GB/s (0 → 3), max 392 GB/s (2 → 5)"
};

// Every matrix of the rows, in file order, then family (bandwidth first), implementation (the
// baseline first), directions, bytes, mode. Rows without src and dst parameters are ignored.
std::vector<P2pMatrix> p2p_matrices(const std::vector<ReportRow>& rows);

}  // namespace aicbench::reports
