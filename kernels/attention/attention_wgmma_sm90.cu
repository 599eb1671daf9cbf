// Hopper fused attention, prefill / training forward (FlashAttention-3's design, sm_90a only):
// O = softmax(Q K^T / sqrt(D)) V in one kernel, bf16 or fp16 in, fp32 accumulation, D 64, 128 and
// 256, causal or not, grouped-query heads, any sequence lengths. Layout and conventions:
// attention_shape.hpp; entry points: attention_api.hpp; tile geometry, fragment layouts and the
// per-thread softmax: sm90_attention_layout.hpp.
//
// Versions (each kept; later ones say what they add):
//   attention_wgmma_sm90_kernel1  over the Ampere kernel (attention_mma_sm80.cu, whose algorithm
//                                 it keeps: online softmax in registers, exp2 with the scale
//                                 folded in, masks only on the tiles that need them, tiles past
//                                 the causal diagonal never loaded, longest blocks first):
//     - TMA: Q, K and V tiles come in by cp.async.bulk.tensor through 4-D tensor maps (D, heads,
//       tokens, batch), 64 values of D per box in the 128-byte swizzle, zero-filled past the end
//       of a sequence; an mbarrier ring of K/V stages (3 at D = 64, 2 above), K and V with
//       barriers of their own so that S = Q K^T starts before V has landed.
//     - warp specialisation: warpgroup 0 is the producer (setmaxnreg.dec to 24 registers; one
//       thread issues every TMA), warpgroups 1 and 2 are consumers (setmaxnreg.inc to 240), each
//       owning 64 of the block's 128 query rows.
//     - wgmma: S = Q K^T with both operands from shared memory (m64nNk16, N = 128 keys at D = 64
//       and 128, 64 at D = 256); O += P V with P from registers (the S accumulators rounded to 16 bits in place:
//       wgmma's accumulator fragment is its A fragment, sm90_attention_layout.hpp) and V from
//       shared memory as an MN-major ("transposed") operand, V staying [keys, D] as in memory.
//     - overlap inside a warpgroup (FA3's "intra-warpgroup pipelining"): per key tile the
//       warpgroup issues the next tile's S = Q K^T and this tile's O += P V back to back, waits
//       for the first only (wgmma.wait_group 1), does the next tile's softmax while P V runs on
//       the tensor cores, then waits for P V and rescales O.
//     - overlap between warpgroups (FA3's "ping-pong"): two named barriers pass the right to
//       issue wgmma back and forth, so one warpgroup's softmax runs while the other's GEMMs do.
//     - the consumers hand each K and V stage back to the producer through mbarriers as soon as
//       the wgmma that read it has completed.
//     - epilogue: O normalised by the row sums, rounded to 16 bits, staged through the
//       warpgroup's own rows of Q's shared memory (swizzled, conflict-free) and written with
//       16-byte stores, rows past the sequence skipped.
//     - one block per (query block, head, batch) on a 1-D grid ordered by query block, the last
//       (longest, under the causal mask) first across all heads and batches.
//
// Pipeline of a consumer warpgroup over the block's key tiles, walked from the last down (the
// masked tiles first, then the unmasked loop without the mask's code), i = 0 .. n - 1:
//   i = 0:   [turn] S = Q K_0 [hand over]; wait; release K_0; mask; softmax -> P_0
//   i >= 1:  [turn] S = Q K_i; O += P_{i-1} V_{i-1} [hand over]; wait for S; release K_i; mask
//            (if the tile needs it); softmax -> new maxima, alpha; wait for P V; release V_{i-1};
//            O *= alpha; P_i = S rounded
//   end:     [turn] O += P_{n-1} V_{n-1} [hand over]; wait; release V_{n-1}; epilogue
// [turn] is bar.sync on the warpgroup's own named barrier, [hand over] bar.arrive on the other's;
// consumer 1 starts by arriving on consumer 0's, and consumer 0 ends by syncing once more, so
// every barrier phase completes and both warpgroups (which walk the same tiles) stay in step.
//
// Register budget per consumer thread: S kBlockN / 2, P kBlockN / 4, O D / 2 (128, 160 and 176 at
// D = 64, 128, 256; ptxas, CUDA 13.0, allocates at most 161, 192 and 202 registers) of 240; the
// producer's 24 and the consumers' 2 x 240 use 128 x 24 + 256 x 240 = 64,512 of the 65,536
// registers. Shared memory: 112, 160 and 192 KB (Config in sm90_attention_layout.hpp). D = 256 fits
// with 64-key tiles (FA3 uses 80): half the tensor work per barrier round trip and per softmax
// pass, so it is expected to be the slowest per FLOP.
//
// No trap among the wgmma: the consumers wait for TMA data with mbar_wait_bounded and trap only
// before the epilogue. With the trapping mbar_wait (hopper_primitives.cuh) inside the consumer
// loop, ptxas reported C7512 ("wgmma.mma_async instructions are serialized due to insufficient
// register resources"), put a wait after every wgmma, never allocated above R175 and spilled
// (D = 128 with 128-key tiles: 320 bytes; D = 256: 596), whatever the tile size or overlap; the
// same code with the trap moved out compiles clean at every D.
//
// Constraints (the launchers return cudaErrorInvalidValue otherwise): D in {64, 128, 256}; B, H,
// KVH, Sq, Sk >= 1, KVH divides H; Sq, Sk < 2^31 and ceil(Sq / 128) * H * B < 2^31 (the grid);
// Q, K, V, O 16-byte aligned (TMA's global addresses; row strides are multiples of 128 bytes).
// cudaErrorNotSupported when this GPU is not compute capability 9.0 or the binary holds no sm_90a
// code (the kernel body is empty elsewhere, so kernel_ready and a device-side flag both refuse).
//
// Measured: not yet on a GPU (no results/gpu/ file records it). Verified without a GPU: ptxas at
// sm_90a (no spills, no wgmma-serialisation advisory, the setmaxnreg values),
// scripts/check-kernels.sh (the PTX holds wgmma.mma_async in its .bf16 and .f16 forms,
// cp.async.bulk.tensor, setmaxnreg, mbarrier.try_wait; the SASS holds HGMMA and UTMALDG, no
// local memory, no fence in the mainloop, per key tile the expected GMMA, one wait that leaves
// P V in flight and the ping-pong's barriers); tests/test_attention_sm90_layout.cpp (the fragment,
// descriptor and swizzle arithmetic against the PTX ISA; whole blocks' online softmax and P V on an
// emulated pair of warpgroups against the CPU reference; the mbarrier ring and the ping-pong's
// named barriers simulated under random interleavings: no deadlock, no stage overwritten while a
// wgmma reads it, the turns balanced). Not verified: anything only a GPU shows (timing, the real
// hardware's reading of our descriptors, races the simulation's model of the PTX ISA misses).
// Target (issue 13), H100 SXM, bf16, 16k tokens: D = 128 non-causal >= 650 TFLOP/s, causal
// >= 616; D = 64 >= 497.
// Next to try if missed, most promising first: FA3's 176-key tiles at D = 128 (S 88 + P 44 + O 64
// registers); a persistent grid with a tile scheduler (the epilogue of one tile
// overlapping the next tile's loads, as FA3 does); a third consumer warpgroup at D = 64 (192
// query rows);
// TMA stores of O; Q and K/V loads split across clusters (multicast K/V to two query blocks of
// one head); for fp16/bf16 at D = 64 the exp2 throughput (MUFU) is the limit FA3 works around by
// emulating part of the exponentials with FMA.
#include <cuda.h>

#include <array>
#include <climits>
#include <cstdint>
#include <mutex>
#include <type_traits>

#include "kernels/attention/attention_api.hpp"
#include "kernels/attention/sm80_device_ops.cuh"  // DeviceOps: shfl_xor, ex2, pack, shared moves
#include "kernels/attention/sm90_attention_layout.hpp"
#include "kernels/hopper_primitives.cuh"
#include "kernels/hopper_tensor_map.hpp"
#include "kernels/kernel_ready.hpp"

namespace aicbench::kernels {

namespace {

using namespace attn_sm90;

constexpr int kThreads = 384;  // producer warpgroup + 2 consumer warpgroups
[[maybe_unused]] constexpr int kConsumerWarps = 8;  // empty barriers: one arrival per consumer warp
[[maybe_unused]] constexpr int kProducerRegs = 24;
[[maybe_unused]] constexpr int kConsumerRegs = 240;
static_assert(kProducerRegs * 128 + kConsumerRegs * 256 <= 65536, "register split must fit the register file");
// Named barriers of the ping-pong (0 is __syncthreads'): consumer w waits on kTurnBarrier + w.
[[maybe_unused]] constexpr uint32_t kTurnBarrier = 1;
[[maybe_unused]] constexpr uint32_t kTurnThreads = 256;  // both consumer warpgroups: 128 sync + 128 arrive

// Shared memory, one per block; the dynamic allocation is aligned up to 1024 bytes by hand, since
// the 128-byte swizzle repeats every 1024 bytes and TMA and wgmma must agree on its phase.
template <class Cfg>
struct SharedStorage {
  alignas(1024) uint8_t q[Cfg::kQBytes];                    // (panel, 128 rows, 128 B), sw128
  alignas(1024) uint8_t k[Cfg::kStages][Cfg::kKVTileBytes];  // (stage, panel, kBlockN rows, 128 B)
  alignas(1024) uint8_t v[Cfg::kStages][Cfg::kKVTileBytes];  // same
  uint64_t q_full;                    // TMA -> consumers: Q has landed
  uint64_t k_full[Cfg::kStages];      // TMA -> consumers: stage s holds a K tile
  uint64_t v_full[Cfg::kStages];      //                   ... a V tile
  uint64_t k_empty[Cfg::kStages];     // consumers (one arrival per warp) -> producer
  uint64_t v_empty[Cfg::kStages];
};
template <class Cfg>
constexpr int smem_bytes() {
  return static_cast<int>(sizeof(SharedStorage<Cfg>)) + 1024;  // + alignment slack
}
static_assert(smem_bytes<Config<64>>() <= 227 * 1024 && smem_bytes<Config<128>>() <= 227 * 1024 &&
                  smem_bytes<Config<256>>() <= 227 * 1024,
              "exceeds the 227 KB a Hopper block may use");

// All of a launch's arguments, one __grid_constant__ struct.
struct Sm90AttentionParams {
  CUtensorMap q_map;  // Q: dims (D, H, Sq, B), box (64, 1, 128, 1), 128-byte swizzle
  CUtensorMap k_map;  // K: dims (D, KVH, Sk, B), box (64, 1, kBlockN, 1)
  CUtensorMap v_map;  // V: as K
  AttentionParams a;  // shape, O, scale_log2, m_blocks (sm80_attention_warp.hpp)
};

// Set when this translation unit's device code was compiled for sm_90a: a build whose sm_90 code
// lacks the "a" features has an empty kernel that kernel_ready alone would accept.
__device__ int g_attention_wgmma_sm90_compiled = AICBENCH_SM90A_DEVICE;

// ------------------------------------------------------------------------------------------------
// wgmma of the two products, by shape and type
// ------------------------------------------------------------------------------------------------
template <int N, class T>
__device__ __forceinline__ void wgmma_ss(float (&d)[N / 2], uint64_t da, uint64_t db, uint32_t accumulate) {
  using namespace sm90;
  constexpr bool bf16 = std::is_same_v<T, __nv_bfloat16>;
  if constexpr (N == 32) bf16 ? wgmma_ss_m64n32k16_bf16(d, da, db, accumulate) : wgmma_ss_m64n32k16_f16(d, da, db, accumulate);
  if constexpr (N == 64) bf16 ? wgmma_ss_m64n64k16_bf16(d, da, db, accumulate) : wgmma_ss_m64n64k16_f16(d, da, db, accumulate);
  if constexpr (N == 128) bf16 ? wgmma_ss_m64n128k16_bf16(d, da, db, accumulate) : wgmma_ss_m64n128k16_f16(d, da, db, accumulate);
}
template <int N, class T>
__device__ __forceinline__ void wgmma_rs(float (&d)[N / 2], const uint32_t (&a)[4], uint64_t db) {
  using namespace sm90;
  constexpr bool bf16 = std::is_same_v<T, __nv_bfloat16>;
  if constexpr (N == 64) bf16 ? wgmma_rs_m64n64k16_bf16(d, a, db) : wgmma_rs_m64n64k16_f16(d, a, db);
  if constexpr (N == 128) bf16 ? wgmma_rs_m64n128k16_bf16(d, a, db) : wgmma_rs_m64n128k16_f16(d, a, db);
  if constexpr (N == 256) bf16 ? wgmma_rs_m64n256k16_bf16(d, a, db) : wgmma_rs_m64n256k16_f16(d, a, db);
}

// ------------------------------------------------------------------------------------------------
// consumer warpgroup
// ------------------------------------------------------------------------------------------------
template <class Cfg, class T>
__device__ __forceinline__ void consume(SharedStorage<Cfg>& s, const AttentionParams& a, BlockCoord bc, KeyTiles kt,
                                        int wg, int t) {
  using namespace sm90;
  constexpr int kStages = Cfg::kStages;
  const attn_sm80::DeviceOps<T> ops{smem_u32(s.q)};  // shared offsets below are from Q's base
  const int warp = t / 32, lane = t % 32;
  // Waits for TMA data. A wait that never ends is a bug, and traps, but not here: a trap among the
  // wgmma makes ptxas serialise them and spill (mbar_wait_bounded). A timed-out wait is remembered,
  // later waits return at once (the warpgroups still walk every tile, so the named barriers stay
  // paired), and the thread traps before the epilogue, when no wgmma is pending.
  bool timed_out = false;
  auto wait_full = [&](uint64_t* bar, uint32_t parity) {
    if (!timed_out) timed_out = !mbar_wait_bounded(bar, parity);
  };
  const int query0 = bc.m_block * Cfg::kBlockM + wg * Cfg::kWgRows;  // this warpgroup's row 0
  const uint32_t q_addr = smem_u32(s.q) + wg * Cfg::kWgRows * 128;     // its 64 rows of each panel
  const uint32_t k_addr = smem_u32(s.k[0]), v_addr = smem_u32(s.v[0]);

  // Ping-pong: wait for this warpgroup's turn to issue wgmma, then hand the turn to the other.
  const uint32_t my_barrier = kTurnBarrier + wg, other_barrier = kTurnBarrier + 1 - wg;
  auto my_turn = [&] { named_barrier_sync(my_barrier, kTurnThreads); };
  auto hand_over = [&] { named_barrier_arrive(other_barrier, kTurnThreads); };
  if (wg == 1) named_barrier_arrive(kTurnBarrier, kTurnThreads);  // consumer 0 goes first
  // A stage goes back to the producer once this warp's wgmma that read it have completed (the
  // wait_group before the call): one arrival per warp, plain (CTA-scope) as in the GEMM.
  auto release = [&](uint64_t* bar) {
    if (lane == 0) mbar_arrive(bar);
  };

  float sacc[Cfg::kSRegs];  // S = Q K^T of the tile, then its probabilities
  float o[Cfg::kORegs];     // O accumulators
  uint32_t pf[Cfg::kPRegs]; // P of the previous tile, 16-bit pairs (the A operand of P V)
#pragma unroll
  for (int i = 0; i < Cfg::kORegs; ++i) o[i] = 0.0f;
#pragma unroll
  for (int i = 0; i < Cfg::kSRegs; ++i) sacc[i] = 0.0f;
#pragma unroll
  for (int i = 0; i < Cfg::kPRegs; ++i) pf[i] = 0u;
  RowStats st{{-INFINITY, -INFINITY}, {0.0f, 0.0f}};
  float alpha[2];

  // S = Q K_i^T: D / 16 k-steps, both operands K-major in shared memory.
  auto issue_qk = [&](int i) {
    const uint32_t kb = k_addr + ring_stage(i, kStages) * Cfg::kKVTileBytes;
#pragma unroll
    for (int ks = 0; ks < Cfg::kQKSteps; ++ks) {
      wgmma_ss<Cfg::kBlockN, T>(sacc, make_sw128_kmajor_desc(q_addr + kmajor_step_offset(ks, Cfg::kQPanelBytes)),
                                make_sw128_kmajor_desc(kb + kmajor_step_offset(ks, Cfg::kKVPanelBytes)), ks != 0);
    }
    wgmma_commit_group();
  };
  // O += P_i V_i: kBlockN / 16 k-steps, P from registers, V MN-major in shared memory.
  auto issue_pv = [&](int i) {
    const uint32_t vb = v_addr + ring_stage(i, kStages) * Cfg::kKVTileBytes;
#pragma unroll
    for (int ks = 0; ks < Cfg::kPVSteps; ++ks) {
      const uint32_t frag[4] = {pf[4 * ks], pf[4 * ks + 1], pf[4 * ks + 2], pf[4 * ks + 3]};
      wgmma_rs<Cfg::D, T>(o, frag, make_sw128_mnmajor_desc(vb + mnmajor_step_offset(ks), Cfg::kKVPanelBytes));
    }
    wgmma_commit_group();
  };
  auto tile_of = [&](int i) { return kt.n_tiles - 1 - i; };  // the i-th tile walked

  wait_full(&s.q_full, 0);
  if (kt.n_tiles > 0) {
    // ==== first tile: S only ==================================================================
    wait_full(&s.k_full[0], 0);
    my_turn();
    fence_registers(sacc);
    wgmma_fence();
    issue_qk(0);
    hand_over();
    wgmma_wait_group<0>();
    fence_registers(sacc);
    release(&s.k_empty[0]);
    if (tile_of(0) >= kt.n_full) mask_scores(sacc, query0, tile_of(0) * Cfg::kBlockN, a, t);
    softmax_step(ops, sacc, st, a.scale_log2, alpha);  // O is zero: alpha is not needed
    pack_p(ops, sacc, pf);

    // ==== S of tile i and P V of tile i - 1 in flight together ===============================
    auto step = [&](int i, auto with_mask) {
      wait_full(&s.k_full[ring_stage(i, kStages)], full_parity(i, kStages));
      wait_full(&s.v_full[ring_stage(i - 1, kStages)], full_parity(i - 1, kStages));
      my_turn();
      fence_registers(sacc);
      fence_registers(o);
      fence_registers(pf);
      wgmma_fence();  // the registers were last written by ordinary instructions
      issue_qk(i);
      issue_pv(i - 1);
      hand_over();
      wgmma_wait_group<1>();  // S is done; P V may still run
      fence_registers(sacc);
      release(&s.k_empty[ring_stage(i, kStages)]);
      if constexpr (decltype(with_mask)::value) mask_scores(sacc, query0, tile_of(i) * Cfg::kBlockN, a, t);
      softmax_step(ops, sacc, st, a.scale_log2, alpha);
      wgmma_wait_group<0>();  // P V is done: O may be rescaled, P overwritten, V's stage reused
      fence_registers(o);
      fence_registers(pf);
      release(&s.v_empty[ring_stage(i - 1, kStages)]);
      rescale_rows(o, alpha);
      pack_p(ops, sacc, pf);
    };
    int i = 1;
    for (; i < kt.n_tiles && tile_of(i) >= kt.n_full; ++i) step(i, std::true_type{});
    for (; i < kt.n_tiles; ++i) step(i, std::false_type{});

    // ==== the last tile's P V ==================================================================
    const int last = kt.n_tiles - 1;
    wait_full(&s.v_full[ring_stage(last, kStages)], full_parity(last, kStages));
    my_turn();
    fence_registers(o);
    fence_registers(pf);
    wgmma_fence();
    issue_pv(last);
    hand_over();
    wgmma_wait_group<0>();
    fence_registers(o);
    fence_registers(pf);
    release(&s.v_empty[ring_stage(last, kStages)]);
  }
  if (wg == 0) my_turn();  // consumer 1's last hand-over (its count is one ahead)

  if (timed_out) __trap();  // a phase never completed: fail the launch rather than write garbage

  // ==== epilogue: normalise, stage through this warpgroup's Q rows, 16-byte stores ==============
  // Every wgmma of this warpgroup (the only reader of these rows) has completed, and Q landed
  // before any of them was issued.
  float inv[2];
  row_inverse_sums(ops, st, inv);
#pragma unroll
  for (int j = 0; j < Cfg::kORegs / 4; ++j)
#pragma unroll
    for (int h = 0; h < 2; ++h) {
      ops.st_shared_u32(o_stage_offset(wg, t, j, h), ops.pack(o[4 * j + 2 * h] * inv[h], o[4 * j + 2 * h + 1] * inv[h]));
    }
  __syncwarp();  // a warp reads back only the 16 rows it wrote
  uint16_t* out = static_cast<uint16_t*>(a.o);
  const int64_t row_stride = int64_t(a.heads) * Cfg::D;
  const int64_t head_offset = int64_t(bc.head) * Cfg::D;
#pragma unroll
  for (int step = 0; step < Cfg::D / 16; ++step) {  // 16 rows x D / 8 chunks / 32 lanes
    const StagedChunk c = o_read_chunk(warp, lane, step, Cfg::D);
    const int row = query0 + c.row;
    if (row < a.seqlen_q) {
      const uint4 v = ops.ld_shared_128(tile_offset(Cfg::kWgRows * wg + c.row, c.col, Cfg::kBlockM));
      ops.st_global_128(out + (int64_t(bc.batch) * a.seqlen_q + row) * row_stride + head_offset + c.col, v);
    }
  }
}

// ------------------------------------------------------------------------------------------------
// kernel1
// ------------------------------------------------------------------------------------------------
template <class Cfg, class T>
__global__ void __launch_bounds__(kThreads, 1)
attention_wgmma_sm90_kernel1(const __grid_constant__ Sm90AttentionParams p) {
#if AICBENCH_SM90A_DEVICE
  using namespace sm90;
  extern __shared__ uint8_t smem_raw[];
  auto& s = *reinterpret_cast<SharedStorage<Cfg>*>((reinterpret_cast<uintptr_t>(smem_raw) + 1023) & ~uintptr_t{1023});
  const AttentionParams& a = p.a;
  const BlockCoord bc = block_coord(static_cast<int>(blockIdx.x), a.m_blocks, a.heads, a.batch, a.causal != 0);
  const KeyTiles kt = key_tiles(a, bc.m_block, Cfg::kBlockM, Cfg::kBlockN);
  // Broadcast from lane 0 so that the compiler sees a warp-uniform value: the role branches below
  // are then uniform, and ptxas gives each side the register count its setmaxnreg sets (with a
  // per-thread value it kept the whole kernel at ~176 and spilled the consumers at D = 128).
  const int warpgroup = __shfl_sync(0xffffffffu, static_cast<int>(threadIdx.x) / 128, 0);

  if (threadIdx.x == 0) {
    mbar_init(&s.q_full, 1);
#pragma unroll
    for (int st = 0; st < Cfg::kStages; ++st) {
      mbar_init(&s.k_full[st], 1);
      mbar_init(&s.v_full[st], 1);
      mbar_init(&s.k_empty[st], kConsumerWarps);
      mbar_init(&s.v_empty[st], kConsumerWarps);
    }
    mbar_init_fence();
  }
  __syncthreads();

  if (warpgroup == 0) {
    // ==== producer ==============================================================================
    setmaxnreg_dec<kProducerRegs>();
    if (threadIdx.x == 0) {
      tma_prefetch_descriptor(&p.q_map);
      tma_prefetch_descriptor(&p.k_map);
      tma_prefetch_descriptor(&p.v_map);
      const int kv_head = bc.head / a.group;
      mbar_arrive_expect_tx(&s.q_full, Cfg::kQBytes);  // zero-filled rows count too
#pragma unroll
      for (int panel = 0; panel < Cfg::kPanels; ++panel) {
        tma_load_4d(s.q + panel * Cfg::kQPanelBytes, &p.q_map, &s.q_full, 64 * panel, bc.head,
                    bc.m_block * Cfg::kBlockM, bc.batch);
      }
      // The i-th tile the consumers walk is tile n_tiles - 1 - i (ring_stage, empty_parity).
      for (int i = 0; i < kt.n_tiles; ++i) {
        const int stage = ring_stage(i, Cfg::kStages), key0 = (kt.n_tiles - 1 - i) * Cfg::kBlockN;
        const uint32_t parity = empty_parity(i, Cfg::kStages);
        mbar_wait(&s.k_empty[stage], parity);
        mbar_arrive_expect_tx(&s.k_full[stage], Cfg::kKVTileBytes);
#pragma unroll
        for (int panel = 0; panel < Cfg::kPanels; ++panel) {
          tma_load_4d(s.k[stage] + panel * Cfg::kKVPanelBytes, &p.k_map, &s.k_full[stage], 64 * panel, kv_head, key0,
                      bc.batch);
        }
        mbar_wait(&s.v_empty[stage], parity);
        mbar_arrive_expect_tx(&s.v_full[stage], Cfg::kKVTileBytes);
#pragma unroll
        for (int panel = 0; panel < Cfg::kPanels; ++panel) {
          tma_load_4d(s.v[stage] + panel * Cfg::kKVPanelBytes, &p.v_map, &s.v_full[stage], 64 * panel, kv_head, key0,
                      bc.batch);
        }
      }
    }
  } else {
    // ==== consumers =============================================================================
    setmaxnreg_inc<kConsumerRegs>();
    consume<Cfg, T>(s, a, bc, kt, warpgroup - 1, static_cast<int>(threadIdx.x) % 128);
  }
#endif  // AICBENCH_SM90A_DEVICE: elsewhere the launcher refuses to run the kernel
}

// ------------------------------------------------------------------------------------------------
// launcher
// ------------------------------------------------------------------------------------------------
bool aligned16(const void* ptr) { return (reinterpret_cast<uintptr_t>(ptr) & 15) == 0; }

// Whether the loaded image of this file holds sm_90a code (the flag above), once per device.
cudaError_t sm90a_code_loaded() {
  static std::mutex mutex;
  static std::array<int, 64> state{};  // 0 unknown, 1 yes, 2 no
  int device = 0;
  if (const cudaError_t err = cudaGetDevice(&device); err != cudaSuccess) return err;
  if (device < 0 || device >= static_cast<int>(state.size())) return cudaErrorNotSupported;
  std::lock_guard<std::mutex> lock(mutex);
  if (state[device] == 0) {
    int compiled = 0;
    if (cudaMemcpyFromSymbol(&compiled, g_attention_wgmma_sm90_compiled, sizeof(int)) != cudaSuccess) {
      (void)cudaGetLastError();  // no loadable image for this device
      compiled = 0;
    }
    state[device] = compiled ? 1 : 2;
  }
  return state[device] == 1 ? cudaSuccess : cudaErrorNotSupported;
}

// BSHD tensor (tokens x heads x D, per batch) -> 4-D tensor map (D, heads, tokens, batch) with box
// (64, 1, box_rows, 1): one 128-byte swizzled panel of box_rows tokens of one head.
bool encode_bshd(PFN_cuTensorMapEncodeTiled_v12000 encode, CUtensorMap* map, CUtensorMapDataType type, const void* ptr,
                 int64_t D, int64_t heads, int64_t tokens, int64_t batch, int box_rows) {
  const cuuint64_t dims[4] = {cuuint64_t(D), cuuint64_t(heads), cuuint64_t(tokens), cuuint64_t(batch)};
  const cuuint64_t strides[3] = {cuuint64_t(D * 2), cuuint64_t(heads * D * 2), cuuint64_t(tokens * heads * D * 2)};
  const cuuint32_t box[4] = {64, 1, cuuint32_t(box_rows), 1};
  const cuuint32_t elem_strides[4] = {1, 1, 1, 1};
  return encode(map, type, 4, const_cast<void*>(ptr), dims, strides, box, elem_strides, CU_TENSOR_MAP_INTERLEAVE_NONE,
                CU_TENSOR_MAP_SWIZZLE_128B, CU_TENSOR_MAP_L2_PROMOTION_L2_256B,
                CU_TENSOR_MAP_FLOAT_OOB_FILL_NONE) == CUDA_SUCCESS;
}

template <int D, class T>
cudaError_t launch_kernel1(const T* Q, const T* K, const T* V, T* O, const AttentionShape& s, cudaStream_t stream) {
  using Cfg = Config<D>;
  auto kernel = attention_wgmma_sm90_kernel1<Cfg, T>;
  constexpr int kSmem = smem_bytes<Cfg>();
  if (const cudaError_t err = kernel_ready(kernel, 90, kSmem); err != cudaSuccess) return err;
  if (const cudaError_t err = sm90a_code_loaded(); err != cudaSuccess) return err;
  const PFN_cuTensorMapEncodeTiled_v12000 encode = tensor_map_encoder();
  if (encode == nullptr) return cudaErrorNotSupported;  // driver too old for TMA
  constexpr CUtensorMapDataType kType =
      std::is_same_v<T, __nv_bfloat16> ? CU_TENSOR_MAP_DATA_TYPE_BFLOAT16 : CU_TENSOR_MAP_DATA_TYPE_FLOAT16;

  Sm90AttentionParams p{};
  if (!encode_bshd(encode, &p.q_map, kType, Q, D, s.H, s.Sq, s.B, Cfg::kBlockM) ||
      !encode_bshd(encode, &p.k_map, kType, K, D, s.KVH, s.Sk, s.B, Cfg::kBlockN) ||
      !encode_bshd(encode, &p.v_map, kType, V, D, s.KVH, s.Sk, s.B, Cfg::kBlockN))
    return cudaErrorInvalidValue;
  p.a = attn_sm80::make_params(s, Q, K, V, O);
  p.a.m_blocks = static_cast<int>((s.Sq + Cfg::kBlockM - 1) / Cfg::kBlockM);
  const int64_t blocks = int64_t(p.a.m_blocks) * s.H * s.B;
  if (blocks > INT_MAX) return cudaErrorInvalidValue;
  kernel<<<static_cast<unsigned>(blocks), kThreads, kSmem, stream>>>(p);
  return cudaGetLastError();
}

template <class T>
cudaError_t launch(const T* Q, const T* K, const T* V, T* O, const AttentionShape& s, cudaStream_t stream) {
  if (!s.valid()) return cudaErrorInvalidValue;
  if (s.Sq > INT_MAX || s.Sk > INT_MAX || s.H > INT_MAX || s.B > INT_MAX) return cudaErrorInvalidValue;
  if (!aligned16(Q) || !aligned16(K) || !aligned16(V) || !aligned16(O)) return cudaErrorInvalidValue;
  switch (s.D) {
    case 64: return launch_kernel1<64, T>(Q, K, V, O, s, stream);
    case 128: return launch_kernel1<128, T>(Q, K, V, O, s, stream);
    case 256: return launch_kernel1<256, T>(Q, K, V, O, s, stream);
    default: return cudaErrorInvalidValue;
  }
}

}  // namespace

cudaError_t attention_wgmma_sm90_bf16(const __nv_bfloat16* Q, const __nv_bfloat16* K, const __nv_bfloat16* V,
                                      __nv_bfloat16* O, const AttentionShape& shape, cudaStream_t stream) {
  return launch(Q, K, V, O, shape, stream);
}

cudaError_t attention_wgmma_sm90_fp16(const __half* Q, const __half* K, const __half* V, __half* O,
                                      const AttentionShape& shape, cudaStream_t stream) {
  return launch(Q, K, V, O, shape, stream);
}

}  // namespace aicbench::kernels
