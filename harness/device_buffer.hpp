#pragma once
// RAII for device memory and streams, so that an exception (a failed validation, a CUDA
// error) never leaks GPU memory into the next benchmark.
#include <cstddef>
#include <utility>

#include <cuda_runtime.h>

#include "harness/cuda_check.hpp"

namespace aicbench {

template <typename T>
class DeviceBuffer {
 public:
  explicit DeviceBuffer(size_t count) : count_(count) {
    CUDA_CHECK(cudaMalloc(&data_, count * sizeof(T)));
  }
  ~DeviceBuffer() {
    if (data_) cudaFree(data_);
  }
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;

  T* get() const { return data_; }
  size_t size() const { return count_; }

 private:
  T* data_ = nullptr;
  size_t count_ = 0;
};

// Host to device from pageable memory, landed when it returns. cudaMemcpy from pageable memory may
// return once the bytes are staged, before the DMA to the device has finished, and work on a
// non-blocking stream (every CudaStream) does not wait for the legacy default stream that carries
// it: without the synchronisation a kernel could read the inputs before they arrive.
inline void upload(void* dst, const void* src, size_t bytes) {
  CUDA_CHECK(cudaMemcpy(dst, src, bytes, cudaMemcpyHostToDevice));
  CUDA_CHECK(cudaStreamSynchronize(cudaStreamLegacy));
}

class CudaStream {
 public:
  CudaStream() { CUDA_CHECK(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking)); }
  ~CudaStream() { cudaStreamDestroy(stream_); }
  CudaStream(const CudaStream&) = delete;
  CudaStream& operator=(const CudaStream&) = delete;
  cudaStream_t get() const { return stream_; }

 private:
  cudaStream_t stream_ = nullptr;
};

}  // namespace aicbench
