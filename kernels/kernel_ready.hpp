#pragma once
// Whether a kernel can run on the current device, found out once per kernel and device: the
// binary must hold code of at least `min_arch` (80: compute capability 8.0) that this device
// loads, since an image JIT-compiled from older PTX would have the empty body the kernels'
// `#if __CUDA_ARCH__` guards leave. Also raises the kernel's dynamic shared-memory limit to
// `smem_bytes`. Returns cudaSuccess, cudaErrorNotSupported (not for this device or build), or the
// error the runtime gave (not cached: asked again next time).
//
// The cache is keyed by the kernel's address, not its type: kernels of one signature (every head
// dimension of a family) each get their own answer and their own shared-memory limit.
#include <cuda_runtime.h>

namespace aicbench::kernels {

cudaError_t kernel_ready(const void* kernel, int min_arch, int smem_bytes);

template <class Kernel>
cudaError_t kernel_ready(Kernel kernel, int min_arch, int smem_bytes) {
  return kernel_ready(reinterpret_cast<const void*>(kernel), min_arch, smem_bytes);
}

}  // namespace aicbench::kernels
