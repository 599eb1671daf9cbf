#pragma once
// One error-check macro per API family. Each throws with the file, line and the call's text, so
// a failure on a remote node says where it happened.
#include <optional>
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

// After a CUDA error: whether it was sticky, i.e. the context is lost for this process (then the
// error's name and text), or nullopt when the device still works. A non-sticky error was cleared
// where it was caught (CUDA_CHECK); one that survives being cleared and comes back from the next
// synchronisation is sticky.
inline std::optional<std::string> cuda_context_lost() {
  if (cudaDeviceSynchronize() == cudaSuccess) return std::nullopt;
  (void)cudaGetLastError();
  const cudaError_t err = cudaDeviceSynchronize();
  if (err == cudaSuccess) return std::nullopt;
  return std::string(cudaGetErrorName(err)) + " (" + cudaGetErrorString(err) + ")";
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
