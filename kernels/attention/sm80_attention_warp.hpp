#pragma once
// The Ampere-class attention kernels' algorithm, written once for the GPU and for a CPU emulation
// of it: every function is a template over `Ops`, the handful of warp-level operations it is
// made of. attention_mma_sm80.cu supplies them as PTX (cp.async, ldmatrix, mma.sync, shfl,
// ex2.approx); tests/attention_sm80_emulator.hpp supplies them on the host, one thread per lane,
// so the whole kernel (indexing, masking, online softmax, pipeline order, epilogue) runs and is
// validated without a GPU. Everything is inlined on the device: the indirection costs nothing.
//
// Ops (shared memory is addressed by byte offsets from the start of the block's dynamic smem):
//   cp_async_16(off, src, valid)     16 bytes global -> shared (zeros when !valid)
//   cp_async_commit(), cp_async_wait<N>()
//   sync_block(), sync_warp()
//   ldmatrix_x4(r, off), ldmatrix_x4_trans(r, off)   this lane's address; the warp's fragments
//   mma(d, a, b0, b1)                mma.sync.m16n8k16, fp32 accumulators, the kernel's 16-bit type
//   shfl_xor(x, mask), ex2(x)        __shfl_xor_sync over the warp; 2^x (ex2.approx.ftz)
//   pack(lo, hi)                     two floats rounded to the 16-bit type, lo in the low half
//   st_shared_u32(off, v), ld_shared_128(off), st_global_128(ptr, v)
//   st_shared_f32(off, x), ld_shared_f32(off), log2(x)   (decode's combine of its warps)
#include <cmath>
#include <cstdint>
#include <type_traits>

#include <vector_types.h>

#include "kernels/attention/attention_shape.hpp"
#include "kernels/attention/sm80_attention_layout.hpp"

namespace aicbench::kernels::attn_sm80 {

// All of a launch's arguments (passed as one __grid_constant__ struct). Pointers are to 16-bit
// elements (bf16 or fp16) in the BSHD layout of attention_shape.hpp.
struct AttentionParams {
  const void* q;
  const void* k;
  const void* v;
  void* o;
  int batch, heads, kv_heads, group;  // group = heads / kv_heads
  int seqlen_q, seqlen_k;
  int causal;        // 0 or 1; aligned to the bottom right (attention_shape.hpp)
  float scale_log2;  // log2(e) / sqrt(D): scores are exponentiated as 2^(s * scale_log2 - m)
  int m_blocks;      // query blocks per (batch, head)
  // Decode only (attention_decode_sm80.cu): the split-KV workspace and its geometry.
  float* partial_o;    // (batch, heads, splits, D) fp32, each split's normalised output
  float* partial_lse;  // (batch, heads, splits) log2 of each split's softmax sum, plus its max
  int splits, split_keys, head_blocks;
};

// The parameters of a launch for `shape` (attention_shape.hpp; the caller checks its limits).
inline AttentionParams make_params(const AttentionShape& s, const void* q, const void* k, const void* v, void* o) {
  AttentionParams p{};
  p.q = q;
  p.k = k;
  p.v = v;
  p.o = o;
  p.batch = static_cast<int>(s.B);
  p.heads = static_cast<int>(s.H);
  p.kv_heads = static_cast<int>(s.KVH);
  p.group = static_cast<int>(s.group());
  p.seqlen_q = static_cast<int>(s.Sq);
  p.seqlen_k = static_cast<int>(s.Sk);
  p.causal = s.causal ? 1 : 0;
  p.scale_log2 = static_cast<float>(1.4426950408889634 * s.scale());  // log2(e) / sqrt(D)
  return p;
}

// Whether the score of `key` for query `query` is masked out: past the keys, or in the future of
// a causal query (bottom-right alignment: query i sees keys <= i + Sk - Sq).
AICBENCH_HOST_DEVICE inline bool masked(int query, int key, const AttentionParams& p) {
  return key >= p.seqlen_k || (p.causal && key > query + p.seqlen_k - p.seqlen_q);
}

// One warp's running softmax over 16 rows: this lane's rows g = lane / 4 and g + 8.
template <int DTiles>
struct SoftmaxState {
  float m[2];             // running maximum of the raw scores (-inf before any key)
  float l[2];             // this lane's part of the running sum of 2^(s * c - m * c)
  float o[DTiles][4];     // output accumulators, O's n8 tiles (acc_row / acc_col)

  AICBENCH_HOST_DEVICE void init() {
    for (int r = 0; r < 2; ++r) {
      m[r] = -INFINITY;
      l[r] = 0.0f;
    }
    for (int t = 0; t < DTiles; ++t)
      for (int r = 0; r < 4; ++r) o[t][r] = 0.0f;
  }
};

// ================================================================================================
// S = Q K^T for one warp: 16 query rows (Q tile rows q_row0 ..), 8 * NTiles keys (K tile rows 0 ..).
// Q comes from registers (qf, loaded once) or, when !QInRegisters, from shared memory per k-step.
// ================================================================================================
template <int KSteps, int NTiles, bool QInRegisters, class Ops, int QF>
AICBENCH_HOST_DEVICE inline void qk_tile(Ops& ops, float (&s)[NTiles][4], const uint32_t (&qf)[QF][4],
                                         uint32_t q_tile, int q_row0, uint32_t k_tile, int row_bytes, int lane) {
#pragma unroll
  for (int n = 0; n < NTiles; ++n)
#pragma unroll
    for (int r = 0; r < 4; ++r) s[n][r] = 0.0f;
#pragma unroll
  for (int ks = 0; ks < KSteps; ++ks) {
    uint32_t a[4];
    if constexpr (QInRegisters) {
#pragma unroll
      for (int r = 0; r < 4; ++r) a[r] = qf[ks][r];
    } else {
      ops.ldmatrix_x4(a, q_tile + tile_offset(q_ldsm_row(q_row0, lane), q_ldsm_chunk(lane, ks), row_bytes));
    }
#pragma unroll
    for (int pair = 0; pair < NTiles / 2; ++pair) {
      uint32_t b[4];
      ops.ldmatrix_x4(b, k_tile + tile_offset(k_ldsm_row(pair, lane), k_ldsm_chunk(lane, ks), row_bytes));
      ops.mma(s[2 * pair], a, b[0], b[1]);
      ops.mma(s[2 * pair + 1], a, b[2], b[3]);
    }
  }
}

// Sets masked scores to -inf. Row r of the warp's tile is query `query0 + r`; S column c is key
// `key0 + c`.
template <int NTiles>
AICBENCH_HOST_DEVICE inline void mask_tile(float (&s)[NTiles][4], int query0, int key0, const AttentionParams& p,
                                           int lane) {
#pragma unroll
  for (int n = 0; n < NTiles; ++n)
#pragma unroll
    for (int r = 0; r < 4; ++r) {
      if (masked(query0 + acc_row(lane, r), key0 + 8 * n + acc_col(lane, r), p)) s[n][r] = -INFINITY;
    }
}

// The online softmax step for one tile of scores: the new running maximum (over the 4 lanes that
// share a row), the accumulators and sum rescaled by 2^((m_old - m_new) c), and s replaced by
// the unnormalised probabilities 2^(s c - m_new c). A row that has seen no key yet keeps m = -inf
// and gets p = 0 (the maximum used for the exponent is then 0, not -inf, so no inf - inf).
template <int NTiles, int DTiles, class Ops>
AICBENCH_HOST_DEVICE inline void softmax_update(Ops& ops, float (&s)[NTiles][4], SoftmaxState<DTiles>& st,
                                                float scale_log2) {
#pragma unroll
  for (int h = 0; h < 2; ++h) {  // h = 0: row g (d0, d1); h = 1: row g + 8 (d2, d3)
    float tile_max = -INFINITY;
#pragma unroll
    for (int n = 0; n < NTiles; ++n) tile_max = fmaxf(tile_max, fmaxf(s[n][2 * h], s[n][2 * h + 1]));
    tile_max = fmaxf(tile_max, ops.shfl_xor(tile_max, 1));
    tile_max = fmaxf(tile_max, ops.shfl_xor(tile_max, 2));
    const float m_new = fmaxf(st.m[h], tile_max);
    const bool none = m_new == -INFINITY;
    const float m_scaled = none ? 0.0f : m_new * scale_log2;
    // st.m = -inf and m_new finite: 2^-inf = 0, and the accumulators are 0 anyway.
    const float alpha = none ? 1.0f : ops.ex2(st.m[h] * scale_log2 - m_scaled);
    st.m[h] = m_new;
    float sum = 0.0f;
#pragma unroll
    for (int n = 0; n < NTiles; ++n)
#pragma unroll
      for (int c = 0; c < 2; ++c) {
        const float p = ops.ex2(s[n][2 * h + c] * scale_log2 - m_scaled);
        s[n][2 * h + c] = p;
        sum += p;
      }
    st.l[h] = st.l[h] * alpha + sum;
#pragma unroll
    for (int t = 0; t < DTiles; ++t) {
      st.o[t][2 * h] *= alpha;
      st.o[t][2 * h + 1] *= alpha;
    }
  }
}

// O += P V: P (16 x 8 * NTiles, in s, rounded to the 16-bit type), V tile rows 0 .. 8 * NTiles - 1.
template <int NTiles, int DTiles, class Ops>
AICBENCH_HOST_DEVICE inline void pv_tile(Ops& ops, const float (&p)[NTiles][4], SoftmaxState<DTiles>& st,
                                         uint32_t v_tile, int row_bytes, int lane) {
#pragma unroll
  for (int kk = 0; kk < NTiles / 2; ++kk) {
    uint32_t a[4];
#pragma unroll
    for (int r = 0; r < 4; ++r) a[r] = ops.pack(p[p_tile(kk, r)][p_acc(r)], p[p_tile(kk, r)][p_acc(r) + 1]);
#pragma unroll
    for (int dp = 0; dp < DTiles / 2; ++dp) {
      uint32_t b[4];
      ops.ldmatrix_x4_trans(b, v_tile + tile_offset(v_ldsm_row(kk, lane), v_ldsm_chunk(lane, dp), row_bytes));
      ops.mma(st.o[2 * dp], a, b[0], b[1]);
      ops.mma(st.o[2 * dp + 1], a, b[2], b[3]);
    }
  }
}

// The whole row sums (over the 4 lanes of each row) and their inverses; 0 for a row that saw no
// key, whose output is then zeros.
template <int DTiles, class Ops>
AICBENCH_HOST_DEVICE inline void row_sums(Ops& ops, SoftmaxState<DTiles>& st, float (&inv)[2]) {
#pragma unroll
  for (int h = 0; h < 2; ++h) {
    float l = st.l[h];
    l += ops.shfl_xor(l, 1);
    l += ops.shfl_xor(l, 2);
    st.l[h] = l;
    inv[h] = l > 0.0f ? 1.0f / l : 0.0f;
  }
}

// Writes the warp's 16 rows of O (normalised by inv, rounded to the 16-bit type) to global memory
// through shared memory: staged into rows row0 .. row0 + 15 of `tile` (swizzled, so both the
// 4-byte writes and the 16-byte reads are free of bank conflicts), then copied out 16 bytes per
// lane, a row's chunks by consecutive lanes. Row r goes to out + r * out_stride; rows r >= rows
// (past the sequence) are not written.
template <int DTiles, class Ops>
AICBENCH_HOST_DEVICE inline void store_rows(Ops& ops, const SoftmaxState<DTiles>& st, const float (&inv)[2],
                                            uint32_t tile, int row0, int row_bytes, int lane, uint16_t* out,
                                            int64_t out_stride, int rows) {
#pragma unroll
  for (int t = 0; t < DTiles; ++t)
#pragma unroll
    for (int h = 0; h < 2; ++h) {
      const int row = row0 + acc_row(lane, 2 * h);
      ops.st_shared_u32(tile + tile_offset(row, t, row_bytes) + 4 * (lane % 4),
                        ops.pack(st.o[t][2 * h] * inv[h], st.o[t][2 * h + 1] * inv[h]));
    }
  ops.sync_warp();
  constexpr int kChunks = DTiles;  // one n8 tile of O is one 16-byte chunk of a row
#pragma unroll
  for (int i = 0; i < 16 * kChunks / 32; ++i) {
    const int idx = lane + 32 * i, r = idx / kChunks, c = idx % kChunks;
    if (r < rows) {
      ops.st_global_128(out + r * out_stride + c * kElemsPerChunk,
                        ops.ld_shared_128(tile + tile_offset(row0 + r, c, row_bytes)));
    }
  }
}

// ================================================================================================
// prefill: one block = 128 query rows of one (batch, head); 8 warps of 16 rows each
// ================================================================================================
// Shared memory: Q (kBlockM rows), then kStages stages of (K tile, V tile). Per key tile: the
// next tile's cp.asyncs are issued first, then this tile's S = Q K^T, mask (only on tiles that
// cross the end of the keys or the causal diagonal, in a loop of their own), online softmax and
// O += P V, then one wait and one barrier (the next tile has landed, and every warp is done with
// this stage before it is refilled). Tiles past the causal diagonal of the block's last row are
// never loaded.
template <class Cfg, class Ops>
AICBENCH_HOST_DEVICE inline void prefill_block(const AttentionParams& p, Ops& ops, int m_block, int h, int b,
                                               int tid) {
  const int warp = tid / 32, lane = tid % 32;
  const int m0 = m_block * Cfg::kBlockM;
  const int kv_head = h / p.group;
  const int64_t q_stride = int64_t(p.heads) * Cfg::D, kv_stride = int64_t(p.kv_heads) * Cfg::D;
  const int64_t q_base = int64_t(b) * p.seqlen_q * q_stride + int64_t(h) * Cfg::D;
  const int64_t kv_base = int64_t(b) * p.seqlen_k * kv_stride + int64_t(kv_head) * Cfg::D;
  const uint16_t* q = static_cast<const uint16_t*>(p.q) + q_base;
  const uint16_t* k = static_cast<const uint16_t*>(p.k) + kv_base;
  const uint16_t* v = static_cast<const uint16_t*>(p.v) + kv_base;
  constexpr uint32_t kQTile = 0;
  auto k_tile = [](int stage) { return uint32_t(Cfg::kQBytes + stage * Cfg::kStageBytes); };

  // Keys this block needs: all, or under the causal mask those its last row sees.
  const int last_row = (m0 + Cfg::kBlockM < p.seqlen_q ? m0 + Cfg::kBlockM : p.seqlen_q) - 1;
  int key_end = p.seqlen_k;
  if (p.causal) {
    key_end = last_row + p.seqlen_k - p.seqlen_q + 1;
    key_end = key_end < 0 ? 0 : (key_end > p.seqlen_k ? p.seqlen_k : key_end);
  }
  const int n_tiles = (key_end + Cfg::kBlockN - 1) / Cfg::kBlockN;

  // ==== prologue: Q and the first K/V tile ====================================================
#pragma unroll
  for (int i = 0; i < Cfg::kQLoads; ++i) {
    const int row = load_row(tid, i, Cfg::kThreads, Cfg::kChunks), chunk = load_chunk(tid, i, Cfg::kThreads, Cfg::kChunks);
    const bool ok = m0 + row < p.seqlen_q;
    ops.cp_async_16(kQTile + tile_offset(row, chunk, Cfg::kRowBytes),
                    q + (ok ? int64_t(m0 + row) * q_stride + chunk * kElemsPerChunk : 0), ok);
  }
  // The tile's first token's K and V, then 32-bit offsets within the tile: 64-bit addresses per
  // cp.async, hoisted out of the loop by the compiler, would hold two registers each.
  const int kv_row = p.kv_heads * Cfg::D;  // elements between tokens
  auto load_tile = [&](int tile, int stage) {
    const int n0 = tile * Cfg::kBlockN;
    const uint16_t* k_src = k + int64_t(n0) * kv_stride;
    const uint16_t* v_src = v + int64_t(n0) * kv_stride;
#pragma unroll
    for (int i = 0; i < Cfg::kTileLoads; ++i) {
      const int row = load_row(tid, i, Cfg::kThreads, Cfg::kChunks), chunk = load_chunk(tid, i, Cfg::kThreads, Cfg::kChunks);
      const bool ok = n0 + row < p.seqlen_k;
      const int src = row * kv_row + chunk * kElemsPerChunk;
      const uint32_t dst = k_tile(stage) + tile_offset(row, chunk, Cfg::kRowBytes);
      ops.cp_async_16(dst, ok ? k_src + src : k, ok);
      ops.cp_async_16(dst + Cfg::kTileBytes, ok ? v_src + src : v, ok);
    }
  };
  if (n_tiles > 0) load_tile(0, 0);
  ops.cp_async_commit();
  ops.template cp_async_wait<0>();
  ops.sync_block();

  uint32_t qf[Cfg::kQInRegisters ? Cfg::kKSteps : 1][4];
  if constexpr (Cfg::kQInRegisters) {
#pragma unroll
    for (int ks = 0; ks < Cfg::kKSteps; ++ks) {
      ops.ldmatrix_x4(qf[ks], kQTile + tile_offset(q_ldsm_row(16 * warp, lane), q_ldsm_chunk(lane, ks), Cfg::kRowBytes));
    }
  }

  SoftmaxState<Cfg::kDTiles> st;
  st.init();

  // ==== main loop over key tiles ===============================================================
  // Tiles [0, n_full) need no mask: inside the keys and, under the causal mask, wholly at or below
  // the diagonal of the block's first row. The rest cross the end of the keys or the diagonal.
  // Two loops, so the mask's compares and selects are only in the second (a branch around them
  // inside one loop was turned into selects executed on every tile).
  int n_full = p.seqlen_k / Cfg::kBlockN;
  if (p.causal) {
    const int diagonal = (m0 + p.seqlen_k - p.seqlen_q + 1) / Cfg::kBlockN;  // (t + 1) BN - 1 <= m0 + Sk - Sq
    n_full = diagonal < n_full ? diagonal : n_full;
  }
  n_full = n_full < 0 ? 0 : (n_full > n_tiles ? n_tiles : n_full);
  auto step = [&](int t, auto with_mask) {
    if (t + 1 < n_tiles) load_tile(t + 1, (t + 1) % Cfg::kStages);
    ops.cp_async_commit();

    const uint32_t kt = k_tile(t % Cfg::kStages), vt = kt + Cfg::kTileBytes;
    float s[Cfg::kNTiles][4];
    qk_tile<Cfg::kKSteps, Cfg::kNTiles, Cfg::kQInRegisters>(ops, s, qf, kQTile, 16 * warp, kt, Cfg::kRowBytes, lane);
    if constexpr (decltype(with_mask)::value) mask_tile(s, m0 + 16 * warp, t * Cfg::kBlockN, p, lane);
    softmax_update(ops, s, st, p.scale_log2);
    pv_tile(ops, s, st, vt, Cfg::kRowBytes, lane);

    ops.template cp_async_wait<0>();
    ops.sync_block();
  };
  for (int t = 0; t < n_full; ++t) step(t, std::false_type{});
  for (int t = n_full; t < n_tiles; ++t) step(t, std::true_type{});

  // ==== epilogue: normalise, stage through this warp's Q rows, store 16 bytes per lane ==========
  // The warp's Q rows are its own: read only by it (ldmatrix is warp-synchronous), and every
  // cp.async has landed (the wait and barrier after the prologue or the last tile).
  float inv[2];
  row_sums(ops, st, inv);
  // The output address is computed here, from the parameters, rather than kept from the prologue:
  // a 64-bit value live across the loop is two registers the loop needs (it spilled at D = 128).
  const int row0 = 16 * warp;
  const int rows = p.seqlen_q - (m0 + row0);
  uint16_t* out = static_cast<uint16_t*>(p.o) + ((int64_t(b) * p.seqlen_q + (m0 + row0)) * p.heads + h) * Cfg::D;
  store_rows(ops, st, inv, kQTile, row0, Cfg::kRowBytes, lane, out, q_stride, rows < 16 ? rows : 16);
}

// ================================================================================================
// decode: one block = one split of the keys of one (batch, key/value head, slice of <= 16 heads)
// ================================================================================================
// Shared memory: Q (16 rows: the slice's query heads, zeros past them), then each warp's own
// pipeline of kStages (K tile, V tile) of 16 keys. Warp w takes the split's tiles w, w + 4, ...:
// per tile one wait and one __syncwarp (its lanes' copies have landed and every lane is done with
// the stage the next copy refills), then S = Q K^T, the mask on a tile that crosses the split's
// end, online softmax and O += P V. Then each warp leaves (m, l, O) in its pipeline's memory and
// the block combines the four: the split's output normalised by its own sum, and its log-sum-exp
// lse = m * scale_log2 + log2(l) (log2 units), go to the workspace for combine_splits.
template <class Cfg, class Ops>
AICBENCH_HOST_DEVICE inline void decode_block(const AttentionParams& p, Ops& ops, int split, int head_block_index,
                                              int b, int tid) {
  const int warp = tid / 32, lane = tid % 32;
  const int kv_head = head_block_index / p.head_blocks, slice = head_block_index % p.head_blocks;
  const int h0 = kv_head * p.group + slice * Cfg::kRows;  // first query head of the block
  const int rows = p.group - slice * Cfg::kRows < Cfg::kRows ? p.group - slice * Cfg::kRows : Cfg::kRows;
  const int kv_stride = p.kv_heads * Cfg::D;  // elements between tokens (an int: fewer live registers)
  const uint16_t* q = static_cast<const uint16_t*>(p.q) + (int64_t(b) * p.heads + h0) * Cfg::D;  // Sq = 1
  const int64_t kv_base = int64_t(b) * p.seqlen_k * kv_stride + int64_t(kv_head) * Cfg::D;
  const uint16_t* k = static_cast<const uint16_t*>(p.k) + kv_base;
  const uint16_t* v = static_cast<const uint16_t*>(p.v) + kv_base;
  constexpr uint32_t kQTile = 0;
  const uint32_t pipeline = Cfg::kQBytes + warp * Cfg::kWarpBytes;  // this warp's stages
  auto k_tile = [&](int stage) { return pipeline + uint32_t(stage * Cfg::kStageBytes); };

  const int key0 = split * p.split_keys;
  const int key_end = key0 + p.split_keys < p.seqlen_k ? key0 + p.split_keys : p.seqlen_k;
  const int split_tiles = key_end > key0 ? (key_end - key0 + Cfg::kTileKeys - 1) / Cfg::kTileKeys : 0;
  const int my_tiles = split_tiles > warp ? (split_tiles - warp + Cfg::kWarps - 1) / Cfg::kWarps : 0;

  // ==== Q, by the whole block ==================================================================
#pragma unroll
  for (int i = 0; i < Cfg::kQLoads; ++i) {
    const int row = load_row(tid, i, Cfg::kThreads, Cfg::kChunks), chunk = load_chunk(tid, i, Cfg::kThreads, Cfg::kChunks);
    const bool ok = row < rows;
    ops.cp_async_16(kQTile + tile_offset(row, chunk, Cfg::kRowBytes), q + (ok ? row * Cfg::D + chunk * kElemsPerChunk : 0), ok);
  }
  ops.cp_async_commit();
  ops.template cp_async_wait<0>();
  ops.sync_block();
  uint32_t qf[Cfg::kQInRegisters ? Cfg::kKSteps : 1][4];
  if constexpr (Cfg::kQInRegisters) {
#pragma unroll
    for (int ks = 0; ks < Cfg::kKSteps; ++ks) {
      ops.ldmatrix_x4(qf[ks], kQTile + tile_offset(q_ldsm_row(0, lane), q_ldsm_chunk(lane, ks), Cfg::kRowBytes));
    }
  }

  // ==== this warp's tiles: local tile i is the split's tile warp + 4 i ==========================
  // The tile's first token's K and V, then 32-bit offsets within the tile (as in prefill_block).
  auto load_tile = [&](int i, int stage) {
    const int n0 = key0 + (warp + Cfg::kWarps * i) * Cfg::kTileKeys;
    const uint16_t* k_src = k + int64_t(n0) * kv_stride;
    const uint16_t* v_src = v + int64_t(n0) * kv_stride;
#pragma unroll
    for (int l = 0; l < Cfg::kTileLoads; ++l) {
      const int row = load_row(lane, l, 32, Cfg::kChunks), chunk = load_chunk(lane, l, 32, Cfg::kChunks);
      const bool ok = n0 + row < key_end;
      const int src = row * kv_stride + chunk * kElemsPerChunk;
      const uint32_t dst = k_tile(stage) + tile_offset(row, chunk, Cfg::kRowBytes);
      ops.cp_async_16(dst, ok ? k_src + src : k, ok);
      ops.cp_async_16(dst + Cfg::kTileBytes, ok ? v_src + src : v, ok);
    }
  };
#pragma unroll
  for (int st = 0; st < Cfg::kStages - 1; ++st) {
    if (st < my_tiles) load_tile(st, st);
    ops.cp_async_commit();  // always, so that group counts stay aligned with tiles
  }
  SoftmaxState<Cfg::kDTiles> state;
  state.init();
  for (int i = 0; i < my_tiles; ++i) {
    ops.template cp_async_wait<Cfg::kStages - 2>();
    ops.sync_warp();
    if (i + Cfg::kStages - 1 < my_tiles) load_tile(i + Cfg::kStages - 1, (i + Cfg::kStages - 1) % Cfg::kStages);
    ops.cp_async_commit();
    const uint32_t kt = k_tile(i % Cfg::kStages), vt = kt + Cfg::kTileBytes;
    float s[Cfg::kNTiles][4];
    qk_tile<Cfg::kKSteps, Cfg::kNTiles, Cfg::kQInRegisters>(ops, s, qf, kQTile, 0, kt, Cfg::kRowBytes, lane);
    const int n0 = key0 + (warp + Cfg::kWarps * i) * Cfg::kTileKeys;
    if (n0 + Cfg::kTileKeys > key_end) {  // keys past the split's end
#pragma unroll
      for (int n = 0; n < Cfg::kNTiles; ++n)
#pragma unroll
        for (int r = 0; r < 4; ++r) {
          if (n0 + 8 * n + acc_col(lane, r) >= key_end) s[n][r] = -INFINITY;
        }
    }
    softmax_update(ops, s, state, p.scale_log2);
    pv_tile(ops, s, state, vt, Cfg::kRowBytes, lane);
  }
  ops.template cp_async_wait<0>();
  ops.sync_warp();  // every lane is done with the pipeline's memory

  // ==== the warp's partial result into its pipeline's memory: m[16], l[16], O[16][D + 4] =======
  float unused_inv[2];
  row_sums(ops, state, unused_inv);
  const uint32_t part = pipeline;
  const uint32_t part_o = part + 2 * Cfg::kRows * 4;
#pragma unroll
  for (int h = 0; h < 2; ++h) {
    const int row = acc_row(lane, 2 * h);
    if (lane % 4 == 0) {
      ops.st_shared_f32(part + row * 4, state.m[h]);
      ops.st_shared_f32(part + (Cfg::kRows + row) * 4, state.l[h]);
    }
#pragma unroll
    for (int t = 0; t < Cfg::kDTiles; ++t)
#pragma unroll
      for (int c = 0; c < 2; ++c) {
        ops.st_shared_f32(part_o + (row * Cfg::kPartialStride + 8 * t + acc_col(lane, 2 * h + c)) * 4, state.o[t][2 * h + c]);
      }
  }
  ops.sync_block();

  // ==== the block's four warps combined: this split's normalised output and log-sum-exp ========
  const int64_t out_row0 = (int64_t(b) * p.heads + h0) * p.splits + split;  // (b, h0, split)
  for (int idx = tid; idx < Cfg::kRows * Cfg::D; idx += Cfg::kThreads) {
    const int r = idx / Cfg::D, d = idx % Cfg::D;
    if (r >= rows) continue;
    float m = -INFINITY;
    for (int w = 0; w < Cfg::kWarps; ++w) m = fmaxf(m, ops.ld_shared_f32(Cfg::kQBytes + w * Cfg::kWarpBytes + r * 4));
    float l = 0.0f, o = 0.0f;
    if (m != -INFINITY) {
      for (int w = 0; w < Cfg::kWarps; ++w) {
        const uint32_t wp = Cfg::kQBytes + w * Cfg::kWarpBytes;
        const float scale = ops.ex2((ops.ld_shared_f32(wp + r * 4) - m) * p.scale_log2);  // 0 for a warp with no key
        l += ops.ld_shared_f32(wp + (Cfg::kRows + r) * 4) * scale;
        o += ops.ld_shared_f32(wp + (2 * Cfg::kRows + r * Cfg::kPartialStride + d) * 4) * scale;
      }
    }
    const int64_t out = out_row0 + int64_t(r) * p.splits;  // (b, h0 + r, split)
    p.partial_o[out * Cfg::D + d] = l > 0.0f ? o / l : 0.0f;
    if (d == 0) p.partial_lse[out] = l > 0.0f ? m * p.scale_log2 + ops.log2(l) : -INFINITY;
  }
}

// The second kernel's work for one output element: O[b, h, d] from the splits' normalised outputs
// and log-sum-exps (log2 units): sum_s 2^(lse_s - M) O_s / sum_s 2^(lse_s - M), M = max_s lse_s.
// Splits without keys have lse = -inf and weight 0; a row without any key gives 0.
template <class Exp2>
AICBENCH_HOST_DEVICE inline float combine_splits(const float* partial_o, const float* partial_lse, int splits, int D,
                                                 int d, Exp2 exp2) {
  float M = -INFINITY;
  for (int s = 0; s < splits; ++s) M = fmaxf(M, partial_lse[s]);
  if (M == -INFINITY) return 0.0f;
  float num = 0.0f, den = 0.0f;
  for (int s = 0; s < splits; ++s) {
    const float w = exp2(partial_lse[s] - M);
    num += w * partial_o[int64_t(s) * D + d];
    den += w;
  }
  return num / den;
}

}  // namespace aicbench::kernels::attn_sm80
