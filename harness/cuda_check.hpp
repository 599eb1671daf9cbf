#pragma once
// One error-check macro per API family. Each throws with the file, line and the call's text, so
// a failure on a remote node says where it happened.
#include <sstream>
#include <stdexcept>
#include <string>

#include <cublas_v2.h>
#include <cuda_runtime.h>

namespace aicbench {

class CudaError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

[[noreturn]] inline void throw_cuda_error(const char* api, const std::string& detail,
                                          const char* call, const char* file, int line) {
  std::ostringstream msg;
  msg << api << " error: " << detail << " in " << call << " at " << file << ":" << line;
  throw CudaError(msg.str());
}

}  // namespace aicbench

#define CUDA_CHECK(call)                                                                    \
  do {                                                                                      \
    const cudaError_t aicbench_err_ = (call);                                               \
    if (aicbench_err_ != cudaSuccess) {                                                     \
      (void)cudaGetLastError(); /* clear a non-sticky error so the next call starts clean */ \
      ::aicbench::throw_cuda_error("CUDA", cudaGetErrorString(aicbench_err_), #call,        \
                                   __FILE__, __LINE__);                                     \
    }                                                                                       \
  } while (0)

#define CUBLAS_CHECK(call)                                                                     \
  do {                                                                                         \
    const cublasStatus_t aicbench_status_ = (call);                                            \
    if (aicbench_status_ != CUBLAS_STATUS_SUCCESS) {                                           \
      ::aicbench::throw_cuda_error("cuBLAS", cublasGetStatusString(aicbench_status_), #call,   \
                                   __FILE__, __LINE__);                                        \
    }                                                                                          \
  } while (0)
