// gemm_cpu_blocked_fp32: a packed, register-blocked, multi-threaded CPU SGEMM.
//
// The classic layered loops of a BLAS (Goto and van de Geijn, "Anatomy of High-Performance Matrix
// Multiplication", 2008), written for clarity rather than the last few percent:
//   - C is split into one rectangle per thread (rows first, columns when there are few rows);
//   - within it, a kNc-wide slab of B's columns and a kKc-deep slice of K are packed into panels
//     of NR columns (k-major, zero-padded), read once per slice from L2/L3;
//   - a kMc-tall block of A's rows is packed into panels of MR rows (k-major), kept in L2;
//   - a micro-kernel keeps an MR x NR tile of C in registers over the whole slice: per k one
//     broadcast of A per row and NR/width vector loads of B, MR x NR/width fused multiply-adds.
// The micro-kernel is picked at run time from what the CPU offers (CpuGemmPath): AVX-512 6 x 32
// (12 zmm accumulators), AVX2+FMA 6 x 16 (12 ymm of 16), or a portable 4 x 8 the compiler
// vectorises. Tiles at the edges of C go through a small buffer, so any M, N, K work (K = 0 gives
// C = 0). Its vendor baseline is OpenBLAS (gemm/openblas/fp32, same layout and thread count),
// whose hand-tuned assembly stays ahead; pct_of_vendor on every cpu row says by how much.
//
// The summation order is fixed by (kKc, the path, the thread split), so a run repeats its bits
// exactly: the CPU burn-in (harness/families/burnin.cpp) relies on that.
#include "kernels/gemm/gemm_cpu.hpp"

#include <algorithm>
#include <functional>
#include <memory>
#include <thread>
#include <vector>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define AICBENCH_CPU_GEMM_X86 1
#else
#define AICBENCH_CPU_GEMM_X86 0
#endif

namespace aicbench::kernels {

namespace {

constexpr int64_t kKc = 256;   // depth of a packed slice: an A panel of 6 rows is 6 KiB, in L1
constexpr int64_t kMc = 144;   // rows of A packed at once (144 x 256 x 4 B = 144 KiB, in L2)
constexpr int64_t kNc = 2048;  // columns of B packed at once (256 x 2048 x 4 B = 2 MiB, in L2/L3)

// c[MR x NR] (row stride ldc) += a[kc x MR] (packed, k-major) * b[kc x NR] (packed, k-major).
using MicroKernel = void (*)(int64_t kc, const float* a, const float* b, float* c, int64_t ldc);

struct Tile {
  int64_t mr, nr;
  MicroKernel kernel;
};

void micro_portable(int64_t kc, const float* a, const float* b, float* c, int64_t ldc) {
  constexpr int kMr = 4, kNr = 8;
  float acc[kMr][kNr] = {};
  for (int64_t k = 0; k < kc; ++k, a += kMr, b += kNr) {
    for (int r = 0; r < kMr; ++r) {
      for (int j = 0; j < kNr; ++j) acc[r][j] += a[r] * b[j];
    }
  }
  for (int r = 0; r < kMr; ++r) {
    for (int j = 0; j < kNr; ++j) c[r * ldc + j] += acc[r][j];
  }
}

#if AICBENCH_CPU_GEMM_X86
__attribute__((target("avx2,fma"))) void micro_avx2(int64_t kc, const float* a, const float* b, float* c,
                                                     int64_t ldc) {
  constexpr int kMr = 6;
  __m256 acc[kMr][2];
#pragma GCC unroll 6
  for (int r = 0; r < kMr; ++r) acc[r][0] = acc[r][1] = _mm256_setzero_ps();
  for (int64_t k = 0; k < kc; ++k, a += kMr, b += 16) {
    const __m256 b0 = _mm256_loadu_ps(b), b1 = _mm256_loadu_ps(b + 8);
#pragma GCC unroll 6
    for (int r = 0; r < kMr; ++r) {
      const __m256 ar = _mm256_broadcast_ss(a + r);
      acc[r][0] = _mm256_fmadd_ps(ar, b0, acc[r][0]);
      acc[r][1] = _mm256_fmadd_ps(ar, b1, acc[r][1]);
    }
  }
#pragma GCC unroll 6
  for (int r = 0; r < kMr; ++r) {
    float* row = c + r * ldc;
    _mm256_storeu_ps(row, _mm256_add_ps(_mm256_loadu_ps(row), acc[r][0]));
    _mm256_storeu_ps(row + 8, _mm256_add_ps(_mm256_loadu_ps(row + 8), acc[r][1]));
  }
}

__attribute__((target("avx512f"))) void micro_avx512(int64_t kc, const float* a, const float* b, float* c,
                                                      int64_t ldc) {
  constexpr int kMr = 6;
  __m512 acc[kMr][2];
#pragma GCC unroll 6
  for (int r = 0; r < kMr; ++r) acc[r][0] = acc[r][1] = _mm512_setzero_ps();
  for (int64_t k = 0; k < kc; ++k, a += kMr, b += 32) {
    const __m512 b0 = _mm512_loadu_ps(b), b1 = _mm512_loadu_ps(b + 16);
#pragma GCC unroll 6
    for (int r = 0; r < kMr; ++r) {
      const __m512 ar = _mm512_set1_ps(a[r]);
      acc[r][0] = _mm512_fmadd_ps(ar, b0, acc[r][0]);
      acc[r][1] = _mm512_fmadd_ps(ar, b1, acc[r][1]);
    }
  }
#pragma GCC unroll 6
  for (int r = 0; r < kMr; ++r) {
    float* row = c + r * ldc;
    _mm512_storeu_ps(row, _mm512_add_ps(_mm512_loadu_ps(row), acc[r][0]));
    _mm512_storeu_ps(row + 16, _mm512_add_ps(_mm512_loadu_ps(row + 16), acc[r][1]));
  }
}
#endif

bool cpu_supports(CpuGemmPath path) {
#if AICBENCH_CPU_GEMM_X86
  // libgcc's checks include the OS's support for the wider registers (XCR0), not only CPUID's.
  if (path == CpuGemmPath::avx512) return __builtin_cpu_supports("avx512f");
  if (path == CpuGemmPath::avx2) return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#endif
  return path == CpuGemmPath::portable;
}

Tile tile_for(CpuGemmPath path) {
  if (path == CpuGemmPath::best) path = supported_cpu_gemm_paths().front();
  if (!cpu_supports(path)) path = CpuGemmPath::portable;
#if AICBENCH_CPU_GEMM_X86
  if (path == CpuGemmPath::avx512) return {6, 32, micro_avx512};
  if (path == CpuGemmPath::avx2) return {6, 16, micro_avx2};
#endif
  return {4, 8, micro_portable};
}

int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

// out[p][k][r] = A[i0 + p*mr + r][k0 + k] for mc rows and kc columns of row-major A (ld lda);
// rows past mc are zero, so an edge panel needs no special kernel.
void pack_a(const float* A, int64_t lda, int64_t i0, int64_t mc, int64_t k0, int64_t kc, int64_t mr, float* out) {
  for (int64_t p = 0; p < mc; p += mr) {
    for (int64_t k = 0; k < kc; ++k) {
      for (int64_t r = 0; r < mr; ++r) {
        *out++ = p + r < mc ? A[(i0 + p + r) * lda + k0 + k] : 0.0f;
      }
    }
  }
}

// out[q][k][j] = B[k0 + k][j0 + q*nr + j] for kc rows and nc columns of row-major B (ld ldb);
// columns past nc are zero.
void pack_b(const float* B, int64_t ldb, int64_t k0, int64_t kc, int64_t j0, int64_t nc, int64_t nr, float* out) {
  for (int64_t q = 0; q < nc; q += nr) {
    const int64_t width = std::min(nr, nc - q);
    for (int64_t k = 0; k < kc; ++k) {
      const float* row = B + (k0 + k) * ldb + j0 + q;
      std::copy(row, row + width, out);
      std::fill(out + width, out + nr, 0.0f);
      out += nr;
    }
  }
}

// C[m0:m1, n0:n1] = A[m0:m1, :] * B[:, n0:n1]: one thread's rectangle.
void gemm_rectangle(const float* A, const float* B, float* C, int64_t N, int64_t K, int64_t m0, int64_t m1,
                    int64_t n0, int64_t n1, const Tile& t) {
  for (int64_t i = m0; i < m1; ++i) std::fill(C + i * N + n0, C + i * N + n1, 0.0f);
  // Sized for this rectangle, not the largest block, and left uninitialised (packing writes every
  // element): a small GEMM must not pay for zeroing, or for mmap'd pages, that it never uses.
  const int64_t depth = std::min(kKc, K);
  std::unique_ptr<float[]> a_packed(new float[ceil_div(std::min(kMc, m1 - m0), t.mr) * t.mr * depth]);
  std::unique_ptr<float[]> b_packed(new float[ceil_div(std::min(kNc, n1 - n0), t.nr) * t.nr * depth]);
  std::vector<float> edge(static_cast<size_t>(t.mr * t.nr));
  for (int64_t jc = n0; jc < n1; jc += kNc) {
    const int64_t nc = std::min(kNc, n1 - jc);
    for (int64_t pc = 0; pc < K; pc += kKc) {
      const int64_t kc = std::min(kKc, K - pc);
      pack_b(B, N, pc, kc, jc, nc, t.nr, b_packed.get());
      for (int64_t ic = m0; ic < m1; ic += kMc) {
        const int64_t mc = std::min(kMc, m1 - ic);
        pack_a(A, K, ic, mc, pc, kc, t.mr, a_packed.get());
        for (int64_t jr = 0; jr < nc; jr += t.nr) {
          const int64_t nr = std::min(t.nr, nc - jr);
          for (int64_t ir = 0; ir < mc; ir += t.mr) {
            const int64_t mr = std::min(t.mr, mc - ir);
            const float* a = a_packed.get() + ir * kc;
            const float* b = b_packed.get() + jr * kc;
            float* c = C + (ic + ir) * N + jc + jr;
            if (mr == t.mr && nr == t.nr) {
              t.kernel(kc, a, b, c, N);
              continue;
            }
            // An edge tile: the whole tile into a buffer, its valid part added to C.
            std::fill(edge.begin(), edge.end(), 0.0f);
            t.kernel(kc, a, b, edge.data(), t.nr);
            for (int64_t r = 0; r < mr; ++r) {
              for (int64_t j = 0; j < nr; ++j) c[r * N + j] += edge[r * t.nr + j];
            }
          }
        }
      }
    }
  }
}

}  // namespace

std::vector<CpuGemmPath> supported_cpu_gemm_paths() {
  std::vector<CpuGemmPath> paths;
  for (CpuGemmPath p : {CpuGemmPath::avx512, CpuGemmPath::avx2, CpuGemmPath::portable}) {
    if (cpu_supports(p)) paths.push_back(p);
  }
  return paths;
}

const char* to_string(CpuGemmPath path) {
  switch (path) {
    case CpuGemmPath::best: return "best";
    case CpuGemmPath::avx512: return "avx512";
    case CpuGemmPath::avx2: return "avx2";
    case CpuGemmPath::portable: return "portable";
  }
  return "?";
}

void gemm_cpu_blocked_fp32(const float* A, const float* B, float* C, int64_t M, int64_t N, int64_t K, int threads,
                           CpuGemmPath path, CpuGemmThreads use) {
  if (M <= 0 || N <= 0) return;
  const Tile t = tile_for(path);
  if (threads <= 0) threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  // Starting a thread costs tens of microseconds (no pool is kept between calls): each must get
  // enough work to pay for it, 2^25 flops (about 0.1 ms on an AVX-512 core), so a 128^3 GEMM runs
  // on one thread. Measured on a 2-core VM: 128^3 took 27 us on one thread, 73 us on two.
  if (use == CpuGemmThreads::up_to) {
    const double flops = 2.0 * double(M) * double(N) * double(K);
    threads = static_cast<int>(std::clamp<double>(flops / double(1 << 25), 1.0, threads));
  }
  // Rows first (each thread then packs only its own A); columns too when there are too few row
  // panels for every thread. Boundaries fall on whole tiles.
  const int64_t row_panels = ceil_div(M, t.mr), col_panels = ceil_div(N, t.nr);
  const int64_t row_parts = std::min<int64_t>(threads, row_panels);
  const int64_t col_parts = std::min<int64_t>(std::max<int64_t>(1, threads / row_parts), col_panels);
  const int64_t rows_per_part = ceil_div(row_panels, row_parts) * t.mr;
  const int64_t cols_per_part = ceil_div(col_panels, col_parts) * t.nr;

  // The calling thread takes the first rectangle itself: one thread fewer to start.
  std::vector<std::thread> pool;
  for (int64_t part = row_parts * col_parts - 1; part >= 0; --part) {
    const int64_t m0 = (part / col_parts) * rows_per_part, n0 = (part % col_parts) * cols_per_part;
    if (m0 >= M || n0 >= N) continue;
    const int64_t m1 = std::min(M, m0 + rows_per_part), n1 = std::min(N, n0 + cols_per_part);
    if (part == 0) {
      gemm_rectangle(A, B, C, N, K, m0, m1, n0, n1, t);
    } else {
      pool.emplace_back(gemm_rectangle, A, B, C, N, K, m0, m1, n0, n1, std::cref(t));
    }
  }
  for (std::thread& th : pool) th.join();
}

}  // namespace aicbench::kernels
