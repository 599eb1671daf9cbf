// SIMT fp32 GEMM, C = A * B, row-major.
//
// Versions (each kept; later ones say what they add):
//   gemm_simt_kernel1  128x128 block tile, BK = 8, 256 threads, 8x8 outputs per thread held in
//                      registers; A is stored transposed in shared memory so that both operands
//                      are read as float4 without bank conflicts; every global access predicated,
//                      so M, N, K need not be multiples of the tile.
//
// Measured: not yet on a GPU (no results/gpu/ file records it). Expected well below cuBLAS: no
// double buffering and scalar global loads (the 16-byte loads need aligned rows, which arbitrary
// K and N do not give). The GEMM issue's progression adds those.
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

}  // namespace

// ------------------------------------------------------------------------------------------------
// launcher
// ------------------------------------------------------------------------------------------------
cudaError_t gemm_simt_fp32(const float* A, const float* B, float* C, int M, int N, int K,
                           cudaStream_t stream) {
  if (M <= 0 || N <= 0 || K <= 0) return cudaErrorInvalidValue;
  const dim3 grid((N + kBN - 1) / kBN, (M + kBM - 1) / kBM);
  if (grid.y > 65535) return cudaErrorInvalidConfiguration;
  gemm_simt_kernel1<<<grid, kThreads, 0, stream>>>(A, B, C, M, N, K);
  return cudaGetLastError();
}

}  // namespace aicbench::kernels
