#include "kernels/gemm/gemm_openblas.hpp"

#include <cblas.h>

#include <algorithm>
#include <climits>
#include <stdexcept>
#include <thread>

namespace aicbench::kernels {

namespace {

int resolve_threads(int threads) {
  return threads > 0 ? threads : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
}

}  // namespace

int openblas_threads(int threads) {
  openblas_set_num_threads(resolve_threads(threads));
  return openblas_get_num_threads();
}

void gemm_openblas_fp32(const float* A, const float* B, float* C, int64_t M, int64_t N, int64_t K,
                        int threads) {
  if (M <= 0 || N <= 0) return;
  if (M > INT_MAX || N > INT_MAX || K > INT_MAX) {
    throw std::invalid_argument("gemm_openblas_fp32: M, N and K must each fit in int32");
  }
  openblas_set_num_threads(resolve_threads(threads));
  const auto m = static_cast<blasint>(M), n = static_cast<blasint>(N), k = static_cast<blasint>(K);
  // Row-major C = A * B with A M x K (ld K), B K x N (ld N), C M x N (ld N); beta 0 overwrites C.
  // K == 0 is legal here and gives C = 0, as gemm_cpu_blocked_fp32 does.
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, m, n, k, 1.0f, A, std::max<blasint>(1, k),
              B, n, 0.0f, C, n);
}

std::string openblas_config_string() {
  const char* config = openblas_get_config();
  return config ? std::string(config) : std::string("unknown");
}

}  // namespace aicbench::kernels
