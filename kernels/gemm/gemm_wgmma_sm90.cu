// Hopper GEMM: TMA + mbarrier ring + wgmma, warp-specialised and persistent (sm_90a only).
//
//   C[M x N] = A[M x K] * B[N x K]^T   ("TN", gemm_api.hpp), fp32 accumulation.
//   bf16 -> bf16, fp16 -> fp16, e4m3 -> bf16 (times scale_a * scale_b, read on the device).
//
// Versions (each kept; later ones say what they add):
//   gemm_wgmma_sm90_kernel1  128x256 block tile, 4-stage TMA ring with 128-byte swizzle, one
//                            producer warpgroup (one thread issues TMA) and two consumer
//                            warpgroups issuing m64n256 wgmma from shared-memory descriptors,
//                            setmaxnreg 40/232, persistent grid with a static tile scheduler
//                            rasterised in bands of 16 tile-rows, epilogue staged per warp
//                            through swizzled shared memory into 16-byte predicated stores.
//   gemm_wgmma_sm90_kernel2  + 2-CTA thread block clusters on vertically adjacent tiles: each CTA
//                            loads its A and half of the B tile they share, multicast by TMA
//                            into both, so a CTA reads 32 KB from L2 per K-tile instead of 48 KB
//                            (details above the kernel). Entry points gemm_wgmma_sm90_multicast_*.
//                            Stages go back to the producers with plain (CTA-scope) mbarrier
//                            arrives and waits, as CUTLASS's cluster barrier does: no fence in
//                            either loop (below, "kernel2's barriers").
//
// Pipeline, per CTA (384 threads = 3 warpgroups):
//   setup     thread 0 initialises full[s] (1 arrival + TMA bytes) and empty[s] (8 arrivals: one
//             per consumer warp) for every stage s; all threads sync; roles split.
//   producer  warpgroup 0 drops to 40 registers; thread 0 walks the CTA's tiles and, per K-tile,
//             waits empty[s], arms full[s] with the stage's bytes and issues two TMA loads
//             (A: 128 rows, B: 256 rows, 128 bytes of K each) that complete on full[s].
//   consumers warpgroups 1 and 2 rise to 232 registers; warpgroup w owns rows 64w..64w+63 of the
//             block tile and all 256 columns (128 fp32 accumulators per thread). Per K-tile:
//             wait full[s], issue 4 wgmma (k16 x 4 for 16-bit, k32 x 4 for e4m3), commit, then
//             wait until only this group is pending and release the previous stage's slot
//             (so the tensor cores always have the next group queued).
//   epilogue  each consumer warp converts its 16x256 accumulators 64 columns at a time into a
//             private 2 KB shared buffer (swizzled, conflict-free) and writes them out as 16-byte
//             row segments, predicated on M and N; meanwhile the producer is already filling the
//             ring for the next tile.
//
// Tile sizes and why:
//   BLOCK_K = 128 bytes (64 bf16/fp16, 128 e4m3): one 128-byte swizzle row, the widest TMA
//     swizzle, which makes wgmma's shared-memory reads bank-conflict free.
//   BLOCK_M x BLOCK_N = 128 x 256: n256 is wgmma's widest instruction (fewest issues, most reuse
//     of A per byte), and two m64 consumers make 128 rows. A stage is 16 KB (A) + 32 KB (B) =
//     48 KB; 4 stages (192 KB) + 16 KB epilogue buffers fit the 227 KB a block may use; 5 stages
//     would not.
//     Per K-tile a CTA does 128*256*64*2 = 4.2 MFLOP for 48 KB of loads (85 FLOP per byte from L2).
//   Register split: 384 threads at launch get 168 registers each; setmaxnreg gives the producer
//     40 and consumers 232 (128*40 + 256*232 = 64,512 <= 65,536). Consumers need 128 accumulators
//     plus addressing.
//   Scheduler: grid = min(#SMs, #tiles); CTA b takes tiles b, b + grid, b + 2 grid, ...; tile t
//     lies in band t / (16 * tiles_n) of 16 tile-rows, walked down M first, so the ~132 tiles in
//     flight at once share 16 A-slabs and ~9 B-slabs in L2.
//
// Tensor maps: built on the host on every call (cuTensorMapEncodeTiled, obtained at run time with
// cudaGetDriverEntryPointByVersion so nothing links libcuda). Encoding is pure host arithmetic
// (~1 us, no driver round trip, no allocation) and travels in the launch's parameters, so there is
// no cache to go stale when a buffer is freed and its address reused.
//
// Constraints: K % 8 == 0 (bf16/fp16) or K % 16 == 0 (e4m3) and A, B 16-byte aligned, because TMA
// needs 16-byte aligned row strides and base addresses; otherwise cudaErrorInvalidValue. M and N
// are free (TMA zero-fills out-of-bounds loads; stores are predicated); K == 0 writes zeros.
//
// Measured: not yet on a GPU (no results/gpu/ file records it). Targets, for kernel1 and kernel2:
// bf16 at 8192^3 >= 100% of cuBLAS(Lt) (~795 TFLOP/s on H100 SXM); fp8 >= 95% of cuBLASLt in
// the same accumulation mode (this kernel accumulates all of K in the wgmma accumulator, so the
// baseline is cuBLASLt's fast accumulation); fp16 reported. Verified without a GPU: ptxas (no spills); CPU tests of the layout
// arithmetic against the PTX ISA (tests/test_sm90_layout.cpp: what wgmma reads through our
// descriptors is what TMA's 128B swizzle wrote; the accumulator fragment and the epilogue's
// staging put every output in its column) and of both kernels' tile orders (every tile exactly
// once, tests/test_tile_scheduler.cpp); a host simulation of the mbarrier ring's parities.
//
// kernel2's barriers (issue 9): the consumers used to release each stage with
// mbarrier.arrive.release.cluster, which ptxas compiles to MEMBAR.ALL.CTA + MEMBAR.ALL.GPU +
// ERRBAR + CGAERRBAR before every release, i.e. every consumer warp waited once per K-tile for a
// GPU-wide fence, and the producer waited with .acquire.cluster, which adds an L1 invalidate
// (CCTL.IVALL) after every wait. Both are now the plain forms (the memory-ordering argument is at
// the consumers' release in kernel2). SASS, CUDA 13.0, kernel2's mainloop per K-tile: 124
// instructions with 2 MEMBAR (bf16, fp16; e4m3 126) -> 120 with none (e4m3 122); producer loop:
// no CCTL; check-kernels.sh now fails on any MEMBAR or CCTL in either loop. Expected effect, to be
// measured: a K-tile is ~0.7 us of tensor work per CTA at 800 TFLOP/s, and a GPU-scope MEMBAR
// costs at least a round trip to L2 (more under a GEMM's load) in the path from one wgmma group's
// wait to the next stage's release; with the ring 4 stages deep that delay surfaced as a stall
// whenever it outlasted the group in flight. Without it kernel2's consumer loop matches kernel1's
// (the remote arrive is one more SYNCS.ARRIVE, issued by a second lane), so kernel2 should now
// keep the tensor cores as busy as kernel1 (118 instructions per K-tile; kernel2's two more are
// the second lane's remote arrive) while reading a third less from L2.
//
// The default Hopper kernel, until a GPU decides: kernel2 (`wgmma_sm90_multicast`, the one the
// acceptance suite runs; the quick and gemm suites run both). At cuBLAS's bf16 rate (~795 TFLOP/s
// on H100 SXM) kernel1's CTAs read ~9 TB/s from L2 together (48 KB per 0.7 us K-tile, 132 SMs),
// kernel2's ~6 TB/s (32 KB); for fp8 both double. We expect the first to be more than H100's L2
// delivers to the SMs and the second to be within it (an assumption: scripts/gpu-profile.sh's ncu
// memory workload shows the L2 throughput of both). The price of kernel2 was the fences above,
// now gone; what remains is that clusters must be co-scheduled in one GPC (the grid is sized by
// cudaOccupancyMaxActiveClusters, which may leave an SM of an odd-sized GPC idle) and that each
// CTA waits for its peer's half of B. If the first GPU run shows kernel1 ahead, switch the
// acceptance suite (specs/suites/acceptance.json and specs/acceptance/*.json) back to wgmma_sm90.
//
// Next to try, most promising first: measure kernel2 against kernel1 (L2->SM traffic is the likely
// limiter at ~9 TB/s of L2 reads for 800 TFLOP/s; if multicast helps, also share A across a 2x2
// cluster); an epilogue that overlaps the next tile's main loop (stmatrix + TMA store, or two
// consumer warpgroups on different tiles, "ping-pong"); a smarter order for the last partial wave
// (2048 tiles on 132 SMs at 8192^2 leave the last wave half empty: stream-K or split the tail
// tiles); for fp8, whose math rate is twice bf16's at the same bytes per stage, multicast matters
// twice as much.
#include <cuda.h>
#include <cudaTypedefs.h>  // PFN_cuTensorMapEncodeTiled

#include <algorithm>
#include <array>
#include <cstdint>
#include <mutex>

#include "kernels/gemm/gemm_api.hpp"
#include "kernels/hopper_primitives.cuh"
#include "kernels/hopper_tensor_map.hpp"
#include "kernels/gemm/sm90_smem_layout.hpp"
#include "kernels/gemm/tile_scheduler.hpp"

namespace aicbench::kernels {

namespace {

constexpr int kBandTiles = 16;  // tile-rows per rasterisation band (tile_scheduler.hpp)

// ------------------------------------------------------------------------------------------------
// Configuration shared by the three precisions (the byte geometry is identical)
// ------------------------------------------------------------------------------------------------
constexpr int kBlockM = 128;
constexpr int kBlockN = 256;
constexpr int kRowBytes = 128;  // bytes of K per tile row = TMA 128B swizzle width
constexpr int kStages = 4;
constexpr int kConsumerWarpgroups = 2;
constexpr int kThreads = 128 * (1 + kConsumerWarpgroups);
constexpr int kWgRows = kBlockM / kConsumerWarpgroups;  // 64: one m64 wgmma per consumer
constexpr int kStageBytesA = kBlockM * kRowBytes;       // 16 KB
constexpr int kStageBytesB = kBlockN * kRowBytes;       // 32 KB
constexpr int kProducerRegs = 40;
constexpr int kConsumerRegs = 232;
constexpr int kConsumerWarps = 4 * kConsumerWarpgroups;
constexpr int kEpiRows = 16;  // rows of C one consumer warp owns
constexpr int kEpiCols = 64;  // columns staged per epilogue pass (128 bytes of bf16/fp16)

static_assert(kProducerRegs * 128 + kConsumerRegs * 128 * kConsumerWarpgroups <= 65536,
              "register split must fit the register file");
static_assert(kWgRows == 64 && kBlockN == 256, "one m64n256 wgmma per consumer per k-step");

// Shared memory, one per CTA; the dynamic allocation is aligned up to 1024 bytes by hand, since
// the 128B swizzle pattern repeats every 1024 bytes and TMA and wgmma must agree on its phase.
struct SharedStorage {
  // (stage, BLOCK_M rows, 128 B of K), row r's 16-byte chunk c at chunk c ^ (r % 8)
  alignas(1024) uint8_t a[kStages][kStageBytesA];
  // (stage, BLOCK_N rows, 128 B of K), same swizzle
  alignas(1024) uint8_t b[kStages][kStageBytesB];
  // (consumer warp, 16 rows, 64 columns of 2-byte outputs), chunk c of row r at c ^ (r % 8)
  alignas(128) uint8_t c[kConsumerWarps][kEpiRows * kEpiCols * 2];
  uint64_t full[kStages];   // TMA -> consumers: stage s holds K-tile data
  uint64_t empty[kStages];  // consumers -> producer: stage s may be overwritten
};
constexpr size_t kSmemBytes = sizeof(SharedStorage) + 1024;  // + alignment slack
static_assert(kSmemBytes <= 227 * 1024, "exceeds the 227 KB a Hopper block may use");

enum class InKind { bf16, fp16, e4m3 };

struct GemmParams {
  CUtensorMap a_map;  // A: dims (K, M), box (BLOCK_K, 128), 128B swizzle
  CUtensorMap b_map;  // B: dims (K, N), box (BLOCK_K, 256), 128B swizzle
  void* C;            // M x N, row-major, 2-byte elements (bf16 or fp16)
  const float* scale_a;  // e4m3 only
  const float* scale_b;
  int M, N, K;
  int tiles_m, tiles_n, k_tiles;
  int vec_stores;  // 1 when every 8-column row segment of C is 16-byte aligned
};

template <InKind kKind>
__device__ __forceinline__ void wgmma_step(float (&d)[128], uint64_t da, uint64_t db,
                                           uint32_t accumulate) {
  if constexpr (kKind == InKind::bf16) sm90::wgmma_m64n256k16_bf16(d, da, db, accumulate);
  if constexpr (kKind == InKind::fp16) sm90::wgmma_m64n256k16_f16(d, da, db, accumulate);
  if constexpr (kKind == InKind::e4m3) sm90::wgmma_m64n256k32_e4m3(d, da, db, accumulate);
}

// Two fp32 -> one 32-bit word of two outputs (bf16 for bf16/e4m3 inputs, fp16 for fp16).
template <InKind kKind>
__device__ __forceinline__ uint32_t pack2(float lo, float hi) {
  if constexpr (kKind == InKind::fp16) {
    const __half2 h = __floats2half2_rn(lo, hi);
    return *reinterpret_cast<const uint32_t*>(&h);
  } else {
    const __nv_bfloat162 h = __floats2bfloat162_rn(lo, hi);
    return *reinterpret_cast<const uint32_t*>(&h);
  }
}

// Set when this translation unit's device code was compiled for sm_90a; the host reads the value
// of the cubin the driver loaded, so a binary without sm_90a code reports "not supported" rather
// than running the empty kernel below.
__device__ int g_wgmma_sm90_compiled = AICBENCH_SM90A_DEVICE;

// ------------------------------------------------------------------------------------------------
// Consumer pieces shared by the kernels
// ------------------------------------------------------------------------------------------------
// One tile's main loop for a consumer warpgroup: per K-tile, wait until its stage is full, issue
// the 4 wgmma on it, commit, then wait until only this group is pending and release the previous
// stage's slot (so the tensor cores always have the next group queued). `it` counts the K-tiles
// this CTA consumed over all its tiles: the ring position, kept in step with the producer's.
// `release(stage)` runs on every lane of the warp; it arrives on the slot's empty barrier(s).
template <InKind kKind, class Release>
__device__ __forceinline__ void consume_k_tiles(SharedStorage& s, float (&acc)[128], uint32_t& it,
                                                int k_tiles, int wg, Release release) {
  using namespace sm90;
  uint32_t prev_stage = 0;
  for (int kt = 0; kt < k_tiles; ++kt, ++it) {
    const uint32_t stage = it % kStages;
    mbar_wait(&s.full[stage], (it / kStages) & 1);  // round r completes full's phase r
    // A: this warpgroup's 64 rows (8 groups of 8 rows, 1024 B apart); B: all 256 rows.
    const uint64_t da = make_sw128_kmajor_desc(smem_u32(s.a[stage]) + wg * kWgRows * kRowBytes);
    const uint64_t db = make_sw128_kmajor_desc(smem_u32(s.b[stage]));
    fence_accumulators(acc);
    wgmma_fence();
#pragma unroll
    for (int ks = 0; ks < kRowBytes / 32; ++ks) {
      // +32 bytes of K per step: +2 in the descriptor's address field (16-byte units).
      wgmma_step<kKind>(acc, da + 2 * ks, db + 2 * ks, (kt | ks) != 0);
    }
    wgmma_commit_group();
    fence_accumulators(acc);
    if (kt > 0) {
      // The previous K-tile's group is done: its stage can be refilled.
      wgmma_wait_group<1>();
      fence_accumulators(acc);
      release(prev_stage);
    }
    prev_stage = stage;
  }
  wgmma_wait_group<0>();
  fence_accumulators(acc);
  release(prev_stage);
}

// A consumer warp's epilogue: rows row0 .. row0 + 15 and columns n0 .. n0 + 255 of C, from the
// warp's 16 rows of its warpgroup's accumulators (accumulator_coord in sm90_smem_layout.hpp: lane
// l holds rows l/4 and l/4 + 8, columns 8j + 2(l%4) and +1 for j < 32). Per 64-column pass: the
// pairs go into the warp's 128-byte-swizzled buffer, then come back as 16-byte row segments, 8
// lanes per row, for coalesced stores (staging_* in the same header).
template <InKind kKind>
__device__ __forceinline__ void store_warp_rows(const float (&acc)[128], uint8_t* cbuf,
                                                const GemmParams& p, int row0, int n0, int lane,
                                                float out_scale) {
  using sm90::accumulator_index;
  using sm90::staging_read_segment;
  using sm90::staging_write_offset;
  if (row0 >= p.M) return;
#pragma unroll
  for (int pass = 0; pass < kBlockN / kEpiCols; ++pass) {
    const int col_base = n0 + pass * kEpiCols;
    if (col_base >= p.N) break;  // warp-uniform
#pragma unroll
    for (int jl = 0; jl < 8; ++jl) {  // 16-byte chunk jl of the row = columns 8 jl..8 jl+7
      const int j = pass * 8 + jl;
#pragma unroll
      for (int half = 0; half < 2; ++half) {
        const uint32_t pair = pack2<kKind>(acc[accumulator_index(j, half, 0)] * out_scale,
                                           acc[accumulator_index(j, half, 1)] * out_scale);
        *reinterpret_cast<uint32_t*>(cbuf + staging_write_offset(lane, jl, half)) = pair;
      }
    }
    __syncwarp();
#pragma unroll
    for (int step = 0; step < kEpiRows / 4; ++step) {
      const sm90::StagedSegment seg = staging_read_segment(lane, step);
      const uint4 v = *reinterpret_cast<const uint4*>(cbuf + seg.offset);
      const int grow = row0 + seg.row, gcol = col_base + seg.chunk * 8;
      if (grow < p.M && gcol < p.N) {
        uint16_t* dst = static_cast<uint16_t*>(p.C) + static_cast<size_t>(grow) * p.N + gcol;
        if (p.vec_stores && gcol + 8 <= p.N) {
          *reinterpret_cast<uint4*>(dst) = v;
        } else {
          const uint32_t w[4] = {v.x, v.y, v.z, v.w};
#pragma unroll
          for (int e = 0; e < 8; ++e) {
            if (gcol + e < p.N) dst[e] = static_cast<uint16_t>(w[e / 2] >> (16 * (e % 2)));
          }
        }
      }
    }
    __syncwarp();  // the next pass overwrites the buffer
  }
}

template <InKind kKind>
__device__ __forceinline__ float output_scale(const GemmParams& p) {
  return kKind == InKind::e4m3 ? (*p.scale_a) * (*p.scale_b) : 1.0f;
}

// Elements of K per K-tile: one 128-byte swizzle row.
template <InKind kKind>
constexpr int kKTileElems = kKind == InKind::e4m3 ? kRowBytes : kRowBytes / 2;

// ------------------------------------------------------------------------------------------------
// kernel1
// ------------------------------------------------------------------------------------------------
template <InKind kKind>
__global__ void __launch_bounds__(kThreads, 1)
gemm_wgmma_sm90_kernel1(const __grid_constant__ GemmParams p) {
#if AICBENCH_SM90A_DEVICE
  using namespace sm90;
  // ==== setup ===================================================================================
  extern __shared__ uint8_t smem_raw[];
  const uint32_t raw_addr = smem_u32(smem_raw);
  const uint32_t pad = ((raw_addr + 1023) & ~1023u) - raw_addr;
  SharedStorage& s = *reinterpret_cast<SharedStorage*>(smem_raw + pad);

  const int num_tiles = p.tiles_m * p.tiles_n;
  const int warpgroup = threadIdx.x / 128;

  if (threadIdx.x == 0) {
    for (int i = 0; i < kStages; ++i) {
      mbar_init(&s.full[i], 1);
      mbar_init(&s.empty[i], kConsumerWarps);
    }
    mbar_init_fence();
    tma_prefetch_descriptor(&p.a_map);
    tma_prefetch_descriptor(&p.b_map);
  }
  __syncthreads();

  if (warpgroup == 0) {
    // ==== producer ==============================================================================
    setmaxnreg_dec<kProducerRegs>();
    if (threadIdx.x == 0) {
      uint32_t it = 0;  // K-tiles issued by this CTA so far, over all its tiles
      for (int tile = blockIdx.x; tile < num_tiles; tile += gridDim.x) {
        const TileCoord tc = banded_tile(tile, p.tiles_m, p.tiles_n, kBandTiles);
        const int m0 = tc.m * kBlockM, n0 = tc.n * kBlockN;
        for (int kt = 0; kt < p.k_tiles; ++kt, ++it) {
          const uint32_t stage = it % kStages;
          // Round r = it / kStages may refill the slot once the consumers released round r - 1,
          // i.e. completed empty's phase r - 1, whose parity is (r & 1) ^ 1. Round 0 passes at
          // once (a fresh barrier counts its phase "-1", parity 1, as complete).
          mbar_wait(&s.empty[stage], ((it / kStages) & 1) ^ 1);
          mbar_arrive_expect_tx(&s.full[stage], kStageBytesA + kStageBytesB);
          const int k_elem = kt * kKTileElems<kKind>;
          tma_load_2d(s.a[stage], &p.a_map, &s.full[stage], k_elem, m0);
          tma_load_2d(s.b[stage], &p.b_map, &s.full[stage], k_elem, n0);
        }
      }
    }
  } else {
    // ==== consumers =============================================================================
    setmaxnreg_inc<kConsumerRegs>();
    const int wg = warpgroup - 1;  // 0 or 1: rows 64 wg .. 64 wg + 63 of the block tile
    const int warp = (threadIdx.x % 128) / 32, lane = threadIdx.x % 32;
    const float out_scale = output_scale<kKind>(p);
    uint8_t* cbuf = s.c[wg * 4 + warp];  // (16 rows, 64 cols) staging buffer of this warp
    auto release = [&](uint32_t stage) {
      if (lane == 0) mbar_arrive(&s.empty[stage]);
    };

    float acc[128];
    uint32_t it = 0;
    for (int tile = blockIdx.x; tile < num_tiles; tile += gridDim.x) {
      const TileCoord tc = banded_tile(tile, p.tiles_m, p.tiles_n, kBandTiles);
      const int m0 = tc.m * kBlockM, n0 = tc.n * kBlockN;
      consume_k_tiles<kKind>(s, acc, it, p.k_tiles, wg, release);
      // The producer is already filling the ring for the next tile meanwhile.
      store_warp_rows<kKind>(acc, cbuf, p, m0 + wg * kWgRows + warp * kEpiRows, n0, lane,
                             out_scale);
    }
  }
#endif  // AICBENCH_SM90A_DEVICE
}

// ------------------------------------------------------------------------------------------------
// kernel2: kernel1 + 2-CTA clusters sharing B through TMA multicast
// ------------------------------------------------------------------------------------------------
// The two CTAs of a cluster compute vertically adjacent tiles (tile-rows 2i and 2i + 1, the same
// tile-column), so they need the same 256 rows of B. Each loads its own A (16 KB) and one half of
// B (128 rows, 16 KB), multicast into both CTAs' stage: 32 KB of L2 reads per CTA and K-tile
// instead of 48 KB. What changes against kernel1:
//   full[s]   still one arrival (this CTA's producer) + 48 KB; 16 KB of them come from the peer's
//             multicast, possibly before this CTA's producer armed the phase (the transaction
//             count may go negative meanwhile; the pending arrival keeps the phase open).
//   empty[s]  16 arrivals: all 8 consumer warps of both CTAs, since either producer's multicast
//             overwrites the slot in both CTAs. Consumers arrive locally and remotely (mapa),
//             with plain arrives and waits: no cluster-scope fence in the mainloop (why: at the
//             consumers' release below).
//   setup     a cluster barrier after initialisation: no multicast or remote arrival may reach a
//             peer's barriers before the peer initialised them.
//   exit      a cluster barrier before returning: a CTA's barriers must outlive the peer's last
//             remote arrival on them.
//   tiles     the scheduler walks cluster tiles (256 x 256, two tile-rows) with kernel1's banded
//             order; when tiles_m is odd the last cluster-row's rank-1 tile lies wholly below M:
//             that CTA still loads (rows of A clamped into the matrix) and multicasts its half of
//             B, since its peer needs it, and stores nothing.
constexpr int kClusterSize = 2;  // set at launch (cudaLaunchAttributeClusterDimension)
constexpr int kBHalfRows = kBlockN / kClusterSize;       // 128 rows of B per CTA's multicast
constexpr int kBHalfBytes = kStageBytesB / kClusterSize;  // 16 KB
static_assert(kBHalfBytes % 1024 == 0, "each half of B must start on a swizzle-pattern boundary");
static_assert(kBandTiles % kClusterSize == 0, "a band holds whole cluster tiles");

template <InKind kKind>
__global__ void __launch_bounds__(kThreads, 1)
gemm_wgmma_sm90_kernel2(const __grid_constant__ GemmParams p) {
#if AICBENCH_SM90A_DEVICE
  using namespace sm90;
  constexpr uint16_t kClusterMask = (1u << kClusterSize) - 1;  // multicast to every CTA
  // ==== setup ===================================================================================
  extern __shared__ uint8_t smem_raw[];
  const uint32_t raw_addr = smem_u32(smem_raw);
  const uint32_t pad = ((raw_addr + 1023) & ~1023u) - raw_addr;  // the same in every CTA
  SharedStorage& s = *reinterpret_cast<SharedStorage*>(smem_raw + pad);

  // Launched without the cluster attribute, every CTA would be rank 0 of a cluster of one and the
  // remote arrivals would go astray: fail loudly instead.
  if (cluster_nctarank() != kClusterSize) __trap();
  const int rank = static_cast<int>(cluster_ctarank());  // == blockIdx.x % kClusterSize (1-D)
  const int cluster = blockIdx.x / kClusterSize, clusters = gridDim.x / kClusterSize;
  // < 2^31: the launcher checked
  const int num_cluster_tiles = static_cast<int>(cluster_items(p.tiles_m, p.tiles_n, kClusterSize));
  const int warpgroup = threadIdx.x / 128;

  if (threadIdx.x == 0) {
    for (int i = 0; i < kStages; ++i) {
      mbar_init(&s.full[i], 1);
      mbar_init(&s.empty[i], kConsumerWarps * kClusterSize);
    }
    mbar_init_fence();
    tma_prefetch_descriptor(&p.a_map);
    tma_prefetch_descriptor(&p.b_map);
  }
  cluster_sync();  // every CTA's barriers exist before anyone signals them

  if (warpgroup == 0) {
    // ==== producer ==============================================================================
    setmaxnreg_dec<kProducerRegs>();
    if (threadIdx.x == 0) {
      uint32_t it = 0;
      for (int ct = cluster; ct < num_cluster_tiles; ct += clusters) {
        const TileCoord tc = cluster_tile(ct, rank, p.tiles_m, p.tiles_n, kClusterSize, kBandTiles);
        const int m0 = tc.m * kBlockM, n0 = tc.n * kBlockN;
        // Boxes wholly outside the matrix are never stored from; load rows that exist instead.
        const int a_row = m0 < p.M ? m0 : 0;
        const int b_row = n0 + rank * kBHalfRows < p.N ? n0 + rank * kBHalfRows : 0;
        for (int kt = 0; kt < p.k_tiles; ++kt, ++it) {
          const uint32_t stage = it % kStages;
          mbar_wait(&s.empty[stage], ((it / kStages) & 1) ^ 1);  // as kernel1
          mbar_arrive_expect_tx(&s.full[stage], kStageBytesA + kStageBytesB);
          const int k_elem = kt * kKTileElems<kKind>;
          tma_load_2d(s.a[stage], &p.a_map, &s.full[stage], k_elem, a_row);
          tma_load_2d_multicast(s.b[stage] + rank * kBHalfBytes, &p.b_map, &s.full[stage], k_elem,
                                b_row, kClusterMask);
        }
      }
    }
  } else {
    // ==== consumers =============================================================================
    setmaxnreg_inc<kConsumerRegs>();
    const int wg = warpgroup - 1;
    const int warp = (threadIdx.x % 128) / 32, lane = threadIdx.x % 32;
    const float out_scale = output_scale<kKind>(p);
    uint8_t* cbuf = s.c[wg * 4 + warp];
    // Lane r releases the slot in cluster CTA r (this one included), with the plain arrive
    // (.release.cta by default, no fence; see mbar_arrive_cluster). Why that is enough: the
    // hazard is write-after-read, the next round's TMA (either CTA's producer, multicast into
    // both) overwriting the stage while this warp's wgmma still reads it. Those reads are the
    // wgmma operations' own (async proxy, through the descriptors); no thread here reads or
    // writes the stage with ordinary loads or stores. consume_k_tiles calls release(stage) only
    // after wgmma.wait_group has returned for the group that read the stage, and a returned
    // wait means those wgmma operations are complete, their reads included. So when the arrival
    // happens (after the wait, in program order) there is no access of this thread to the stage
    // left to order, and nothing for the producer to see: it reads no data we wrote, it only
    // starts a TMA after its wait on empty[] saw all 16 arrivals. A .release.cluster arrive
    // orders this thread's earlier accesses for the peer CTA, of which there are none that
    // matter, and cost a MEMBAR.ALL.GPU before every release; an .acquire.cluster wait in the
    // producer cost an L1 invalidate (CCTL.IVALL) after every wait. CUTLASS's cluster barrier
    // uses the same plain forms.
    auto release = [&](uint32_t stage) {
      if (lane < kClusterSize) mbar_arrive_cluster(&s.empty[stage], lane);
    };

    float acc[128];
    uint32_t it = 0;
    for (int ct = cluster; ct < num_cluster_tiles; ct += clusters) {
      const TileCoord tc = cluster_tile(ct, rank, p.tiles_m, p.tiles_n, kClusterSize, kBandTiles);
      const int m0 = tc.m * kBlockM, n0 = tc.n * kBlockN;
      consume_k_tiles<kKind>(s, acc, it, p.k_tiles, wg, release);
      store_warp_rows<kKind>(acc, cbuf, p, m0 + wg * kWgRows + warp * kEpiRows, n0, lane,
                             out_scale);
    }
  }
  // Keep this CTA's barriers alive until the peer's last remote arrival has landed: the plain
  // arrives themselves order nothing across CTAs, but barrier.cluster.arrive releases at cluster
  // scope everything its thread did before it, the remote arrives included.
  cluster_sync();
#endif  // AICBENCH_SM90A_DEVICE
}

// ------------------------------------------------------------------------------------------------
// Launchers
// ------------------------------------------------------------------------------------------------
enum class Version { kernel1, kernel2 };

// Launch configuration of kernel2: `grid` CTAs in clusters of kClusterSize along x. The cluster
// shape is given at launch rather than by __cluster_dims__, which would not compile for the
// sm_80 pass of a multi-architecture build.
struct ClusterLaunch {
  cudaLaunchAttribute attr{};
  cudaLaunchConfig_t config{};
  ClusterLaunch(int grid, cudaStream_t stream) {
    attr.id = cudaLaunchAttributeClusterDimension;
    attr.val.clusterDim.x = kClusterSize;
    attr.val.clusterDim.y = 1;
    attr.val.clusterDim.z = 1;
    config.gridDim = dim3(grid);
    config.blockDim = dim3(kThreads);
    config.dynamicSmemBytes = kSmemBytes;
    config.stream = stream;
    config.attrs = &attr;
    config.numAttrs = 1;
  }
  ClusterLaunch(const ClusterLaunch&) = delete;  // config points at attr
  ClusterLaunch& operator=(const ClusterLaunch&) = delete;
};

// Per device, queried once: can it run the kernels (CC 9.0 and sm_90a code present), how many
// CTAs of kernel1 and clusters of kernel2 fit at once (the persistent grids' sizes).
// The first call on a device does a synchronous cudaMemcpyFromSymbol, so it must not be the first
// call inside a CUDA graph capture (the harness validates, uncaptured, before it times).
struct DeviceSupport {
  bool probed = false;
  cudaError_t status = cudaErrorNotSupported;          // both kernels
  int sms = 0;                                         // kernel1: one CTA per SM
  cudaError_t cluster_status = cudaErrorNotSupported;  // kernel2 as well (may fail alone)
  int max_active_clusters = 0;  // kernel2: clusters resident at once (GPC sizes limit it)
};

cudaError_t probe_device(int device, DeviceSupport& out) {
  int major = 0, minor = 0;
  cudaError_t err = cudaDeviceGetAttribute(&major, cudaDevAttrComputeCapabilityMajor, device);
  if (err == cudaSuccess)
    err = cudaDeviceGetAttribute(&minor, cudaDevAttrComputeCapabilityMinor, device);
  if (err == cudaSuccess)
    err = cudaDeviceGetAttribute(&out.sms, cudaDevAttrMultiProcessorCount, device);
  if (err != cudaSuccess) return err;
  if (major != 9 || minor != 0) return cudaErrorNotSupported;
  // The fatbin may hold no sm_90a code for this device (e.g. built for sm_80 only, JIT-compiled
  // from PTX): then the kernel body is empty and the flag reads 0.
  int compiled = 0;
  err = cudaMemcpyFromSymbol(&compiled, g_wgmma_sm90_compiled, sizeof(int));
  if (err != cudaSuccess) {
    (void)cudaGetLastError();
    return cudaErrorNotSupported;  // no loadable image for this device
  }
  if (!compiled) return cudaErrorNotSupported;
  using Kernel = void (*)(GemmParams);
  const Kernel kernels[] = {
      gemm_wgmma_sm90_kernel1<InKind::bf16>, gemm_wgmma_sm90_kernel1<InKind::fp16>,
      gemm_wgmma_sm90_kernel1<InKind::e4m3>, gemm_wgmma_sm90_kernel2<InKind::bf16>,
      gemm_wgmma_sm90_kernel2<InKind::fp16>, gemm_wgmma_sm90_kernel2<InKind::e4m3>};
  for (Kernel kernel : kernels) {
    err = cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize,
                               static_cast<int>(kSmemBytes));
    if (err != cudaSuccess) return err;
  }
  // kernel2's three instantiations use the same resources; ask for one of them.
  ClusterLaunch launch(kClusterSize, nullptr);
  err = cudaOccupancyMaxActiveClusters(&out.max_active_clusters,
                                       gemm_wgmma_sm90_kernel2<InKind::bf16>, &launch.config);
  if (err != cudaSuccess) {
    (void)cudaGetLastError();
    out.cluster_status = err;
  } else {
    out.cluster_status = out.max_active_clusters > 0 ? cudaSuccess : cudaErrorNotSupported;
  }
  return cudaSuccess;
}

cudaError_t device_support(const DeviceSupport** out) {
  static std::mutex mutex;
  static std::array<DeviceSupport, 64> cache;
  int device = 0;
  cudaError_t err = cudaGetDevice(&device);
  if (err != cudaSuccess) return err;
  if (device < 0 || device >= static_cast<int>(cache.size())) return cudaErrorNotSupported;
  std::lock_guard<std::mutex> lock(mutex);
  DeviceSupport& d = cache[device];
  if (!d.probed) {
    d.status = probe_device(device, d);
    d.probed = true;
  }
  *out = &d;
  return d.status;
}

// Row-major rows x K matrix of `elem_bytes` elements -> tensor map with box (BLOCK_K, box_rows).
bool encode_operand(PFN_cuTensorMapEncodeTiled_v12000 encode, CUtensorMap* map,
                    CUtensorMapDataType type, int elem_bytes, const void* ptr, int rows, int K,
                    int box_rows) {
  const cuuint64_t dims[2] = {static_cast<cuuint64_t>(K), static_cast<cuuint64_t>(rows)};
  const cuuint64_t strides[1] = {static_cast<cuuint64_t>(K) * elem_bytes};  // bytes, dim 1
  const cuuint32_t box[2] = {static_cast<cuuint32_t>(kRowBytes / elem_bytes),
                             static_cast<cuuint32_t>(box_rows)};
  const cuuint32_t elem_strides[2] = {1, 1};
  return encode(map, type, 2, const_cast<void*>(ptr), dims, strides, box, elem_strides,
                CU_TENSOR_MAP_INTERLEAVE_NONE, CU_TENSOR_MAP_SWIZZLE_128B,
                CU_TENSOR_MAP_L2_PROMOTION_L2_256B, CU_TENSOR_MAP_FLOAT_OOB_FILL_NONE) ==
         CUDA_SUCCESS;
}

template <Version kVersion, InKind kKind>
cudaError_t launch(const void* A, const void* B, void* C, const float* scale_a,
                   const float* scale_b, int M, int N, int K, cudaStream_t stream) {
  constexpr int kElemBytes = kKind == InKind::e4m3 ? 1 : 2;
  constexpr int kKMultiple = 16 / kElemBytes;  // 16-byte row strides for TMA
  // e4m3 travels as raw bytes: TMA only copies, and its zero fill (0x00) is +0 in e4m3 too.
  constexpr CUtensorMapDataType kTmaType =
      kKind == InKind::bf16   ? CU_TENSOR_MAP_DATA_TYPE_BFLOAT16
      : kKind == InKind::fp16 ? CU_TENSOR_MAP_DATA_TYPE_FLOAT16
                              : CU_TENSOR_MAP_DATA_TYPE_UINT8;
  // kernel2's CTAs each load half of B's tile rows (and multicast them).
  constexpr int kBoxRowsB = kVersion == Version::kernel1 ? kBlockN : kBHalfRows;
  const DeviceSupport* support = nullptr;
  if (const cudaError_t err = device_support(&support); err != cudaSuccess) return err;
  if (kVersion == Version::kernel2 && support->cluster_status != cudaSuccess)
    return support->cluster_status;

  if (M < 0 || N < 0 || K < 0 || K % kKMultiple != 0) return cudaErrorInvalidValue;
  if (M == 0 || N == 0) return cudaSuccess;
  if (C == nullptr) return cudaErrorInvalidValue;
  if (K == 0) return cudaMemsetAsync(C, 0, static_cast<size_t>(M) * N * 2, stream);  // +0.0
  if (A == nullptr || B == nullptr || reinterpret_cast<uintptr_t>(A) % 16 != 0 ||
      reinterpret_cast<uintptr_t>(B) % 16 != 0 || reinterpret_cast<uintptr_t>(C) % 2 != 0)
    return cudaErrorInvalidValue;
  if (kKind == InKind::e4m3 && (scale_a == nullptr || scale_b == nullptr))
    return cudaErrorInvalidValue;

  const PFN_cuTensorMapEncodeTiled_v12000 encode = tensor_map_encoder();
  if (encode == nullptr) return cudaErrorNotSupported;  // driver too old for TMA

  GemmParams p{};
  if (!encode_operand(encode, &p.a_map, kTmaType, kElemBytes, A, M, K, kBlockM) ||
      !encode_operand(encode, &p.b_map, kTmaType, kElemBytes, B, N, K, kBoxRowsB))
    return cudaErrorInvalidValue;
  p.C = C;
  p.scale_a = scale_a;
  p.scale_b = scale_b;
  p.M = M;
  p.N = N;
  p.K = K;
  p.tiles_m = (M + kBlockM - 1) / kBlockM;
  p.tiles_n = (N + kBlockN - 1) / kBlockN;
  p.k_tiles = (K * kElemBytes + kRowBytes - 1) / kRowBytes;
  p.vec_stores = (N % 8 == 0) && (reinterpret_cast<uintptr_t>(C) % 16 == 0);

  // Persistent grid: as many CTAs (kernel1) or clusters (kernel2) as run at once, at most one per
  // tile (cluster tile).
  const int cluster_size = kVersion == Version::kernel1 ? 1 : kClusterSize;
  const int64_t work_items = cluster_items(p.tiles_m, p.tiles_n, cluster_size);
  if (work_items * cluster_size > INT32_MAX) return cudaErrorInvalidValue;
  const int64_t resident =
      kVersion == Version::kernel1 ? support->sms : support->max_active_clusters;
  const int grid = static_cast<int>(std::min(work_items, resident) * cluster_size);
  if constexpr (kVersion == Version::kernel1) {
    gemm_wgmma_sm90_kernel1<kKind><<<grid, kThreads, kSmemBytes, stream>>>(p);
    return cudaGetLastError();
  } else {
    ClusterLaunch launch(grid, stream);
    return cudaLaunchKernelEx(&launch.config, gemm_wgmma_sm90_kernel2<kKind>, p);
  }
}

}  // namespace

// ------------------------------------------------------------------------------------------------
// Entry points (gemm_api.hpp)
// ------------------------------------------------------------------------------------------------
cudaError_t gemm_wgmma_sm90_bf16(const __nv_bfloat16* A, const __nv_bfloat16* B, __nv_bfloat16* C,
                                 int M, int N, int K, cudaStream_t stream) {
  return launch<Version::kernel1, InKind::bf16>(A, B, C, nullptr, nullptr, M, N, K, stream);
}

cudaError_t gemm_wgmma_sm90_fp16(const __half* A, const __half* B, __half* C, int M, int N, int K,
                                 cudaStream_t stream) {
  return launch<Version::kernel1, InKind::fp16>(A, B, C, nullptr, nullptr, M, N, K, stream);
}

cudaError_t gemm_wgmma_sm90_fp8(const __nv_fp8_e4m3* A, const __nv_fp8_e4m3* B, __nv_bfloat16* C,
                                const float* scale_a, const float* scale_b, int M, int N, int K,
                                cudaStream_t stream) {
  return launch<Version::kernel1, InKind::e4m3>(A, B, C, scale_a, scale_b, M, N, K, stream);
}

cudaError_t gemm_wgmma_sm90_multicast_bf16(const __nv_bfloat16* A, const __nv_bfloat16* B,
                                           __nv_bfloat16* C, int M, int N, int K,
                                           cudaStream_t stream) {
  return launch<Version::kernel2, InKind::bf16>(A, B, C, nullptr, nullptr, M, N, K, stream);
}

cudaError_t gemm_wgmma_sm90_multicast_fp16(const __half* A, const __half* B, __half* C, int M,
                                           int N, int K, cudaStream_t stream) {
  return launch<Version::kernel2, InKind::fp16>(A, B, C, nullptr, nullptr, M, N, K, stream);
}

cudaError_t gemm_wgmma_sm90_multicast_fp8(const __nv_fp8_e4m3* A, const __nv_fp8_e4m3* B,
                                          __nv_bfloat16* C, const float* scale_a,
                                          const float* scale_b, int M, int N, int K,
                                          cudaStream_t stream) {
  return launch<Version::kernel2, InKind::e4m3>(A, B, C, scale_a, scale_b, M, N, K, stream);
}

}  // namespace aicbench::kernels
