#pragma once
// Tile configurations, index arithmetic and the per-thread softmax of the Hopper fused-attention
// kernel (attention_wgmma_sm90.cu), as plain code the kernel runs and the CPU tests check:
// tests/test_attention_sm90_layout.cpp holds these functions to the PTX ISA's definitions (the
// wgmma accumulator and A-operand register fragments, the matrix descriptor's canonical layouts,
// TMA's 128-byte swizzle) and runs a whole block's online softmax and P V on an emulated
// warpgroup against the CPU reference.
//
// Shared-memory tiles: a tile of `rows` tokens x D 16-bit values is stored as D / 64 "panels",
// each `rows` x 128 bytes (64 values of D per row) in TMA's 128-byte swizzle (sm90_offset, i.e.
// row r's 16-byte chunk c at chunk c ^ (r % 8)), panel p holding columns 64p .. 64p + 63. 128
// bytes is the widest swizzle TMA writes and the one that makes wgmma's shared-memory reads
// conflict-free; a D of 128 or 256 is two or four TMA boxes per tile.
//   Q (128 rows) and K (kBlockN rows) are K-major operands (D is the reduction dimension of
//   S = Q K^T): k-step ks (16 values of D) starts at panel ks / 4, byte 32 (ks % 4).
//   V (kBlockN rows) is the B operand of O = P V with the keys as the reduction dimension and D
//   contiguous: MN-major ("transposed") for wgmma, 8 keys x 64 values per 1024-byte swizzle atom,
//   the next 64 values of D a panel (LBO) further, the next 8 keys 1024 bytes (SBO) further;
//   k-step ks (16 keys) starts 2048 bytes into each panel.
#include <cmath>
#include <cstdint>

#include "kernels/attention/sm80_attention_warp.hpp"  // AttentionParams, masked()
#include "kernels/gemm/host_device.hpp"
#include "kernels/gemm/sm90_smem_layout.hpp"  // sw128_offset, accumulator_coord, descriptors

namespace aicbench::kernels::attn_sm90 {

using attn_sm80::AttentionParams;

// ------------------------------------------------------------------------------------------------
// configuration per head dimension
// ------------------------------------------------------------------------------------------------
// Register budget of a consumer thread (m64nN fp32 accumulators are N / 2 registers): S = Q K^T
// kBlockN / 2, P (16-bit pairs) kBlockN / 4, O D / 2: D 64: 64 + 32 + 32 = 128; D 128:
// 64 + 32 + 64 = 160; D 256 (64 keys per tile): 32 + 16 + 128 = 176; below the 240 the consumers
// get, with room for addresses, row statistics and the loop. Shared memory: Q 128 D 2 bytes,
// each stage kBlockN D 2 bytes of K and as much of V: D 64: 16 + 3 x 32 = 112 KB; D 128:
// 32 + 2 x 64 = 160 KB; D 256: 64 + 2 x 64 = 192 KB (of 227 KB).
template <int D_>
struct Config {
  static constexpr int D = D_;
  static constexpr int kBlockM = 128;                  // query rows per block: 2 consumer warpgroups
  static constexpr int kWgRows = 64;                   // rows per consumer warpgroup (one m64)
  static constexpr int kBlockN = D <= 128 ? 128 : 64;  // keys per tile
  static constexpr int kStages = D == 64 ? 3 : 2;      // K/V ring depth
  static constexpr int kPanels = D / 64;               // 128-byte panels per row
  static constexpr int kSRegs = kBlockN / 2;           // S accumulators per thread
  static constexpr int kPRegs = kBlockN / 4;           // P as 16-bit pairs
  static constexpr int kORegs = D / 2;                 // O accumulators per thread
  static constexpr int kQKSteps = D / 16;              // k16 steps of S = Q K^T
  static constexpr int kPVSteps = kBlockN / 16;        // k16 steps of O += P V
  static constexpr int kQPanelBytes = kBlockM * 128;
  static constexpr int kKVPanelBytes = kBlockN * 128;
  static constexpr int kQBytes = kQPanelBytes * kPanels;
  static constexpr int kKVTileBytes = kKVPanelBytes * kPanels;  // one K (or V) tile
  static_assert(D == 64 || D == 128 || D == 256, "head dimensions 64, 128 and 256");
  static_assert(kBlockN % 16 == 0 && kBlockN <= 256 && kBlockN % 8 == 0, "wgmma N and TMA box");
};

// ------------------------------------------------------------------------------------------------
// shared-memory tiles
// ------------------------------------------------------------------------------------------------
// Byte offset of element (row, col) (col a value of D) in a tile of `rows` rows: panel col / 64,
// then the 128-byte swizzle inside the panel. TMA writes the box of panel p there.
AICBENCH_HOST_DEVICE constexpr uint32_t tile_offset(int row, int col, int rows) {
  return static_cast<uint32_t>((col / 64) * rows * 128) +
         sm90::sw128_offset(static_cast<uint32_t>(row), static_cast<uint32_t>((col % 64) * 2));
}

// K-major operand (Q, K) of S = Q K^T, k-step ks: byte offset of its first row's 32 bytes from the
// tile (or, for Q, the warpgroup's 64 rows) base. +32 bytes inside a panel moves the descriptor's
// start by 2 (16-byte units); the hardware swizzles the final address as TMA did, the tile being
// 1024-byte aligned.
AICBENCH_HOST_DEVICE constexpr uint32_t kmajor_step_offset(int ks, int panel_bytes) {
  return static_cast<uint32_t>((ks / 4) * panel_bytes + (ks % 4) * 32);
}

// MN-major operand (V) of O += P V, k-step ks (keys 16 ks .. 16 ks + 15): two 8-key core-matrix
// groups of 1024 bytes each.
AICBENCH_HOST_DEVICE constexpr uint32_t mnmajor_step_offset(int ks) { return static_cast<uint32_t>(ks * 2048); }

// Descriptor of an MN-major 128-byte-swizzled operand (PTX ISA, "Matrix Descriptor Format", and
// the canonical MN-major layout ((64 values, m), (8 rows, k)) : ((1, LBO), (128 B, SBO))): SBO =
// 1024 from one 8-row group (of the reduction dimension) to the next, LBO = `lbo` bytes from one
// 64-value column block to the next (our panel size).
AICBENCH_HOST_DEVICE constexpr uint64_t make_sw128_mnmajor_desc(uint32_t smem_addr, uint32_t lbo) {
  return (uint64_t((smem_addr & 0x3FFFF) >> 4)) | (uint64_t((lbo >> 4) & 0x3FFF) << 16) | sm90::kDescSbo1024 |
         sm90::kDescSwizzle128B;
}

// ------------------------------------------------------------------------------------------------
// register fragments
// ------------------------------------------------------------------------------------------------
// S and O accumulators: thread t of the warpgroup holds element sm90::accumulator_coord(t, i) of
// the 64 x N tile in register i (PTX ISA's wgmma D fragment; checked in test_sm90_layout.cpp).
//
// P as the A operand of O += P V, k-step ks (keys 16 ks .. 16 ks + 15): register r (0..3) of the
// four holds two 16-bit values, the low one first. The thread's own S accumulators 8 ks + 2 r and
// 8 ks + 2 r + 1 are exactly the two elements the PTX ISA's A fragment puts in register r (rows
// g, g + 8, g, g + 8 and columns 2 (t % 4) + {0, 1} + {0, 0, 8, 8} for r = 0..3), so P never
// leaves the thread: this index is the whole "layout conversion".
AICBENCH_HOST_DEVICE constexpr int p_source_index(int ks, int reg, int half) { return 8 * ks + 2 * reg + half; }

// Row reductions: the accumulators of one row are spread over the 4 lanes 4 (l / 4) .. + 3 of one
// warp (accumulator_coord's column 2 (t % 4) + ...), so a shuffle-xor over lane masks 1 and 2
// reduces a row: row_shfl_mask(0) and row_shfl_mask(1).
constexpr int kRowShflSteps = 2;
AICBENCH_HOST_DEVICE constexpr int row_shfl_mask(int step) { return 1 << step; }

// Row of the warpgroup's 64 held by this thread in half h (0: rows g, 1: g + 8) of its registers:
// accumulator_coord(t, i).row for (i / 2) % 2 == h.
AICBENCH_HOST_DEVICE constexpr int thread_row(int thread, int h) { return 16 * (thread / 32) + (thread % 32) / 4 + 8 * h; }

// ------------------------------------------------------------------------------------------------
// epilogue: O staged through the warpgroup's Q rows (same panel layout), read back 16 bytes a lane
// ------------------------------------------------------------------------------------------------
// Write: thread t's accumulators 4 j + 2 h and + 1 (row thread_row(t, h), columns 8 j + 2 (t % 4)
// and + 1) as one 32-bit word at this offset of the 128-row Q tile, for warpgroup wg.
AICBENCH_HOST_DEVICE constexpr uint32_t o_stage_offset(int wg, int thread, int j, int h) {
  return tile_offset(64 * wg + thread_row(thread, h), 8 * j + 2 * (thread % 4), 128);
}
// Read: a warp copies its own 16 rows; in step i lane l takes 16-byte chunk c of row r, idx =
// l + 32 i, r = idx / (D / 8), c = idx % (D / 8) (so 8 consecutive lanes read one 128-byte row
// segment: conflict-free, and the global stores are whole 128-byte lines).
struct StagedChunk {
  int row, col;  // row of the warpgroup's 64, first value of D
};
AICBENCH_HOST_DEVICE constexpr StagedChunk o_read_chunk(int warp, int lane, int step, int d) {
  return {16 * warp + (lane + 32 * step) / (d / 8), 8 * ((lane + 32 * step) % (d / 8))};
}

// ------------------------------------------------------------------------------------------------
// key tiles of a block
// ------------------------------------------------------------------------------------------------
// Tiles [0, n_tiles) hold keys some row of the block sees; tiles [n_full, n_tiles) need the mask
// (they cross the end of the keys or the causal diagonal of the block's first row). The kernel
// walks them from the last down, the masked ones first.
struct KeyTiles {
  int n_tiles, n_full;
};
AICBENCH_HOST_DEVICE inline KeyTiles key_tiles(const AttentionParams& p, int m_block, int block_m, int block_n) {
  const int m0 = m_block * block_m;
  const int last_row = (m0 + block_m < p.seqlen_q ? m0 + block_m : p.seqlen_q) - 1;
  int key_end = p.seqlen_k;
  if (p.causal) {
    key_end = last_row + p.seqlen_k - p.seqlen_q + 1;
    key_end = key_end < 0 ? 0 : (key_end > p.seqlen_k ? p.seqlen_k : key_end);
  }
  const int n_tiles = (key_end + block_n - 1) / block_n;
  int n_full = p.seqlen_k / block_n;
  if (p.causal) {
    const int diagonal = (m0 + p.seqlen_k - p.seqlen_q + 1) / block_n;  // (t + 1) N - 1 <= m0 + Sk - Sq
    n_full = diagonal < n_full ? diagonal : n_full;
  }
  n_full = n_full < 0 ? 0 : (n_full > n_tiles ? n_tiles : n_full);
  return {n_tiles, n_full};
}

// ------------------------------------------------------------------------------------------------
// the K/V ring
// ------------------------------------------------------------------------------------------------
// The i-th tile walked (tile n_tiles - 1 - i) goes through stage i % stages. Its K (and V) full
// barrier completes phase i / stages, which a consumer waits for with parity (i / stages) & 1; the
// producer refills the stage once the consumers' release of round i / stages - 1 has completed
// the empty barrier's phase, waiting with parity ((i / stages) & 1) ^ 1, which a fresh barrier
// passes at once (round 0). tests/test_attention_sm90_layout.cpp simulates the whole hand-off.
AICBENCH_HOST_DEVICE constexpr int ring_stage(int i, int stages) { return i % stages; }
AICBENCH_HOST_DEVICE constexpr uint32_t full_parity(int i, int stages) { return static_cast<uint32_t>((i / stages) & 1); }
AICBENCH_HOST_DEVICE constexpr uint32_t empty_parity(int i, int stages) { return full_parity(i, stages) ^ 1u; }

// Causal blocks are launched longest first: grid index x -> (m_block, head, batch), the last query
// blocks (which see the most keys) first across all heads and batches.
struct BlockCoord {
  int m_block, head, batch;
};
AICBENCH_HOST_DEVICE constexpr BlockCoord block_coord(int x, int m_blocks, int heads, int batch, bool causal) {
  const int per_m = heads * batch;
  const int m = x / per_m, rest = x % per_m;
  return {causal ? m_blocks - 1 - m : m, rest % heads, rest / heads};
}

// ------------------------------------------------------------------------------------------------
// per-thread softmax (the kernel's code, run by the CPU emulation too)
// ------------------------------------------------------------------------------------------------
// Ops: shfl_xor(x, mask) over the warp, ex2(x) = 2^x, pack(lo, hi) -> 32-bit pair of 16-bit values.
struct RowStats {
  float m[2];  // running maximum of the raw scores of the thread's rows g, g + 8 (-inf: none yet)
  float l[2];  // this thread's part of the running sums of 2^(s c - m c)
};

// Sets masked scores to -inf: row thread_row(t, h) of the warpgroup is query `query0 + row`, S
// column c is key `key0 + c`.
template <int NS>
AICBENCH_HOST_DEVICE inline void mask_scores(float (&s)[NS], int query0, int key0, const AttentionParams& p,
                                             int thread) {
#pragma unroll
  for (int i = 0; i < NS; ++i) {
    const sm90::TileCoordinate c = sm90::accumulator_coord(thread, i);
    if (attn_sm80::masked(query0 + c.row, key0 + c.col, p)) s[i] = -INFINITY;
  }
}

// One tile's online-softmax step: the rows' new maxima (over the 4 lanes of a row), s replaced by
// the unnormalised probabilities 2^(s c - m_new c), the running sums rescaled and extended, and
// the factors alpha[h] = 2^((m_old - m_new) c) by which O must be rescaled (the caller does that
// once the P V product in flight, which adds the previous tile with the old maximum, is done). A
// row that has seen no key keeps m = -inf and gets p = 0 (exponent base 0, so no inf - inf).
template <int NS, class Ops>
AICBENCH_HOST_DEVICE inline void softmax_step(Ops& ops, float (&s)[NS], RowStats& st, float scale_log2,
                                              float (&alpha)[2]) {
#pragma unroll
  for (int h = 0; h < 2; ++h) {
    float tile_max = -INFINITY;
#pragma unroll
    for (int j = 0; j < NS / 4; ++j) tile_max = fmaxf(tile_max, fmaxf(s[4 * j + 2 * h], s[4 * j + 2 * h + 1]));
#pragma unroll
    for (int k = 0; k < kRowShflSteps; ++k) tile_max = fmaxf(tile_max, ops.shfl_xor(tile_max, row_shfl_mask(k)));
    const float m_new = fmaxf(st.m[h], tile_max);
    const bool none = m_new == -INFINITY;
    const float m_scaled = none ? 0.0f : m_new * scale_log2;
    alpha[h] = none ? 1.0f : ops.ex2(st.m[h] * scale_log2 - m_scaled);
    st.m[h] = m_new;
    float sum = 0.0f;
#pragma unroll
    for (int j = 0; j < NS / 4; ++j)
#pragma unroll
      for (int e = 0; e < 2; ++e) {
        const float p = ops.ex2(s[4 * j + 2 * h + e] * scale_log2 - m_scaled);
        s[4 * j + 2 * h + e] = p;
        sum += p;
      }
    st.l[h] = st.l[h] * alpha[h] + sum;
  }
}

// O's accumulators of rows g (h = 0) and g + 8 (h = 1) times alpha[h].
template <int NO>
AICBENCH_HOST_DEVICE inline void rescale_rows(float (&o)[NO], const float (&alpha)[2]) {
#pragma unroll
  for (int i = 0; i < NO; ++i) o[i] *= alpha[(i / 2) % 2];
}

// P (probabilities in s) as the A fragments of O += P V: k-step ks's four registers are
// p[4 ks .. 4 ks + 3] (p_source_index).
template <int NS, class Ops>
AICBENCH_HOST_DEVICE inline void pack_p(Ops& ops, const float (&s)[NS], uint32_t (&p)[NS / 2]) {
#pragma unroll
  for (int ks = 0; ks < NS / 8; ++ks)
#pragma unroll
    for (int r = 0; r < 4; ++r) p[4 * ks + r] = ops.pack(s[p_source_index(ks, r, 0)], s[p_source_index(ks, r, 1)]);
}

// The whole rows' sums (over their 4 lanes) and their inverses; 0 for a row that saw no key, whose
// output is then zeros.
template <class Ops>
AICBENCH_HOST_DEVICE inline void row_inverse_sums(Ops& ops, const RowStats& st, float (&inv)[2]) {
#pragma unroll
  for (int h = 0; h < 2; ++h) {
    float l = st.l[h];
#pragma unroll
    for (int k = 0; k < kRowShflSteps; ++k) l += ops.shfl_xor(l, row_shfl_mask(k));
    inv[h] = l > 0.0f ? 1.0f / l : 0.0f;
  }
}

}  // namespace aicbench::kernels::attn_sm90
