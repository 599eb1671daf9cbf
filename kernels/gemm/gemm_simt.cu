// SIMT fp32 GEMM, C = A * B, row-major.
//
// Versions (each kept; later ones say what they add):
//   gemm_simt_kernel1  128x128 block tile, BK = 8, 256 threads, 8x8 outputs per thread held in
//                      registers; A is stored transposed in shared memory so that both operands
//                      are read as float4 without bank conflicts; every global access predicated,
//                      so M, N, K need not be multiples of the tile.
//   gemm_simt_kernel2  + 16-byte global loads (float4) and stores; + shared-memory double
//                      buffering: the next stage's tile is fetched from global memory into
//                      registers while the current stage is multiplied, then written to the other
//                      buffer, one __syncthreads per stage; + warp tiling: each warp owns a 32x64
//                      block of C (threads 4x8 within it), so a warp's shared-memory reads are
//                      contiguous 64/128-byte runs. Needs K % 4 == 0, N % 4 == 0 and 16-byte
//                      aligned A, B, C (then a float4 of a row is entirely inside or outside the
//                      matrix, so predication stays per float4); gemm_simt_fp32 falls back to
//                      kernel1 otherwise.
//
// Measured: not yet on a GPU (no results/gpu/ file records it). Target: kernel2 >= 85% of
// cuBLAS SGEMM (cublasSgemm) at 4096^3 and above; kernel1 is expected well below cuBLAS.
#include "kernels/gemm/gemm_simt.hpp"

namespace aicbench::kernels {

namespace {

// ------------------------------------------------------------------------------------------------
// kernel1: shared-memory tiling + register blocking + predication
// ------------------------------------------------------------------------------------------------
constexpr int kBM = 128;  // rows of C per block
constexpr int kBN = 128;  // columns of C per block
constexpr int kBK = 8;    // depth of one shared-memory stage
constexpr int kThreads = 256;
constexpr int kHalf = 64;  // each thread owns rows {ty*4+i, 64+ty*4+i} and columns likewise

static_assert(kBM * kBK == kThreads * 4, "each thread loads 4 elements of the A tile");
static_assert(kBK * kBN == kThreads * 4, "each thread loads 4 elements of the B tile");

__global__ void __launch_bounds__(kThreads)
gemm_simt_kernel1(const float* __restrict__ A, const float* __restrict__ B, float* __restrict__ C,
                  int M, int N, int K) {
  // A tile stored transposed, (BK, BM), so a thread's 4 consecutive rows are one float4.
  __shared__ __align__(16) float As[kBK][kBM];
  __shared__ __align__(16) float Bs[kBK][kBN];  // (BK, BN)

  const int tid = threadIdx.x;
  const int block_row = blockIdx.y * kBM;
  const int block_col = blockIdx.x * kBN;

  // Loading roles: A tile is 128 rows x 8 columns, 4 consecutive columns per thread;
  // B tile is 8 rows x 128 columns, 4 consecutive columns per thread.
  const int a_row = tid / 2, a_col = (tid % 2) * 4;
  const int b_row = tid / 32, b_col = (tid % 32) * 4;

  // Compute roles: a 16 x 16 grid of threads, each with a 2x2 grid of 4x4 sub-tiles.
  const int ty = tid / 16, tx = tid % 16;

  float acc[8][8] = {};

  for (int k0 = 0; k0 < K; k0 += kBK) {
    // ---- load one stage, zero-filling outside the matrices --------------------------------
    {
      const int gr = block_row + a_row;
#pragma unroll
      for (int i = 0; i < 4; ++i) {
        const int gc = k0 + a_col + i;
        As[a_col + i][a_row] =
            (gr < M && gc < K) ? A[static_cast<size_t>(gr) * K + gc] : 0.0f;
      }
    }
    {
      const int gr = k0 + b_row;
#pragma unroll
      for (int i = 0; i < 4; ++i) {
        const int gc = block_col + b_col + i;
        Bs[b_row][b_col + i] =
            (gr < K && gc < N) ? B[static_cast<size_t>(gr) * N + gc] : 0.0f;
      }
    }
    __syncthreads();

    // ---- multiply the stage out of registers ----------------------------------------------
#pragma unroll
    for (int k = 0; k < kBK; ++k) {
      const float4 a_lo = *reinterpret_cast<const float4*>(&As[k][ty * 4]);
      const float4 a_hi = *reinterpret_cast<const float4*>(&As[k][kHalf + ty * 4]);
      const float4 b_lo = *reinterpret_cast<const float4*>(&Bs[k][tx * 4]);
      const float4 b_hi = *reinterpret_cast<const float4*>(&Bs[k][kHalf + tx * 4]);
      const float a[8] = {a_lo.x, a_lo.y, a_lo.z, a_lo.w, a_hi.x, a_hi.y, a_hi.z, a_hi.w};
      const float b[8] = {b_lo.x, b_lo.y, b_lo.z, b_lo.w, b_hi.x, b_hi.y, b_hi.z, b_hi.w};
#pragma unroll
      for (int i = 0; i < 8; ++i) {
#pragma unroll
        for (int j = 0; j < 8; ++j) acc[i][j] = fmaf(a[i], b[j], acc[i][j]);
      }
    }
    __syncthreads();  // the next stage overwrites the tiles
  }

  // ---- epilogue: predicated stores ----------------------------------------------------------
#pragma unroll
  for (int i = 0; i < 8; ++i) {
    const int r = block_row + (i < 4 ? ty * 4 + i : kHalf + ty * 4 + (i - 4));
    if (r >= M) continue;
#pragma unroll
    for (int j = 0; j < 8; ++j) {
      const int c = block_col + (j < 4 ? tx * 4 + j : kHalf + tx * 4 + (j - 4));
      if (c < N) C[static_cast<size_t>(r) * N + c] = acc[i][j];
    }
  }
}

// ------------------------------------------------------------------------------------------------
// kernel2: + float4 global loads, double-buffered shared memory, warp tiling
// ------------------------------------------------------------------------------------------------
// Same tile (128x128x8, 256 threads, 8x8 outputs per thread) as kernel1, so the shapes that
// kernel1 takes and their cost model stay comparable.
constexpr int kPadA = 4;  // (BK, BM + 4): the transposed stores of a float4 of A hit 32 banks

// Thread -> C mapping: warp w (0..7) owns rows (w / 2) * 32 + [0, 32) and columns (w % 2) * 64 +
// [0, 64); lane l sits at (l / 8, l % 8) of a 4x8 grid and owns rows {r, r + 16} + [0, 4) and
// columns {c, c + 32} + [0, 4) of that warp tile, r = (l / 8) * 4, c = (l % 8) * 4.
constexpr int kWarpRows = 32, kWarpCols = 64;
constexpr int kRowStep = 16, kColStep = 32;  // distance between a thread's two row/column quads

__global__ void __launch_bounds__(kThreads, 2)
gemm_simt_kernel2(const float* __restrict__ A, const float* __restrict__ B, float* __restrict__ C,
                  int M, int N, int K) {
  __shared__ __align__(16) float As[2][kBK][kBM + kPadA];  // (stage, BK, BM), A transposed
  __shared__ __align__(16) float Bs[2][kBK][kBN];          // (stage, BK, BN)

  const int tid = threadIdx.x;
  const int block_row = blockIdx.y * kBM;
  const int block_col = blockIdx.x * kBN;

  // Loading roles: one float4 of A (row a_row, columns a_col..+3 of the stage) and one float4 of
  // B (row b_row, columns b_col..+3). K % 4 == 0 and N % 4 == 0 make each float4 all-in or
  // all-out of the matrix, so one predicate per float4 suffices.
  const int a_row = tid / 2, a_col = (tid % 2) * 4;
  const int b_row = tid / 32, b_col = (tid % 32) * 4;
  const bool a_row_ok = block_row + a_row < M;
  const bool b_col_ok = block_col + b_col < N;
  const float* a_ptr = A + static_cast<size_t>(a_row_ok ? block_row + a_row : 0) * K + a_col;
  const float* b_ptr = B + static_cast<size_t>(b_row) * N + (b_col_ok ? block_col + b_col : 0);

  // Compute roles (see the mapping above).
  const int warp = tid / 32, lane = tid % 32;
  const int row0 = (warp / 2) * kWarpRows + (lane / 8) * 4;  // within the block tile
  const int col0 = (warp % 2) * kWarpCols + (lane % 8) * 4;

  auto load_a = [&](int k0) {
    return (a_row_ok && k0 + a_col < K) ? __ldg(reinterpret_cast<const float4*>(a_ptr + k0))
                                        : make_float4(0.f, 0.f, 0.f, 0.f);
  };
  auto load_b = [&](int k0) {
    return (b_col_ok && k0 + b_row < K)
               ? __ldg(reinterpret_cast<const float4*>(b_ptr + static_cast<size_t>(k0) * N))
               : make_float4(0.f, 0.f, 0.f, 0.f);
  };
  auto store_stage = [&](int s, float4 a, float4 b) {
    As[s][a_col + 0][a_row] = a.x;
    As[s][a_col + 1][a_row] = a.y;
    As[s][a_col + 2][a_row] = a.z;
    As[s][a_col + 3][a_row] = a.w;
    *reinterpret_cast<float4*>(&Bs[s][b_row][b_col]) = b;
  };

  float acc[8][8] = {};

  // ---- prologue: stage 0 -------------------------------------------------------------------
  store_stage(0, load_a(0), load_b(0));
  __syncthreads();

  // ---- main loop: fetch stage t+1 into registers, multiply stage t, publish stage t+1 --------
  int s = 0;
  for (int k0 = 0; k0 < K; k0 += kBK) {
    const bool has_next = k0 + kBK < K;
    float4 a_next = make_float4(0.f, 0.f, 0.f, 0.f), b_next = a_next;
    if (has_next) {
      a_next = load_a(k0 + kBK);
      b_next = load_b(k0 + kBK);
    }

#pragma unroll
    for (int k = 0; k < kBK; ++k) {
      const float4 a_lo = *reinterpret_cast<const float4*>(&As[s][k][row0]);
      const float4 a_hi = *reinterpret_cast<const float4*>(&As[s][k][row0 + kRowStep]);
      const float4 b_lo = *reinterpret_cast<const float4*>(&Bs[s][k][col0]);
      const float4 b_hi = *reinterpret_cast<const float4*>(&Bs[s][k][col0 + kColStep]);
      const float a[8] = {a_lo.x, a_lo.y, a_lo.z, a_lo.w, a_hi.x, a_hi.y, a_hi.z, a_hi.w};
      const float b[8] = {b_lo.x, b_lo.y, b_lo.z, b_lo.w, b_hi.x, b_hi.y, b_hi.z, b_hi.w};
#pragma unroll
      for (int i = 0; i < 8; ++i) {
#pragma unroll
        for (int j = 0; j < 8; ++j) acc[i][j] = fmaf(a[i], b[j], acc[i][j]);
      }
    }

    if (has_next) {
      // Buffer s ^ 1 was last read in the previous iteration, which ended with a barrier.
      store_stage(s ^ 1, a_next, b_next);
      __syncthreads();  // stage t+1 visible; everyone done reading stage t before it is reused
      s ^= 1;
    }
  }

  // ---- epilogue: float4 stores, predicated per float4 (N % 4 == 0) -----------------------------
#pragma unroll
  for (int i = 0; i < 8; ++i) {
    const int r = block_row + row0 + (i < 4 ? i : kRowStep + i - 4);
    if (r >= M) continue;
#pragma unroll
    for (int h = 0; h < 2; ++h) {
      const int c = block_col + col0 + h * kColStep;
      if (c < N) {
        *reinterpret_cast<float4*>(&C[static_cast<size_t>(r) * N + c]) =
            make_float4(acc[i][h * 4 + 0], acc[i][h * 4 + 1], acc[i][h * 4 + 2], acc[i][h * 4 + 3]);
      }
    }
  }
}

bool aligned16(const void* p) { return (reinterpret_cast<uintptr_t>(p) & 15) == 0; }

}  // namespace

// ------------------------------------------------------------------------------------------------
// launcher: kernel2 where the alignment allows, else kernel1
// ------------------------------------------------------------------------------------------------
cudaError_t gemm_simt_fp32(const float* A, const float* B, float* C, int M, int N, int K,
                           cudaStream_t stream) {
  if (M <= 0 || N <= 0 || K <= 0) return cudaErrorInvalidValue;
  const dim3 grid((N + kBN - 1) / kBN, (M + kBM - 1) / kBM);
  if (grid.y > 65535) return cudaErrorInvalidConfiguration;
  // kernel2 needs every row of A, B and C to start on a 16-byte boundary.
  if (K % 4 == 0 && N % 4 == 0 && aligned16(A) && aligned16(B) && aligned16(C)) {
    gemm_simt_kernel2<<<grid, kThreads, 0, stream>>>(A, B, C, M, N, K);
  } else {
    gemm_simt_kernel1<<<grid, kThreads, 0, stream>>>(A, B, C, M, N, K);
  }
  return cudaGetLastError();
}

}  // namespace aicbench::kernels
