#pragma once
// The driver's cuTensorMapEncodeTiled for the Hopper kernels' TMA descriptors, found at run time
// with cudaGetDriverEntryPointByVersion so that nothing links libcuda. Encoding is pure host
// arithmetic (~1 us, no driver round trip, no allocation): the kernels encode their maps on every
// call and pass them in the launch's parameters, so no cache can go stale when a buffer is freed
// and its address reused. nullptr when the driver is too old for TMA.
#include <cuda.h>
#include <cudaTypedefs.h>  // PFN_cuTensorMapEncodeTiled
#include <cuda_runtime.h>

namespace aicbench::kernels {

inline PFN_cuTensorMapEncodeTiled_v12000 tensor_map_encoder() {
  static const PFN_cuTensorMapEncodeTiled_v12000 fn = [] {
    void* ptr = nullptr;
    cudaDriverEntryPointQueryResult found{};
    if (cudaGetDriverEntryPointByVersion("cuTensorMapEncodeTiled", &ptr, 12000, cudaEnableDefault, &found) !=
            cudaSuccess ||
        found != cudaDriverEntryPointSuccess) {
      (void)cudaGetLastError();
      ptr = nullptr;
    }
    return reinterpret_cast<PFN_cuTensorMapEncodeTiled_v12000>(ptr);
  }();
  return fn;
}

}  // namespace aicbench::kernels
