# cmake -DBUILD_DIR=<build tree> -P configured_without_cuda.cmake
# Fails when the configure step of BUILD_DIR looked for CUDA at all: the CUDA language enabled,
# or the CUDA toolkit, nvcc or NCCL searched for (each search leaves its entry in the cache).
file(GLOB cuda_compiler_files "${BUILD_DIR}/CMakeFiles/*/CMakeCUDACompiler.cmake")
if(cuda_compiler_files)
  message(FATAL_ERROR "the CUDA language was enabled: ${cuda_compiler_files}")
endif()
file(STRINGS "${BUILD_DIR}/CMakeCache.txt" cuda_entries
     REGEX "^(CMAKE_CUDA_COMPILER|CUDAToolkit_[A-Za-z_]*|CUDA_[A-Za-z_]*|NCCL_[A-Za-z_]*|_aicbench_nvcc)[:=]")
if(cuda_entries)
  list(LENGTH cuda_entries count)
  list(SUBLIST cuda_entries 0 3 first)
  message(FATAL_ERROR "the configure step looked for CUDA or NCCL (${count} cache entries): ${first} ...")
endif()
message(STATUS "${BUILD_DIR} was configured without looking for CUDA")
