#pragma once
// Tile configuration and index arithmetic of the Ampere-class tensor-core GEMM
// (gemm_mma_sm80.cu): which thread copies which 16-byte chunk, where it lands in the swizzled
// shared-memory tile, which addresses ldmatrix is given and which mma operand each result
// register becomes, where each accumulator sits in C. The kernel uses these functions and
// tests/test_sm80_layout.cpp checks them on the CPU against the PTX ISA's fragment layouts.
#include "kernels/gemm/host_device.hpp"

namespace aicbench::kernels::sm80 {

// ------------------------------------------------------------------------------------------------
// tile configuration
// ------------------------------------------------------------------------------------------------
constexpr int kBM = 128;                         // rows of C per block
constexpr int kBN = 128;                         // columns of C per block
constexpr int kRowBytes = 64;                    // K-depth of one stage, in bytes per row
constexpr int kChunkBytes = 16;                  // one cp.async, one ldmatrix row
constexpr int kChunks = kRowBytes / kChunkBytes;  // 4 chunks per tile row
constexpr int kStepBytes = 32;                   // K-depth of one mma k-step, in bytes
constexpr int kKSteps = kRowBytes / kStepBytes;  // 2 k-steps per stage
constexpr int kStages = 4;
constexpr int kWarpsM = 2, kWarpsN = 2;
constexpr int kThreads = 32 * kWarpsM * kWarpsN;  // 128
constexpr int kWM = kBM / kWarpsM;                // 64 rows of C per warp
constexpr int kWN = kBN / kWarpsN;                // 64 columns of C per warp
constexpr int kMTiles = kWM / 16;                 // 4 mma tiles of 16 rows per warp
constexpr int kNTiles = kWN / 8;                  // 8 mma tiles of 8 columns per warp
constexpr int kTileABytes = kBM * kRowBytes;      // 8 KiB
constexpr int kTileBBytes = kBN * kRowBytes;      // 8 KiB
constexpr int kStageBytes = kTileABytes + kTileBBytes;
constexpr int kSmemBytes = kStages * kStageBytes;  // 64 KiB: dynamic, opted in at launch
constexpr int kGroupM = 8;                         // block rows per raster group
constexpr int kLoadsA = kBM * kChunks / kThreads;  // 4 cp.async per thread per stage for A
constexpr int kLoadsB = kBN * kChunks / kThreads;  // and 4 for B
constexpr int kLoadRowStep = kThreads / kChunks;   // 32 rows between a thread's cp.asyncs

static_assert(kChunks == 4, "the swizzle below is written for 64-byte rows");
static_assert(kKSteps * kStepBytes == kRowBytes, "a stage is a whole number of k-steps");
static_assert(kBM * kChunks % kThreads == 0 && kBN * kChunks % kThreads == 0,
              "every thread issues the same number of cp.asyncs");
static_assert(kWM % 16 == 0 && kWN % 16 == 0, "ldmatrix.x4 covers 16 rows of A or of B");
static_assert(kStages >= 2, "the pipeline needs a stage to compute and one to fill");

// ------------------------------------------------------------------------------------------------
// index math (host + device: tests/test_sm80_layout.cpp checks exactly these functions)
// ------------------------------------------------------------------------------------------------

// Byte offset of 16-byte chunk `chunk` (0..3) of tile row `row` within one operand's stage tile.
// Rows are 64 bytes, so two rows share one 128-byte line of the 32 banks. ldmatrix reads one
// chunk from 8 consecutive rows per phase (r = 8q..8q+7): without a swizzle rows r and r+2 hit
// the same banks. XOR-ing the chunk with (row / 2) % 4 puts the 8 rows' chunks on 8 distinct
// 16-byte bank groups: group = (row % 2) * 4 + (chunk ^ (row / 2 % 4)). cp.async writes of 8
// consecutive threads cover two whole rows (128 contiguous bytes), also conflict-free.
AICBENCH_HOST_DEVICE constexpr int swizzled_offset(int row, int chunk) {
  return row * kRowBytes + ((chunk ^ ((row >> 1) & 3)) * kChunkBytes);
}

// cp.async roles: thread `tid` copies chunk load_chunk(tid) of tile rows load_row(tid, i),
// i = 0..kLoads-1 (same for A and B).
AICBENCH_HOST_DEVICE constexpr int load_chunk(int tid) { return tid % kChunks; }
AICBENCH_HOST_DEVICE constexpr int load_row(int tid, int i) {
  return tid / kChunks + i * kLoadRowStep;
}

// Warp tile origin within the block tile: warps in a 2x2 grid.
AICBENCH_HOST_DEVICE constexpr int warp_row0(int warp) { return (warp / kWarpsN) * kWM; }
AICBENCH_HOST_DEVICE constexpr int warp_col0(int warp) { return (warp % kWarpsN) * kWN; }

// ldmatrix.x4 addresses. Lanes 8q..8q+7 give the 8 row addresses of matrix q, and result
// register q of every lane comes from matrix q. Each operand's four matrices are ordered so that
// the registers land where mma.sync reads them: A's four consecutive registers are a0..a3, and
// each n8 tile of B gets its b0, b1 in two consecutive registers (the register pair HMMA takes),
// so no register moves are needed between ldmatrix and mma (s = k-step within the stage).
//
// A (16 rows of M, one m16 tile):
//   matrix 0: rows 0-7,  chunk 2s  (a0)      matrix 1: rows 8-15, chunk 2s      (a1)
//   matrix 2: rows 0-7,  chunk 2s + 1 (a2)   matrix 3: rows 8-15, chunk 2s + 1  (a3)
// so lane l addresses slab row l % 16 and chunk 2s + l / 16.
AICBENCH_HOST_DEVICE constexpr int ldsm_a_row(int lane) { return lane % 16; }
AICBENCH_HOST_DEVICE constexpr int ldsm_a_chunk(int lane, int kstep) {
  return kstep * (kStepBytes / kChunkBytes) + lane / 16;
}
// B (16 rows of N = two n8 tiles):
//   matrix 0: rows 0-7,  chunk 2s (tile 0's b0)   matrix 1: rows 0-7,  chunk 2s + 1 (tile 0's b1)
//   matrix 2: rows 8-15, chunk 2s (tile 1's b0)   matrix 3: rows 8-15, chunk 2s + 1 (tile 1's b1)
// so lane l addresses slab row l % 8 + 8 (l / 16) and chunk 2s + (l / 8) % 2. (The A order would
// give b0 of tile 0, b0 of tile 1, b1 of tile 0, b1 of tile 1: every HMMA's register pair then
// had to be assembled with moves, 122-139 per K-slab, issue 9.)
AICBENCH_HOST_DEVICE constexpr int ldsm_b_row(int lane) { return lane % 8 + 8 * (lane / 16); }
AICBENCH_HOST_DEVICE constexpr int ldsm_b_chunk(int lane, int kstep) {
  return kstep * (kStepBytes / kChunkBytes) + (lane / 8) % 2;
}
// The byte offset, within an operand's stage tile, that lane `lane` gives ldmatrix.x4 for the
// 16-row slab starting at tile row `slab_row0`, in k-step `kstep`.
AICBENCH_HOST_DEVICE constexpr int ldsm_a_offset(int slab_row0, int lane, int kstep) {
  return swizzled_offset(slab_row0 + ldsm_a_row(lane), ldsm_a_chunk(lane, kstep));
}
AICBENCH_HOST_DEVICE constexpr int ldsm_b_offset(int slab_row0, int lane, int kstep) {
  return swizzled_offset(slab_row0 + ldsm_b_row(lane), ldsm_b_chunk(lane, kstep));
}
// For B, result register q of ldmatrix.x4 is operand b(q % 2) of n8 tile q / 2 of the slab.
AICBENCH_HOST_DEVICE constexpr int ldsm_b_tile(int q) { return q / 2; }
AICBENCH_HOST_DEVICE constexpr int ldsm_b_reg(int q) { return q % 2; }

// Accumulator d[r] (r = 0..3) of an m16n8 tile sits at row groupID (+8 for r >= 2) and column
// 2 * threadID_in_group + r % 2, groupID = lane / 4, threadID_in_group = lane % 4.
AICBENCH_HOST_DEVICE constexpr int acc_row(int lane, int r) { return lane / 4 + (r >= 2 ? 8 : 0); }
AICBENCH_HOST_DEVICE constexpr int acc_col(int lane, int r) { return 2 * (lane % 4) + (r % 2); }

}  // namespace aicbench::kernels::sm80
