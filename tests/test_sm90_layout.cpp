// The Hopper GEMMs' layout arithmetic (kernels/gemm/sm90_smem_layout.hpp), checked on the CPU
// against the definitions in the PTX ISA, so that a change to a tile size, a descriptor field or
// the epilogue's staging is caught here rather than as wrong numbers on a GPU:
//   - what wgmma reads through our descriptors is what TMA's 128-byte swizzle wrote;
//   - the epilogue's swizzled staging buffer hands every accumulator to the right column of C.
#include <gtest/gtest.h>

#include <cstdint>
#include <set>
#include <utility>
#include <vector>

#include "kernels/gemm/sm90_smem_layout.hpp"

namespace aicbench::kernels::sm90 {
namespace {

// Decoded fields of a wgmma matrix descriptor (PTX ISA, "Matrix Descriptor Format").
struct Descriptor {
  uint32_t start, lbo, sbo, base_offset, swizzle;
  explicit Descriptor(uint64_t d)
      : start(static_cast<uint32_t>(d & 0x3FFF) << 4),
        lbo(static_cast<uint32_t>((d >> 16) & 0x3FFF) << 4),
        sbo(static_cast<uint32_t>((d >> 32) & 0x3FFF) << 4),
        base_offset(static_cast<uint32_t>((d >> 49) & 0x7)),
        swizzle(static_cast<uint32_t>(d >> 62)) {}
};

// The shared-memory address wgmma reads for byte `kbyte` (< 32: one instruction's K) of row `row`
// of a K-major operand with 128-byte swizzling: the canonical layout (8-row core-matrix groups
// SBO apart, rows 128 bytes apart inside a group), then the swizzle applied to the address bits
// (bits [4:6] ^= bits [7:9]).
uint32_t wgmma_read_address(const Descriptor& d, int row, int kbyte) {
  const uint32_t linear = d.start + static_cast<uint32_t>(row / 8) * d.sbo +
                          static_cast<uint32_t>(row % 8) * 128u + static_cast<uint32_t>(kbyte);
  return linear ^ (((linear >> 7) & 7u) << 4);
}

TEST(Sm90Layout, Sw128OffsetIsTmaSwizzle128B) {
  // CU_TENSOR_MAP_SWIZZLE_128B: the 16-byte chunk c of row r lands at chunk c ^ (r % 8); each
  // row's 128 bytes stay in that row, and the tile is a permutation of itself.
  std::vector<int> hits(256 * 128, 0);
  for (uint32_t r = 0; r < 256; ++r) {
    for (uint32_t b = 0; b < 128; ++b) {
      const uint32_t off = sw128_offset(r, b);
      ASSERT_EQ(off / 128, r);
      ASSERT_EQ((off % 128) / 16, (b / 16) ^ (r % 8));
      ASSERT_EQ(off % 16, b % 16);
      ++hits[off];
    }
  }
  for (int h : hits) ASSERT_EQ(h, 1);
}

TEST(Sm90Layout, DescriptorFields) {
  const Descriptor d(make_sw128_kmajor_desc(0x12400));  // a 1024-aligned shared address
  EXPECT_EQ(d.start, 0x12400u);
  EXPECT_EQ(d.sbo, 1024u);
  EXPECT_EQ(d.lbo, 16u);
  EXPECT_EQ(d.base_offset, 0u);
  EXPECT_EQ(d.swizzle, 1u);  // 128B
  // The kernels step K by adding 2 (32 bytes) to the descriptor: only the start address moves.
  const Descriptor d3(make_sw128_kmajor_desc(0x12400) + 2 * 3);
  EXPECT_EQ(d3.start, 0x12400u + 96u);
  EXPECT_EQ(d3.sbo, 1024u);
  EXPECT_EQ(d3.swizzle, 1u);
}

TEST(Sm90Layout, WgmmaReadsWhatTmaWrote) {
  // A stage's operand tile at a 1024-aligned base, written by TMA (sw128). Each consumer
  // warpgroup's A descriptor starts 64 rows in; B's spans all 256 rows (kernel2 fills it from
  // two 128-row boxes, the second 16 KB in, which is the same layout). Per instruction k-step
  // ks (32 bytes of K) the descriptor is the tile's plus 2 * ks.
  for (uint32_t base : {0x0u, 0x400u, 0x8000u, 0x2C000u}) {
    for (int first_row : {0, 64}) {
      for (int ks = 0; ks < 4; ++ks) {
        const Descriptor d(make_sw128_kmajor_desc(base + first_row * 128u) + 2 * ks);
        const int rows = first_row ? 64 : 256;
        for (int r = 0; r < rows; ++r) {
          for (int kb = 0; kb < 32; ++kb) {
            const uint32_t written =
                base + sw128_offset(static_cast<uint32_t>(first_row + r), ks * 32u + kb);
            ASSERT_EQ(wgmma_read_address(d, r, kb), written)
                << "base " << base << " rows from " << first_row << " ks " << ks << " row " << r
                << " byte " << kb;
          }
        }
      }
    }
  }
}

TEST(Sm90Layout, AccumulatorFragmentCoversTheTileOnce) {
  std::vector<int> hits(64 * 256, 0);
  for (int t = 0; t < 128; ++t) {
    for (int i = 0; i < 128; ++i) {
      const TileCoordinate c = accumulator_coord(t, i);
      ASSERT_TRUE(c.row >= 0 && c.row < 64 && c.col >= 0 && c.col < 256);
      ASSERT_EQ(c.row / 16, t / 32) << "a warp's accumulators are its own 16 rows";
      ++hits[c.row * 256 + c.col];
    }
  }
  for (int h : hits) ASSERT_EQ(h, 1);
  // Spot checks from the PTX ISA's figure for m64nNk16 D: thread 0 holds (0,0), (0,1), (8,0),
  // (8,1), then (0,8)...; thread 5 (lane 5) holds row 1, columns 2 and 3.
  EXPECT_EQ(accumulator_coord(0, 2).row, 8);
  EXPECT_EQ(accumulator_coord(0, 4).col, 8);
  EXPECT_EQ(accumulator_coord(5, 0).row, 1);
  EXPECT_EQ(accumulator_coord(5, 1).col, 3);
}

TEST(Sm90Layout, EpilogueStagingDeliversEveryAccumulatorToItsColumn) {
  // One warp, one 64-column pass: emulate the kernel's writes (lane l, chunk jl, half h holds the
  // pair acc[4j + 2h], acc[4j + 2h + 1] with j = pass * 8 + jl) into a 2 KB buffer, tagging each
  // 2-byte slot with the (row, column) the fragment says it is; then emulate the reads and check
  // each 16-byte segment holds row seg.row, columns 8 seg.chunk .. + 7, in order.
  for (int warp = 0; warp < 4; ++warp) {
    for (int pass = 0; pass < 4; ++pass) {
      std::vector<int> tag(16 * 64, -1);  // 2-byte slots of the buffer: row * 64 + column
      for (int lane = 0; lane < 32; ++lane) {
        for (int jl = 0; jl < 8; ++jl) {
          for (int half = 0; half < 2; ++half) {
            const uint32_t off = staging_write_offset(lane, jl, half);
            ASSERT_LT(off + 4, 16u * 128u + 1u);
            ASSERT_EQ(off % 4, 0u);
            for (int e = 0; e < 2; ++e) {
              const int i = accumulator_index(pass * 8 + jl, half, e);
              const TileCoordinate c = accumulator_coord(warp * 32 + lane, i);
              const int slot = static_cast<int>(off / 2) + e;
              ASSERT_EQ(tag[slot], -1) << "two accumulators staged in one slot";
              tag[slot] = (c.row - 16 * warp) * 64 + (c.col - 64 * pass);
            }
          }
        }
      }
      std::set<std::pair<int, int>> read;  // (row, chunk) of every segment read back
      for (int lane = 0; lane < 32; ++lane) {
        for (int step = 0; step < 4; ++step) {
          const StagedSegment seg = staging_read_segment(lane, step);
          ASSERT_EQ(seg.offset % 16, 0u);
          ASSERT_LT(seg.offset, 16u * 128u);
          ASSERT_TRUE(read.insert({seg.row, seg.chunk}).second)
              << "segment (" << seg.row << ", " << seg.chunk << ") read twice";
          for (int e = 0; e < 8; ++e) {
            ASSERT_EQ(tag[seg.offset / 2 + e], seg.row * 64 + seg.chunk * 8 + e)
                << "warp " << warp << " pass " << pass << " lane " << lane << " step " << step;
          }
        }
      }
      EXPECT_EQ(read.size(), 16u * 8u);  // 16 rows x 8 chunks: every slot reaches C
    }
  }
}

}  // namespace
}  // namespace aicbench::kernels::sm90
