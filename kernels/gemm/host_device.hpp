#pragma once
// AICBENCH_HOST_DEVICE: for index arithmetic that the kernels run on the GPU and the CPU tests
// check on the host; plain C++ when the including file is not compiled by nvcc.
#if defined(__CUDACC__)
#define AICBENCH_HOST_DEVICE __host__ __device__
#else
#define AICBENCH_HOST_DEVICE
#endif
