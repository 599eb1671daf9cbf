#pragma once
// The persistent GEMM kernels' static tile order (gemm_wgmma_sm90.cu), in a header of its own so
// the CPU tests can check that every tile is computed exactly once (tests/test_tile_scheduler.cpp).
//
// A persistent grid of G CTAs (or clusters) takes work items g, g + G, g + 2G, ... Item t maps to
// a tile through bands of `band_rows` tile-rows (the last band may be shorter): inside a band,
// consecutive items walk down the tile-rows first, then move one tile-column right. At any moment
// the ~G items in flight then share a few rows of A and columns of B in L2, instead of sweeping a
// whole row of C (all of B) as a row-major order would.
#include <cstdint>

#include "kernels/gemm/host_device.hpp"

namespace aicbench::kernels {

struct TileCoord {
  int m, n;  // tile-row, tile-column
};

// Item t in [0, rows * cols) -> its (row, column); a bijection onto the rows x cols grid.
AICBENCH_HOST_DEVICE inline TileCoord banded_tile(int t, int rows, int cols, int band_rows) {
  const int band_size = band_rows * cols;
  const int band = t / band_size;
  const int first_row = band * band_rows;
  const int rows_here = rows - first_row < band_rows ? rows - first_row : band_rows;
  const int r = t - band * band_size;
  return {first_row + r % rows_here, r / rows_here};
}

// Clusters of `cluster_rows` CTAs stacked along M: work item t is a cluster tile of cluster_rows
// tile-rows; CTA `rank` of the cluster takes tile-row cluster_rows * row + rank of it. Bands hold
// band_rows tile-rows (band_rows a multiple of cluster_rows). When tiles_m is not a multiple of
// cluster_rows, the last cluster tile's higher ranks get tile-rows >= tiles_m: the caller must
// treat those tiles as empty (store nothing).
// (64-bit, so that a launcher can check it fits a grid before it launches.)
AICBENCH_HOST_DEVICE inline int64_t cluster_items(int tiles_m, int tiles_n, int cluster_rows) {
  return static_cast<int64_t>((tiles_m + cluster_rows - 1) / cluster_rows) * tiles_n;
}
AICBENCH_HOST_DEVICE inline TileCoord cluster_tile(int t, int rank, int tiles_m, int tiles_n,
                                                   int cluster_rows, int band_rows) {
  const TileCoord c = banded_tile(t, (tiles_m + cluster_rows - 1) / cluster_rows, tiles_n,
                                  band_rows / cluster_rows);
  return {c.m * cluster_rows + rank, c.n};
}

}  // namespace aicbench::kernels
