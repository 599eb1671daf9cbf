#include "kernels/kernel_ready.hpp"

#include <map>
#include <mutex>
#include <utility>

namespace aicbench::kernels {

cudaError_t kernel_ready(const void* kernel, int min_arch, int smem_bytes) {
  static std::mutex mutex;
  static std::map<std::pair<const void*, int>, cudaError_t> ready;  // (kernel, device) -> answer
  int device = 0;
  if (const cudaError_t err = cudaGetDevice(&device); err != cudaSuccess) return err;
  std::lock_guard<std::mutex> lock(mutex);
  if (auto it = ready.find({kernel, device}); it != ready.end()) return it->second;
  cudaFuncAttributes attr{};
  cudaError_t err = cudaFuncGetAttributes(&attr, kernel);
  if (err == cudaErrorInvalidDeviceFunction || err == cudaErrorNoKernelImageForDevice) {
    (void)cudaGetLastError();  // not sticky; do not leave it for the next caller
    err = cudaErrorNotSupported;
  } else if (err == cudaSuccess && attr.ptxVersion < min_arch) {
    err = cudaErrorNotSupported;
  } else if (err == cudaSuccess) {
    err = cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, smem_bytes);
  }
  if (err != cudaSuccess && err != cudaErrorNotSupported) return err;  // not cached: ask again
  ready[{kernel, device}] = err;
  return err;
}

}  // namespace aicbench::kernels
