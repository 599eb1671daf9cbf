#pragma once
// Tile configurations and index arithmetic of the Ampere-class attention kernels
// (attention_mma_sm80.cu: prefill; attention_decode_sm80.cu: split-KV decode): where each 16-byte
// chunk of a Q, K or V tile lands in the swizzled shared memory, which addresses ldmatrix is given
// and which mma.sync operand each result register becomes, where each accumulator element sits.
// tests/test_attention_sm80_layout.cpp checks these functions on the CPU against the PTX ISA's
// fragment layouts; tests/test_attention_sm80_emulated.cpp runs the whole kernels on an emulated
// warp.
//
// Shared-memory tiles hold rows of D 16-bit elements (2D bytes: 128, 256 or 512), one token (or
// one head, for decode's Q) per row, as in global memory. A row is D / 8 chunks of 16 bytes.
#include <cstdint>

#include "kernels/gemm/host_device.hpp"

namespace aicbench::kernels::attn_sm80 {

constexpr int kChunkBytes = 16;  // one cp.async, one ldmatrix row
constexpr int kElemsPerChunk = 8;

// ------------------------------------------------------------------------------------------------
// swizzle
// ------------------------------------------------------------------------------------------------
// Byte offset of chunk `chunk` of row `row` in a tile whose rows are `row_bytes` long (a multiple
// of 128). ldmatrix reads one logical chunk from 8 consecutive rows per phase; rows are whole
// 128-byte lines of the 32 banks apart, so without a swizzle all 8 hit the same 4 banks. XOR-ing
// the chunk's low three bits with row % 8 spreads them over the 8 16-byte bank groups of the
// line; cp.async writes of 8 consecutive threads (8 consecutive chunks of one row) stay a
// permutation of one 128-byte line, also conflict-free.
AICBENCH_HOST_DEVICE constexpr int swizzle(int row, int chunk) { return (chunk & ~7) | ((chunk ^ row) & 7); }
AICBENCH_HOST_DEVICE constexpr uint32_t tile_offset(int row, int chunk, int row_bytes) {
  return static_cast<uint32_t>(row * row_bytes + swizzle(row, chunk) * kChunkBytes);
}

// ------------------------------------------------------------------------------------------------
// ldmatrix addresses (lane 8q + j gives row j of matrix q of an .x4)
// ------------------------------------------------------------------------------------------------
// Q (the A operand of S = Q K^T), k-step s (d = 16s .. 16s + 15, chunks 2s and 2s + 1), the 16
// rows starting at row0: matrices (rows 0-7, chunk 2s), (rows 8-15, chunk 2s), (rows 0-7, chunk
// 2s + 1), (rows 8-15, chunk 2s + 1) are exactly a0, a1, a2, a3 of mma.m16n8k16.
AICBENCH_HOST_DEVICE constexpr int q_ldsm_row(int row0, int lane) { return row0 + lane % 16; }
AICBENCH_HOST_DEVICE constexpr int q_ldsm_chunk(int lane, int s) { return 2 * s + lane / 16; }

// K (the B operand of S = Q K^T: B[k][n] = K[key n][d k], K-major like GEMM's TN B), keys
// 16p .. 16p + 15 (n8 tiles 2p and 2p + 1), k-step s: matrices (keys 0-7, chunk 2s), (keys 0-7,
// chunk 2s + 1), (keys 8-15, chunk 2s), (keys 8-15, chunk 2s + 1) are b0 and b1 of n8 tile 2p,
// then b0 and b1 of n8 tile 2p + 1.
AICBENCH_HOST_DEVICE constexpr int k_ldsm_row(int pair, int lane) { return 16 * pair + (lane / 16) * 8 + lane % 8; }
AICBENCH_HOST_DEVICE constexpr int k_ldsm_chunk(int lane, int s) { return 2 * s + (lane / 8) % 2; }

// V (the B operand of O = P V: B[k][n] = V[key k][d n], stored key-major, so ldmatrix.trans),
// keys 16kk .. 16kk + 15 (k-step kk), d 16dp .. 16dp + 15 (n8 tiles 2dp and 2dp + 1): matrices
// (keys 0-7, chunk 2dp), (keys 8-15, chunk 2dp), (keys 0-7, chunk 2dp + 1), (keys 8-15, chunk
// 2dp + 1), transposed, are b0 and b1 of d tile 2dp, then b0 and b1 of d tile 2dp + 1.
AICBENCH_HOST_DEVICE constexpr int v_ldsm_row(int kk, int lane) { return 16 * kk + ((lane / 8) % 2) * 8 + lane % 8; }
AICBENCH_HOST_DEVICE constexpr int v_ldsm_chunk(int lane, int dp) { return 2 * dp + lane / 16; }

// ------------------------------------------------------------------------------------------------
// accumulators (mma.m16n8 D fragment: d0 (g, 2t), d1 (g, 2t + 1), d2 (g + 8, 2t), d3 (g + 8, 2t + 1))
// ------------------------------------------------------------------------------------------------
AICBENCH_HOST_DEVICE constexpr int acc_row(int lane, int r) { return lane / 4 + 8 * (r / 2); }
AICBENCH_HOST_DEVICE constexpr int acc_col(int lane, int r) { return 2 * (lane % 4) + r % 2; }
// P = exp(S) as the A operand of P V for k-step kk: registers a0..a3 are the pairs (d0, d1) and
// (d2, d3) of S's n8 tiles 2kk and 2kk + 1: (rows g, keys 2t..), (g + 8, 2t..), (g, 8 + 2t..),
// (g + 8, 8 + 2t..), which is the A fragment's layout. Register a of k-step kk comes from S tile
// p_tile(kk, a), accumulators p_acc(a) and p_acc(a) + 1.
AICBENCH_HOST_DEVICE constexpr int p_tile(int kk, int a) { return 2 * kk + a / 2; }
AICBENCH_HOST_DEVICE constexpr int p_acc(int a) { return 2 * (a % 2); }

// ------------------------------------------------------------------------------------------------
// cp.async roles: `threads` threads copy a tile of `rows` rows of `chunks` chunks, chunk
// index tid + i * threads, row-major, so 8 consecutive threads copy 128 contiguous bytes.
// ------------------------------------------------------------------------------------------------
AICBENCH_HOST_DEVICE constexpr int load_row(int tid, int i, int threads, int chunks) { return (tid + i * threads) / chunks; }
AICBENCH_HOST_DEVICE constexpr int load_chunk(int tid, int i, int threads, int chunks) { return (tid + i * threads) % chunks; }

// ------------------------------------------------------------------------------------------------
// the prefill kernel's configuration per head dimension
// ------------------------------------------------------------------------------------------------
// 8 warps, each 16 query rows (a 128-row block), so each K/V tile in shared memory serves 128
// queries. D <= 128: 64-key tiles and Q held in registers for the whole loop (D / 4 registers);
// D = 256: 16-key tiles and Q read from shared memory at every k-step, to leave the 128 fp32
// output accumulators room (ptxas, CUDA 13.0, sm_80: 161, 223 and 240 registers for D = 64, 128,
// 256, no spills; 32-key tiles at D = 256 spill, and two blocks per SM at D = 64 spill). One
// block of 8 warps per SM. Two stages of K and V (cp.async double buffering).
template <int D_>
struct PrefillConfig {
  static constexpr int D = D_;
  static constexpr int kWarps = 8;
  static constexpr int kThreads = 32 * kWarps;
  static constexpr int kBlockM = 16 * kWarps;  // query rows per block
  static constexpr int kBlockN = D <= 128 ? 64 : 16;  // keys per tile
  static constexpr bool kQInRegisters = D <= 128;
  static constexpr int kStages = 2;
  static constexpr int kMinBlocksPerSm = 1;
  static constexpr int kRowBytes = 2 * D;
  static constexpr int kChunks = D / kElemsPerChunk;  // chunks per row
  static constexpr int kQBytes = kBlockM * kRowBytes;
  static constexpr int kTileBytes = kBlockN * kRowBytes;  // one of K or V
  static constexpr int kStageBytes = 2 * kTileBytes;       // K, then V
  static constexpr int kSmemBytes = kQBytes + kStages * kStageBytes;
  static constexpr int kKSteps = D / 16;       // k-steps of Q K^T
  static constexpr int kNTiles = kBlockN / 8;  // n8 tiles of S per warp
  static constexpr int kDTiles = D / 8;        // n8 tiles of O per warp
  static constexpr int kQLoads = kBlockM * kChunks / kThreads;     // cp.async per thread for Q
  static constexpr int kTileLoads = kBlockN * kChunks / kThreads;  // and for each of K and V
  static_assert(D == 64 || D == 128 || D == 256, "head dimensions 64, 128 and 256");
  static_assert(kRowBytes % 128 == 0, "the swizzle permutes chunks within 128-byte lines");
  static_assert(kBlockM * kChunks % kThreads == 0 && kBlockN * kChunks % kThreads == 0,
                "every thread issues the same number of cp.asyncs");
  static_assert(kBlockN % 16 == 0, "P V consumes keys 16 at a time");
};

// ------------------------------------------------------------------------------------------------
// the split-KV decode kernel's configuration per head dimension
// ------------------------------------------------------------------------------------------------
// One block = one split of the keys of one (batch, key/value head, slice of 16 query heads): the
// query heads of a grouped-query group are the 16 rows of the mma's A operand (padded), so each
// K/V tile read from memory serves all of them. 4 warps, each its own 16-key tiles of the split
// (tile w, w + 4, ...) through its own cp.async pipeline (no block barrier in the loop), then the
// 4 partial softmaxes are combined in shared memory and the split's normalised output and log-sum-exp
// written to the workspace; a second kernel combines the splits. Memory-bound: the stages keep
// 3 (D <= 128) or 2 (D = 256) tiles of K and V in flight per warp.
template <int D_>
struct DecodeConfig {
  static constexpr int D = D_;
  static constexpr int kWarps = 4;
  static constexpr int kThreads = 32 * kWarps;
  static constexpr int kRows = 16;       // query heads per block (mma M)
  static constexpr int kTileKeys = 16;   // keys per warp tile
  static constexpr int kStages = D <= 128 ? 3 : 2;
  static constexpr bool kQInRegisters = D <= 128;
  static constexpr int kRowBytes = 2 * D;
  static constexpr int kChunks = D / kElemsPerChunk;
  static constexpr int kQBytes = kRows * kRowBytes;
  static constexpr int kTileBytes = kTileKeys * kRowBytes;     // one of K or V
  static constexpr int kStageBytes = 2 * kTileBytes;            // K, then V
  static constexpr int kWarpBytes = kStages * kStageBytes;      // a warp's pipeline
  static constexpr int kSmemBytes = kQBytes + kWarps * kWarpBytes;
  static constexpr int kKSteps = D / 16;
  static constexpr int kNTiles = kTileKeys / 8;  // 2
  static constexpr int kDTiles = D / 8;
  static constexpr int kQLoads = kRows * kChunks / kThreads;    // cp.async per thread for Q
  static constexpr int kTileLoads = kTileKeys * kChunks / 32;   // per lane for each of K and V
  // The combine area, per warp, in its own pipeline's bytes: m and l of 16 rows, then O (16 x D
  // fp32, rows padded by 4 floats).
  static constexpr int kPartialStride = D + 4;
  static constexpr int kPartialBytes = (2 * kRows + kRows * kPartialStride) * 4;
  static_assert(D == 64 || D == 128 || D == 256, "head dimensions 64, 128 and 256");
  static_assert(kRows * kChunks % kThreads == 0 && kTileKeys * kChunks % 32 == 0, "whole cp.asyncs per thread");
  static_assert(kPartialBytes <= kWarpBytes, "a warp's partial result fits its pipeline's shared memory");
};

}  // namespace aicbench::kernels::attn_sm80
