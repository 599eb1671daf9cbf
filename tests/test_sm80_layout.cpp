// The Ampere-class tensor-core GEMM's index arithmetic (kernels/gemm/sm80_layout.hpp), checked on
// the CPU: the cp.async roles copy every chunk of a stage once; the swizzle keeps cp.async writes
// and ldmatrix reads free of shared-memory bank conflicts; emulating ldmatrix.x4 on the addresses
// the kernel computes gives every lane exactly the mma.sync operand fragments the PTX ISA defines
// (m16n8k16 for bf16/fp16, m16n8k8 for tf32: the same bytes); the accumulators cover the C tile.
#include <gtest/gtest.h>

#include <cstdint>
#include <array>
#include <set>
#include <vector>

#include "kernels/gemm/sm80_layout.hpp"

namespace aicbench::kernels::sm80 {
namespace {

// A 16-byte access by 8 threads (one phase of a warp's 16-byte accesses, 128 bytes) is free of
// bank conflicts when the 8 addresses fall in 8 different 16-byte groups of the 32 banks.
bool conflict_free(const std::vector<int>& byte_offsets) {
  std::set<int> groups;
  for (int off : byte_offsets) groups.insert((off / 16) % 8);
  return groups.size() == byte_offsets.size();
}

TEST(Sm80Layout, CpAsyncRolesCopyEveryChunkOnce) {
  std::vector<int> hits(kBM * kChunks, 0);
  for (int tid = 0; tid < kThreads; ++tid) {
    for (int i = 0; i < kLoadsA; ++i) {
      const int row = load_row(tid, i), chunk = load_chunk(tid);
      ASSERT_TRUE(row >= 0 && row < kBM && chunk >= 0 && chunk < kChunks);
      ++hits[row * kChunks + chunk];
    }
  }
  for (int h : hits) ASSERT_EQ(h, 1);
}

TEST(Sm80Layout, SwizzleIsAPermutationOfEachRow) {
  std::vector<int> hits(kBM * kRowBytes / kChunkBytes, 0);
  for (int row = 0; row < kBM; ++row) {
    for (int chunk = 0; chunk < kChunks; ++chunk) {
      const int off = swizzled_offset(row, chunk);
      ASSERT_EQ(off % kChunkBytes, 0);
      ASSERT_EQ(off / kRowBytes, row) << "a chunk stays in its row";
      ++hits[off / kChunkBytes];
    }
  }
  for (int h : hits) ASSERT_EQ(h, 1);
}

TEST(Sm80Layout, CpAsyncWritesAreConflictFree) {
  for (int i = 0; i < kLoadsA; ++i) {
    for (int phase = 0; phase < kThreads / 8; ++phase) {
      std::vector<int> offsets;
      for (int tid = 8 * phase; tid < 8 * phase + 8; ++tid) {
        offsets.push_back(swizzled_offset(load_row(tid, i), load_chunk(tid)));
      }
      EXPECT_TRUE(conflict_free(offsets)) << "load " << i << " threads " << 8 * phase << "..";
    }
  }
}

TEST(Sm80Layout, LdmatrixReadsAreConflictFree) {
  // ldmatrix.x4 reads its four matrices in four phases; lanes 8q..8q+7 address matrix q.
  for (int warp = 0; warp < kThreads / 32; ++warp) {
    for (int slab = 0; slab < kWM / 16; ++slab) {
      for (int s = 0; s < kKSteps; ++s) {
        for (int q = 0; q < 4; ++q) {
          std::vector<int> a, b;
          for (int lane = 8 * q; lane < 8 * q + 8; ++lane) {
            a.push_back(ldsm_a_offset(warp_row0(warp) + 16 * slab, lane, s));
            b.push_back(ldsm_b_offset(warp_col0(warp) + 16 * slab, lane, s));
          }
          EXPECT_TRUE(conflict_free(a)) << "A warp " << warp << " slab " << slab << " q " << q;
          EXPECT_TRUE(conflict_free(b)) << "B warp " << warp << " slab " << slab << " q " << q;
        }
      }
    }
  }
}

// A stage tile (kBM rows of kRowBytes) in which every byte holds a tag naming its logical place:
// (row, byte of K within the stage), stored where the kernel's cp.async puts it.
struct TaggedTile {
  std::vector<uint32_t> tag = std::vector<uint32_t>(kBM * kRowBytes);
  TaggedTile() {
    for (int row = 0; row < kBM; ++row)
      for (int kb = 0; kb < kRowBytes; ++kb)
        tag[swizzled_offset(row, kb / kChunkBytes) + kb % kChunkBytes] = encode(row, kb);
  }
  static uint32_t encode(int row, int kbyte) { return static_cast<uint32_t>(row * 256 + kbyte); }
};

// ldmatrix.x4 (PTX ISA, "Warp-level matrix load instruction: ldmatrix"): lane 8q + j supplies
// the address of row j of matrix q; result register q of lane l is the 32-bit word l % 4 of row
// l / 4 of matrix q. Returns, per lane and register, the tags of the word's 4 bytes.
using Fragment = std::vector<std::array<std::array<uint32_t, 4>, 4>>;  // [lane][reg][byte]
Fragment ldmatrix_x4(const TaggedTile& t, const std::vector<int>& lane_address) {
  Fragment out(32);
  for (int l = 0; l < 32; ++l)
    for (int q = 0; q < 4; ++q)
      for (int byte = 0; byte < 4; ++byte)
        out[l][q][byte] = t.tag[lane_address[8 * q + l / 4] + 4 * (l % 4) + byte];
  return out;
}

TEST(Sm80Layout, LdmatrixGivesMmaOperandFragments) {
  // mma.sync m16n8k16 (bf16/fp16), g = lane / 4, t = lane % 4, in bytes of K within the k-step:
  //   A: a0 (row g, bytes 4t..4t+3), a1 (g + 8, 4t..), a2 (g, 16 + 4t..), a3 (g + 8, 16 + 4t..)
  //   B: b0 (n g, bytes 4t..4t+3), b1 (n g, 16 + 4t..)
  // m16n8k8 tf32 asks for a0 (g, t), a1 (g + 8, t), a2 (g, t + 4), a3 (g + 8, t + 4), b0 (k t),
  // b1 (k t + 4) of 4-byte elements: the same bytes, so one check serves all three types.
  const TaggedTile tile;
  for (int warp = 0; warp < kThreads / 32; ++warp) {
    for (int slab = 0; slab < kWM / 16; ++slab) {
      for (int s = 0; s < kKSteps; ++s) {
        std::vector<int> a_addr(32), b_addr(32);
        for (int lane = 0; lane < 32; ++lane) {
          a_addr[lane] = ldsm_a_offset(warp_row0(warp) + 16 * slab, lane, s);
          b_addr[lane] = ldsm_b_offset(warp_col0(warp) + 16 * slab, lane, s);
        }
        const Fragment a = ldmatrix_x4(tile, a_addr), b = ldmatrix_x4(tile, b_addr);
        for (int lane = 0; lane < 32; ++lane) {
          const int g = lane / 4, t = lane % 4;
          for (int q = 0; q < 4; ++q) {
            const int a_row = warp_row0(warp) + 16 * slab + g + 8 * (q % 2);
            const int a_kb = s * kStepBytes + 16 * (q / 2) + 4 * t;
            // B: register q is operand b(ldsm_b_reg(q)) of n8 tile ldsm_b_tile(q) of the slab.
            const int b_row = warp_col0(warp) + 16 * slab + 8 * ldsm_b_tile(q) + g;
            const int b_kb = s * kStepBytes + 16 * ldsm_b_reg(q) + 4 * t;
            for (int byte = 0; byte < 4; ++byte) {
              ASSERT_EQ(a[lane][q][byte], TaggedTile::encode(a_row, a_kb + byte))
                  << "A warp " << warp << " slab " << slab << " k-step " << s << " lane " << lane
                  << " a" << q;
              ASSERT_EQ(b[lane][q][byte], TaggedTile::encode(b_row, b_kb + byte))
                  << "B warp " << warp << " slab " << slab << " k-step " << s << " lane " << lane
                  << " register " << q;
            }
          }
        }
      }
    }
  }
}

TEST(Sm80Layout, BOperandsLandInRegisterPairs) {
  // HMMA reads B as a pair of consecutive registers (b0, b1). ldmatrix.x4 writes four consecutive
  // registers, so the kernel needs no moves only if registers 2j and 2j + 1 are b0 and b1 of the
  // slab's n8 tile j (issue 9: the order b0 b0 b1 b1 cost 122-139 moves per K-slab).
  for (int q = 0; q < 4; ++q) {
    EXPECT_EQ(ldsm_b_tile(q), q / 2) << "register " << q;
    EXPECT_EQ(ldsm_b_reg(q), q % 2) << "register " << q;
  }
}

TEST(Sm80Layout, AccumulatorsCoverTheBlockTileOnce) {
  // D of m16n8: d0 (g, 2t), d1 (g, 2t + 1), d2 (g + 8, 2t), d3 (g + 8, 2t + 1).
  EXPECT_EQ(acc_row(5, 0), 1);
  EXPECT_EQ(acc_col(5, 1), 3);
  EXPECT_EQ(acc_row(5, 2), 9);
  std::vector<int> hits(kBM * kBN, 0);
  for (int warp = 0; warp < kThreads / 32; ++warp)
    for (int lane = 0; lane < 32; ++lane)
      for (int i = 0; i < kMTiles; ++i)
        for (int j = 0; j < kNTiles; ++j)
          for (int r = 0; r < 4; ++r) {
            const int row = warp_row0(warp) + 16 * i + acc_row(lane, r);
            const int col = warp_col0(warp) + 8 * j + acc_col(lane, r);
            ASSERT_TRUE(row >= 0 && row < kBM && col >= 0 && col < kBN);
            ++hits[row * kBN + col];
          }
  for (int h : hits) ASSERT_EQ(h, 1);
}

}  // namespace
}  // namespace aicbench::kernels::sm80
