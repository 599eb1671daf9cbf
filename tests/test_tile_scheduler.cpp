// The persistent kernels' tile order (kernels/gemm/tile_scheduler.hpp): every tile of C computed
// exactly once, for any grid size, with and without clusters, on awkward tile counts. A tile that
// is missed leaves C unwritten (caught on a GPU by validation, but only for the shapes tested
// there); a tile done twice wastes time silently. Both are checked here for thousands of shapes.
#include <gtest/gtest.h>

#include <vector>

#include "kernels/gemm/tile_scheduler.hpp"

namespace aicbench::kernels {
namespace {

// Walks the schedule as the kernels do: CTA (cluster) g of `grid` takes items g, g + grid, ...
// and counts how often each tile of the tiles_m x tiles_n grid is visited.
std::vector<int> visits(int tiles_m, int tiles_n, int grid, int cluster_rows, int band_rows) {
  std::vector<int> count(static_cast<size_t>(tiles_m) * tiles_n, 0);
  const int64_t items = cluster_items(tiles_m, tiles_n, cluster_rows);
  for (int g = 0; g < grid; ++g) {
    for (int t = g; t < items; t += grid) {
      for (int rank = 0; rank < cluster_rows; ++rank) {
        const TileCoord c = cluster_tile(t, rank, tiles_m, tiles_n, cluster_rows, band_rows);
        EXPECT_GE(c.n, 0);
        EXPECT_LT(c.n, tiles_n);
        EXPECT_GE(c.m, 0);
        if (c.m >= tiles_m) {  // only the last cluster tile's higher ranks may overhang M
          EXPECT_LT(c.m, tiles_m + cluster_rows - 1);
          continue;
        }
        ++count[static_cast<size_t>(c.m) * tiles_n + c.n];
      }
    }
  }
  return count;
}

TEST(TileScheduler, BandedOrderIsABijection) {
  for (int rows = 1; rows <= 40; ++rows) {
    for (int cols = 1; cols <= 40; ++cols) {
      for (int band : {1, 3, 8, 16}) {
        std::vector<int> seen(static_cast<size_t>(rows) * cols, 0);
        for (int t = 0; t < rows * cols; ++t) {
          const TileCoord c = banded_tile(t, rows, cols, band);
          ASSERT_TRUE(c.m >= 0 && c.m < rows && c.n >= 0 && c.n < cols)
              << "t=" << t << " rows=" << rows << " cols=" << cols << " band=" << band;
          ++seen[static_cast<size_t>(c.m) * cols + c.n];
        }
        for (int v : seen) ASSERT_EQ(v, 1) << rows << "x" << cols << " band " << band;
      }
    }
  }
}

TEST(TileScheduler, BandedOrderWalksDownABandFirst) {
  // 40 tile-rows in bands of 16: items 0..15 are column 0 of rows 0..15, item 16 is row 0 of
  // column 1; the third band has 8 rows.
  EXPECT_EQ(banded_tile(0, 40, 10, 16).m, 0);
  EXPECT_EQ(banded_tile(15, 40, 10, 16).m, 15);
  EXPECT_EQ(banded_tile(16, 40, 10, 16).m, 0);
  EXPECT_EQ(banded_tile(16, 40, 10, 16).n, 1);
  EXPECT_EQ(banded_tile(320, 40, 10, 16).m, 32);
  EXPECT_EQ(banded_tile(328, 40, 10, 16).m, 32);
  EXPECT_EQ(banded_tile(328, 40, 10, 16).n, 1);
}

TEST(TileScheduler, EveryTileOnceWithoutClusters) {
  for (int tiles_m : {1, 2, 7, 16, 17, 33, 64}) {
    for (int tiles_n : {1, 3, 32, 33}) {
      for (int grid : {1, 5, 66, 132, 1000}) {
        for (int v : visits(tiles_m, tiles_n, grid, 1, 16)) {
          ASSERT_EQ(v, 1) << tiles_m << "x" << tiles_n << " grid " << grid;
        }
      }
    }
  }
}

TEST(TileScheduler, EveryTileOnceWithTwoCtaClusters) {
  // Odd tiles_m leave the last cluster-row's rank-1 tile outside the matrix.
  for (int tiles_m : {1, 2, 3, 15, 16, 17, 31, 64, 65}) {
    for (int tiles_n : {1, 2, 32, 33}) {
      for (int grid : {1, 3, 66, 500}) {
        for (int v : visits(tiles_m, tiles_n, grid, 2, 16)) {
          ASSERT_EQ(v, 1) << tiles_m << "x" << tiles_n << " grid " << grid;
        }
      }
    }
  }
}

TEST(TileScheduler, ClusterRanksShareTheTileColumn) {
  // Kernel2's multicast of B is only right if both ranks of a cluster work on the same columns.
  for (int t = 0; t < cluster_items(33, 20, 2); ++t) {
    const TileCoord a = cluster_tile(t, 0, 33, 20, 2, 16);
    const TileCoord b = cluster_tile(t, 1, 33, 20, 2, 16);
    ASSERT_EQ(a.n, b.n) << "item " << t;
    ASSERT_EQ(b.m, a.m + 1) << "item " << t;
    ASSERT_EQ(a.m % 2, 0) << "item " << t;
  }
}

}  // namespace
}  // namespace aicbench::kernels
