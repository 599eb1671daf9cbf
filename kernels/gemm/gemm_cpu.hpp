#pragma once
// CPU GEMM: the cpu backend's implementation, and a CPU reference for the GPU kernels.
#include <cstdint>
#include <vector>

namespace aicbench::kernels {

// The register tile the CPU GEMM computes with, chosen at run time from what the CPU offers
// (kernels/gemm/gemm_cpu.cpp): 6 x 32 in AVX-512 registers, 6 x 16 in AVX2 with FMA, or 4 x 8 in
// portable C++ that the compiler vectorises for whatever the build targets (any other CPU, Arm's
// Grace included).
enum class CpuGemmPath { best, avx512, avx2, portable };

// How many of the `threads` a call starts: up_to uses fewer when the work is too small to pay
// for starting them (a GEMM benchmark, as OpenBLAS does); exactly starts them all while C has a
// tile for each (the burn-in, which must load every core; the tests of the split).
enum class CpuGemmThreads { up_to, exactly };

// C[M x N] = A[M x K] * B[K x N], all row-major and contiguous, fp32 with fp32 accumulation.
// Packed and cache-blocked, C split over `threads` threads (0: one per hardware thread).
// `path` best takes the widest the CPU supports; a path it does not support is run as portable.
void gemm_cpu_blocked_fp32(const float* A, const float* B, float* C, int64_t M, int64_t N,
                           int64_t K, int threads = 0, CpuGemmPath path = CpuGemmPath::best,
                           CpuGemmThreads use = CpuGemmThreads::up_to);

// The paths this CPU can run, best first (portable always last): what the tests check each of.
std::vector<CpuGemmPath> supported_cpu_gemm_paths();
const char* to_string(CpuGemmPath path);

}  // namespace aicbench::kernels
