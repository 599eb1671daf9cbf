// gemm_cpu_blocked_fp32: a blocked, multi-threaded CPU SGEMM.
//
// Rows of C are dealt to threads in blocks; within a block the K dimension is walked in panels
// of kKBlock so that the panel of B (kKBlock x kNBlock floats) stays in L2 while every row of the
// block streams past it, and the innermost loop runs along a row of C and of B with unit stride,
// which the compiler vectorises. No packing and no register blocking: a portable reference point,
// not a competitive SGEMM. Its vendor baseline is OpenBLAS (gemm/openblas/fp32, the same layout
// and thread count), which is an order of magnitude faster; pct_of_vendor on every cpu row says by
// how much.
#include "kernels/gemm/gemm_cpu.hpp"

#include <algorithm>
#include <thread>
#include <vector>

namespace aicbench::kernels {

namespace {

constexpr int64_t kMBlock = 32;   // rows of C per work item
constexpr int64_t kKBlock = 256;  // depth of a B panel
constexpr int64_t kNBlock = 512;  // width of a B panel: 256 x 512 x 4 B = 512 KiB

void gemm_rows(const float* A, const float* B, float* C, int64_t row_begin, int64_t row_end,
               int64_t N, int64_t K) {
  for (int64_t i = row_begin; i < row_end; ++i) std::fill(C + i * N, C + (i + 1) * N, 0.0f);
  for (int64_t n0 = 0; n0 < N; n0 += kNBlock) {
    const int64_t n1 = std::min(N, n0 + kNBlock);
    for (int64_t k0 = 0; k0 < K; k0 += kKBlock) {
      const int64_t k1 = std::min(K, k0 + kKBlock);
      for (int64_t i = row_begin; i < row_end; ++i) {
        float* __restrict__ c_row = C + i * N;
        const float* a_row = A + i * K;
        for (int64_t k = k0; k < k1; ++k) {
          const float a = a_row[k];
          const float* __restrict__ b_row = B + k * N;
          for (int64_t j = n0; j < n1; ++j) c_row[j] += a * b_row[j];
        }
      }
    }
  }
}

}  // namespace

void gemm_cpu_blocked_fp32(const float* A, const float* B, float* C, int64_t M, int64_t N,
                           int64_t K, int threads) {
  if (M <= 0 || N <= 0) return;
  if (threads <= 0) threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  const int64_t blocks = (M + kMBlock - 1) / kMBlock;
  threads = static_cast<int>(std::min<int64_t>(threads, blocks));

  // Static round-robin over row blocks: every block costs the same, so no work stealing needed.
  auto worker = [&](int t) {
    for (int64_t b = t; b < blocks; b += threads) {
      gemm_rows(A, B, C, b * kMBlock, std::min(M, (b + 1) * kMBlock), N, K);
    }
  };
  if (threads == 1) {
    worker(0);
    return;
  }
  std::vector<std::thread> pool;
  pool.reserve(threads);
  for (int t = 0; t < threads; ++t) pool.emplace_back(worker, t);
  for (auto& th : pool) th.join();
}

}  // namespace aicbench::kernels
