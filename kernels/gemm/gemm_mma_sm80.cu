// Ampere-class tensor-core GEMM: C = A * B^T in the TN layout of gemm_api.hpp (A M x K and B N x K
// both K-contiguous, C M x N row-major), fp32 accumulation, for tf32, bf16 and fp16 inputs.
//
// Versions (each kept; later ones say what they add):
//   gemm_mma_sm80_kernel1  one template for the three types. 128x128 block tile, 64 bytes of K per
//                          stage (32 bf16/fp16 or 16 fp32 elements), 4 warps in 2x2, each warp a
//                          64x64 tile of C (4 x 8 mma tiles, 128 fp32 accumulators per thread);
//                          a 4-stage cp.async pipeline (cp.async.cg 16 bytes, zero-filled through
//                          the src-size operand outside the matrices); XOR-swizzled shared memory
//                          so that cp.async writes and ldmatrix reads are free of bank conflicts;
//                          operands read with ldmatrix.x4 and multiplied with mma.sync m16n8k16
//                          (bf16, fp16) or m16n8k8 (tf32); grouped block order (8 block rows at a
//                          time) for L2 reuse; predicated stores of the converted accumulators.
//
// Constraints (the launchers return cudaErrorInvalidValue otherwise):
//   M, N, K >= 1; M and N any size (predicated loads and stores);
//   K a multiple of 8 for bf16/fp16 and of 4 for tf32: one 16-byte cp.async chunk is then entirely
//   inside or outside a row, so zero-fill per chunk is exact;
//   A, B, C 16-byte aligned (cp.async of 16 bytes; with K as above every row stays aligned).
// The launchers return cudaErrorNotSupported when this binary holds no sm_80+ code the running GPU
// can load (so on any GPU below compute capability 8.0).
//
// tf32: ldmatrix is a b16 instruction, but it moves 32-bit words: an "8x8 b16 matrix" is 8 rows of
// 16 bytes, and thread l receives word l % 4 of row l / 4. For fp32 data that is exactly the tf32
// fragment element (row groupID, column threadID_in_group) of an 8x4 block, so the same swizzled
// tile, the same ldmatrix addresses and the same register positions serve all three types: one
// k-step always consumes 32 bytes of K per row (16 bf16/fp16 or 8 tf32 elements). The fp32 words
// are rounded to tf32 (cvt.rna.tf32.f32) before the mma, as cuBLAS's TF32 mode does.
//
// B's ldmatrix order (issue 9): ldmatrix.x4 fills four consecutive registers and HMMA reads B as
// a pair of consecutive registers, so B's four 8x8 matrices are asked for as (tile 0: b0, b1),
// (tile 1: b0, b1) (sm80_layout.hpp: ldsm_b_offset). The earlier order, the same as A's (b0, b0,
// b1, b1), made ptxas assemble every pair with moves. SASS of the mainloop per K-slab (64 HMMA,
// 16 LDSM, 8 LDGSTS), CUDA 13.0:
//              bf16/fp16 sm_80        tf32 sm_80         bf16/fp16 sm_90a
//   before     294 instr, 139 moves   420 instr, 137     299 instr, 123
//   after      169 instr,  16 moves   312 instr,  17     176 instr,   1
// (the moves left on sm_80 pick the fallback source pointer of predicated-off cp.asyncs);
// registers 204 -> 228 (bf16/fp16, sm_80), still two blocks per SM, no spills. Expected effect,
// to be measured: on A100 each scheduler runs 2 warps of this kernel, whose 2 x 64 HMMA take
// 1024 cycles of tensor-core time per K-slab (8 cycles per m16n8k16); it now issues 338
// instructions in that time instead of 588, which leaves more slack to hide ldmatrix and barrier
// latency: a few percent where the kernel was latency-bound, nothing where it already runs at
// the tensor rate. On Hopper mma.sync runs faster per SM than on A100 (NVIDIA publishes no
// figure; assuming two thirds of wgmma's rate, ~6 cycles per HMMA per scheduler, ~770 per
// K-slab), so the 598 instructions per scheduler per K-slab there took most of the issue slots
// and the 352 now take under half: a larger effect is expected on H100/H200.
//
// Verified without a GPU: tests/test_sm80_layout.cpp emulates cp.async and ldmatrix.x4 on the
// kernel's own index functions (sm80_layout.hpp) and checks every lane's mma operands against the
// PTX ISA's fragment layouts, the swizzle's freedom from bank conflicts and the C tile coverage.
//
// Measured: not yet on a GPU (no results/gpu/ file records it). Target: >= 80% of cuBLAS(Lt) in
// the same precision on A100-class GPUs (sm_80, where cuBLAS itself uses mma.sync), at 4096^3 and
// 8192^3. On Hopper it is reported beside cuBLASLt with no target: cuBLASLt uses wgmma there,
// and mma.sync cannot reach wgmma's rate (see gemm_wgmma_sm90.cu).
#include <array>
#include <climits>
#include <cstdint>
#include <mutex>
#include <optional>

#include "kernels/gemm/gemm_api.hpp"
#include "kernels/gemm/sm80_layout.hpp"
#include "kernels/gemm/tile_scheduler.hpp"

namespace aicbench::kernels {

namespace {

using namespace sm80;  // tile configuration and index math (sm80_layout.hpp)

// ------------------------------------------------------------------------------------------------
// PTX helpers (sm_80+)
// ------------------------------------------------------------------------------------------------
__device__ __forceinline__ uint32_t smem_addr(const void* p) {
  return static_cast<uint32_t>(__cvta_generic_to_shared(p));
}

// cp.async.cg.shared.global [dst], [src], 16, src_size: copies src_size (0 or 16) bytes and
// fills the rest of the 16 with zeros, bypassing L1 (.cg). src_size = 0 reads nothing.
__device__ __forceinline__ void cp_async_16(uint32_t dst, const void* src, bool valid) {
  const int src_size = valid ? 16 : 0;
  asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;\n" ::"r"(dst), "l"(src),
               "r"(src_size)
               : "memory");
}
// cp.async.commit_group: closes the group of this thread's cp.asyncs issued since the last one.
__device__ __forceinline__ void cp_async_commit() {
  asm volatile("cp.async.commit_group;\n" ::: "memory");
}
// cp.async.wait_group N: waits until at most N of this thread's groups are still in flight.
template <int N>
__device__ __forceinline__ void cp_async_wait() {
  asm volatile("cp.async.wait_group %0;\n" ::"n"(N) : "memory");
}

// ldmatrix.sync.aligned.m8n8.x4.shared.b16: four 8x8 b16 matrices; lane 8q+j gives the address
// of row j of matrix q; register q of lane l receives row l / 4, b16 columns 2(l % 4), 2(l % 4)+1
// of matrix q (one 32-bit word).
__device__ __forceinline__ void ldmatrix_x4(uint32_t (&r)[4], uint32_t addr) {
  asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0, %1, %2, %3}, [%4];\n"
               : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
               : "r"(addr));
}

// mma.sync.aligned.m16n8k16.row.col.f32.{bf16,f16}.{bf16,f16}.f32: D(16x8) += A(16x16) B(16x8).
// g = lane / 4, t = lane % 4. A: a0 (g, 2t..2t+1), a1 (g+8, 2t..), a2 (g, 2t+8..), a3 (g+8,
// 2t+8..), two 16-bit values per register, lower k in the low half. B: b0 (k 2t..2t+1, n g),
// b1 (k 2t+8.., n g). D: d0 (g, 2t), d1 (g, 2t+1), d2 (g+8, 2t), d3 (g+8, 2t+1).
__device__ __forceinline__ void mma_m16n8k16_bf16(float (&d)[4], const uint32_t (&a)[4],
                                                  uint32_t b0, uint32_t b1) {
  asm volatile(
      "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0, %1, %2, %3}, {%4, %5, %6, %7}, "
      "{%8, %9}, {%0, %1, %2, %3};\n"
      : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
      : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
}
__device__ __forceinline__ void mma_m16n8k16_f16(float (&d)[4], const uint32_t (&a)[4],
                                                 uint32_t b0, uint32_t b1) {
  asm volatile(
      "mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 {%0, %1, %2, %3}, {%4, %5, %6, %7}, "
      "{%8, %9}, {%0, %1, %2, %3};\n"
      : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
      : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
}
// mma.sync.aligned.m16n8k8.row.col.f32.tf32.tf32.f32: D(16x8) += A(16x8) B(8x8), one tf32 per
// register. A: a0 (g, t), a1 (g+8, t), a2 (g, t+4), a3 (g+8, t+4). B: b0 (k t, n g), b1 (k t+4,
// n g). D as for m16n8k16.
__device__ __forceinline__ void mma_m16n8k8_tf32(float (&d)[4], const uint32_t (&a)[4],
                                                 uint32_t b0, uint32_t b1) {
  asm volatile(
      "mma.sync.aligned.m16n8k8.row.col.f32.tf32.tf32.f32 {%0, %1, %2, %3}, {%4, %5, %6, %7}, "
      "{%8, %9}, {%0, %1, %2, %3};\n"
      : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
      : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
}
// cvt.rna.tf32.f32: fp32 bits -> tf32 (round to nearest, ties away; low 13 bits cleared).
__device__ __forceinline__ uint32_t to_tf32(uint32_t fp32_bits) {
  uint32_t r;
  asm("cvt.rna.tf32.f32 %0, %1;\n" : "=r"(r) : "f"(__uint_as_float(fp32_bits)));
  return r;
}

// ------------------------------------------------------------------------------------------------
// per-type pieces: the mma, the operand transform, the output store
// ------------------------------------------------------------------------------------------------
template <class T>
struct MmaTraits;

template <>
struct MmaTraits<__nv_bfloat16> {
  static constexpr int kElemsPerChunk = 8;
  __device__ __forceinline__ static uint32_t operand(uint32_t r) { return r; }
  __device__ __forceinline__ static void mma(float (&d)[4], const uint32_t (&a)[4], uint32_t b0,
                                             uint32_t b1) {
    mma_m16n8k16_bf16(d, a, b0, b1);
  }
  __device__ __forceinline__ static void store2(__nv_bfloat16* p, float x, float y) {
    *reinterpret_cast<__nv_bfloat162*>(p) = __floats2bfloat162_rn(x, y);
  }
  __device__ __forceinline__ static void store1(__nv_bfloat16* p, float x) {
    *p = __float2bfloat16_rn(x);
  }
};

template <>
struct MmaTraits<__half> {
  static constexpr int kElemsPerChunk = 8;
  __device__ __forceinline__ static uint32_t operand(uint32_t r) { return r; }
  __device__ __forceinline__ static void mma(float (&d)[4], const uint32_t (&a)[4], uint32_t b0,
                                             uint32_t b1) {
    mma_m16n8k16_f16(d, a, b0, b1);
  }
  __device__ __forceinline__ static void store2(__half* p, float x, float y) {
    *reinterpret_cast<__half2*>(p) = __floats2half2_rn(x, y);
  }
  __device__ __forceinline__ static void store1(__half* p, float x) { *p = __float2half_rn(x); }
};

template <>
struct MmaTraits<float> {  // tf32 math on fp32 data
  static constexpr int kElemsPerChunk = 4;
  __device__ __forceinline__ static uint32_t operand(uint32_t r) { return to_tf32(r); }
  __device__ __forceinline__ static void mma(float (&d)[4], const uint32_t (&a)[4], uint32_t b0,
                                             uint32_t b1) {
    mma_m16n8k8_tf32(d, a, b0, b1);
  }
  __device__ __forceinline__ static void store2(float* p, float x, float y) {
    *reinterpret_cast<float2*>(p) = make_float2(x, y);
  }
  __device__ __forceinline__ static void store1(float* p, float x) { *p = x; }
};

// ------------------------------------------------------------------------------------------------
// kernel1
// ------------------------------------------------------------------------------------------------
// Two blocks per SM (2 x 64 KiB of shared memory, <= 256 registers per thread) hide each other's
// barriers and epilogues.
template <class T>
__global__ void __launch_bounds__(kThreads, 2)
gemm_mma_sm80_kernel1(const T* __restrict__ A, const T* __restrict__ B, T* __restrict__ C, int M,
                      int N, int K) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 800
  using Traits = MmaTraits<T>;
  constexpr int kElemsPerStage = kChunks * Traits::kElemsPerChunk;  // 32 (16-bit) or 16 (fp32)

  // (stage, {A tile (BM, 64 B), B tile (BN, 64 B)}), each tile swizzled by swizzled_offset.
  extern __shared__ __align__(128) unsigned char smem[];
  const uint32_t smem0 = smem_addr(smem);

  const int tid = threadIdx.x;
  const int warp = tid / 32, lane = tid % 32;
  const int tiles_m = (M - 1) / kBM + 1, tiles_n = (N - 1) / kBN + 1;  // M, N >= 1
  // Grouped raster order (tile_scheduler.hpp): consecutive blocks walk kGroupM block rows down
  // one block column before moving right, so a wave of blocks shares A's and B's tiles in L2.
  const TileCoord tile = banded_tile(blockIdx.x, tiles_m, tiles_n, kGroupM);
  const int block_m = tile.m * kBM, block_n = tile.n * kBN;

  // ==== partition: this thread's cp.async sources and destinations ============================
  // Rows block_m + load_row(tid, i) of A and block_n + load_row(tid, i) of B, chunk
  // load_chunk(tid).
  const int chunk = load_chunk(tid);
  const T* a_src[kLoadsA];
  const T* b_src[kLoadsB];
  uint32_t a_dst[kLoadsA], b_dst[kLoadsB];  // byte offsets within a stage
  unsigned a_ok = 0, b_ok = 0;               // bit i: row of load i inside the matrix
#pragma unroll
  for (int i = 0; i < kLoadsA; ++i) {
    const int row = block_m + load_row(tid, i);
    const bool ok = row < M;
    a_ok |= ok ? 1u << i : 0u;
    a_src[i] = A + (ok ? static_cast<int64_t>(row) * K + chunk * Traits::kElemsPerChunk : 0);
    a_dst[i] = swizzled_offset(load_row(tid, i), chunk);
  }
#pragma unroll
  for (int i = 0; i < kLoadsB; ++i) {
    const int row = block_n + load_row(tid, i);
    const bool ok = row < N;
    b_ok |= ok ? 1u << i : 0u;
    b_src[i] = B + (ok ? static_cast<int64_t>(row) * K + chunk * Traits::kElemsPerChunk : 0);
    b_dst[i] = kTileABytes + swizzled_offset(load_row(tid, i), chunk);
  }

  // Copies K-tile `kt` into stage `stage`; chunks past K or past the last row are zero-filled.
  // (Clamped rows point at row 0 and read nothing: src_size is 0.)
  auto load_stage = [&](int stage, int kt) {
    const int k = kt * kElemsPerStage;  // first element of this K-tile
    const bool k_ok = k + chunk * Traits::kElemsPerChunk < K;
    const uint32_t base = smem0 + stage * kStageBytes;
#pragma unroll
    for (int i = 0; i < kLoadsA; ++i) {
      const bool ok = k_ok && ((a_ok >> i) & 1u);
      cp_async_16(base + a_dst[i], ok ? a_src[i] + k : A, ok);
    }
#pragma unroll
    for (int i = 0; i < kLoadsB; ++i) {
      const bool ok = k_ok && ((b_ok >> i) & 1u);
      cp_async_16(base + b_dst[i], ok ? b_src[i] + k : B, ok);
    }
  };


  float acc[kMTiles][kNTiles][4];  // (m16 tile, n8 tile, d0..d3)
#pragma unroll
  for (int i = 0; i < kMTiles; ++i)
#pragma unroll
    for (int j = 0; j < kNTiles; ++j)
#pragma unroll
      for (int r = 0; r < 4; ++r) acc[i][j][r] = 0.0f;

  // ==== prologue: stages 0 .. kStages-2 in flight ==============================================
  const int k_tiles = (K + kElemsPerStage - 1) / kElemsPerStage;
#pragma unroll
  for (int s = 0; s < kStages - 1; ++s) {
    if (s < k_tiles) load_stage(s, s);
    cp_async_commit();  // always, so that group counts stay aligned with K-tiles
  }

  // ==== main loop ==============================================================================
  for (int kt = 0; kt < k_tiles; ++kt) {
    // Groups committed so far: kStages - 1 + kt; allowing kStages - 2 in flight means K-tile kt
    // has landed (for this thread's copies; the barrier makes everyone's visible). The barrier
    // also means every warp is done with K-tile kt - 1, whose stage the next copy reuses.
    cp_async_wait<kStages - 2>();
    __syncthreads();
    const int next = kt + kStages - 1;
    if (next < k_tiles) load_stage(next % kStages, next);
    cp_async_commit();

    const uint32_t stage_a = smem0 + (kt % kStages) * kStageBytes;
    const uint32_t stage_b = stage_a + kTileABytes;
#pragma unroll
    for (int s = 0; s < kKSteps; ++s) {
      uint32_t a[kMTiles][4];      // (m16 tile, a0..a3)
      uint32_t b[kNTiles][2];      // (n8 tile, b0..b1)
#pragma unroll
      for (int i = 0; i < kMTiles; ++i) {
        ldmatrix_x4(a[i], stage_a + ldsm_a_offset(warp_row0(warp) + 16 * i, lane, s));
#pragma unroll
        for (int r = 0; r < 4; ++r) a[i][r] = Traits::operand(a[i][r]);
      }
#pragma unroll
      for (int p = 0; p < kNTiles / 2; ++p) {
        // Registers 0..3 are b0, b1 of n8 tile 2p, then b0, b1 of tile 2p + 1 (ldsm_b_offset):
        // each tile's pair is already in consecutive registers, as HMMA reads it.
        uint32_t r[4];
        ldmatrix_x4(r, stage_b + ldsm_b_offset(warp_col0(warp) + 16 * p, lane, s));
#pragma unroll
        for (int q = 0; q < 4; ++q) {
          b[2 * p + ldsm_b_tile(q)][ldsm_b_reg(q)] = Traits::operand(r[q]);
        }
      }
#pragma unroll
      for (int i = 0; i < kMTiles; ++i)
#pragma unroll
        for (int j = 0; j < kNTiles; ++j) Traits::mma(acc[i][j], a[i], b[j][0], b[j][1]);
    }
  }
  cp_async_wait<0>();  // only empty groups can remain; leave nothing in flight

  // ==== epilogue: convert and store, predicated ================================================
  // Pairs (d0, d1) and (d2, d3) are adjacent columns: one 2-element store when both are inside
  // and N is even (then the pair's address is aligned to 2 elements).
  const bool pair_ok = (N % 2) == 0;
#pragma unroll
  for (int i = 0; i < kMTiles; ++i) {
#pragma unroll
    for (int j = 0; j < kNTiles; ++j) {
#pragma unroll
      for (int h = 0; h < 2; ++h) {  // h = 0: d0, d1; h = 1: d2, d3
        const int row = block_m + warp_row0(warp) + 16 * i + acc_row(lane, 2 * h);
        const int col = block_n + warp_col0(warp) + 8 * j + acc_col(lane, 2 * h);
        if (row >= M || col >= N) continue;
        T* dst = C + static_cast<int64_t>(row) * N + col;
        if (pair_ok && col + 1 < N) {
          Traits::store2(dst, acc[i][j][2 * h], acc[i][j][2 * h + 1]);
        } else {
          Traits::store1(dst, acc[i][j][2 * h]);
          if (col + 1 < N) Traits::store1(dst + 1, acc[i][j][2 * h + 1]);
        }
      }
    }
  }
#endif  // __CUDA_ARCH__ >= 800: below that the launcher refuses to run the kernel
}

// ------------------------------------------------------------------------------------------------
// launcher
// ------------------------------------------------------------------------------------------------
bool aligned16(const void* p) { return (reinterpret_cast<uintptr_t>(p) & 15) == 0; }

// Whether kernel1<T> can run on the current device, found out once per device: the binary must
// hold code of compute capability >= 8.0 that this device loads (an image built from older PTX
// and JIT-compiled here would have an empty body: see the #if in the kernel). Also raises the
// kernel's shared-memory limit. Not supported: cudaErrorNotSupported; other errors as they come.
template <class T>
cudaError_t kernel1_ready() {
  static std::mutex mutex;
  static std::array<std::optional<cudaError_t>, 64> ready;  // per device, once known
  int device = 0;
  if (const cudaError_t err = cudaGetDevice(&device); err != cudaSuccess) return err;
  if (device < 0 || device >= static_cast<int>(ready.size())) return cudaErrorNotSupported;
  std::lock_guard<std::mutex> lock(mutex);
  if (ready[device]) return *ready[device];
  auto kernel = gemm_mma_sm80_kernel1<T>;
  cudaFuncAttributes attr{};
  cudaError_t err = cudaFuncGetAttributes(&attr, kernel);
  if (err == cudaErrorInvalidDeviceFunction || err == cudaErrorNoKernelImageForDevice) {
    (void)cudaGetLastError();  // not sticky; do not leave it for the next caller
    err = cudaErrorNotSupported;
  } else if (err == cudaSuccess && attr.ptxVersion < 80) {
    err = cudaErrorNotSupported;
  } else if (err == cudaSuccess) {
    err = cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, kSmemBytes);
  }
  if (err != cudaSuccess && err != cudaErrorNotSupported) return err;  // not cached: ask again
  ready[device] = err;
  return err;
}

template <class T>
cudaError_t launch_kernel1(const T* A, const T* B, T* C, int M, int N, int K,
                           cudaStream_t stream) {
  if (M <= 0 || N <= 0 || K <= 0) return cudaErrorInvalidValue;
  if (K % MmaTraits<T>::kElemsPerChunk != 0) return cudaErrorInvalidValue;
  if (!aligned16(A) || !aligned16(B) || !aligned16(C)) return cudaErrorInvalidValue;
  if (const cudaError_t err = kernel1_ready<T>(); err != cudaSuccess) return err;

  const int64_t tiles = static_cast<int64_t>((M - 1) / kBM + 1) * ((N - 1) / kBN + 1);
  if (tiles > INT_MAX) return cudaErrorInvalidValue;
  gemm_mma_sm80_kernel1<T><<<static_cast<unsigned>(tiles), kThreads, kSmemBytes, stream>>>(
      A, B, C, M, N, K);
  return cudaGetLastError();
}

}  // namespace

cudaError_t gemm_mma_sm80_tf32(const float* A, const float* B, float* C, int M, int N, int K,
                               cudaStream_t stream) {
  return launch_kernel1<float>(A, B, C, M, N, K, stream);
}

cudaError_t gemm_mma_sm80_bf16(const __nv_bfloat16* A, const __nv_bfloat16* B, __nv_bfloat16* C,
                               int M, int N, int K, cudaStream_t stream) {
  return launch_kernel1<__nv_bfloat16>(A, B, C, M, N, K, stream);
}

cudaError_t gemm_mma_sm80_fp16(const __half* A, const __half* B, __half* C, int M, int N, int K,
                               cudaStream_t stream) {
  return launch_kernel1<__half>(A, B, C, M, N, K, stream);
}

}  // namespace aicbench::kernels
