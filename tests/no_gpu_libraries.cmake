# cmake -DBINARY=<file> -P no_gpu_libraries.cmake
# Fails when BINARY would load a GPU library (CUDA runtime or driver, cuBLAS, cuBLASLt, NCCL,
# NVML), directly or through another library: ldd lists the whole closure, found or not. OpenBLAS,
# the CPU GEMM baseline, counts too: it belongs to the kernels, never to the reports library.
find_program(LDD ldd REQUIRED)
execute_process(COMMAND ${LDD} ${BINARY} OUTPUT_VARIABLE libraries ERROR_VARIABLE errors RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "ldd ${BINARY} failed (${rc}): ${errors}")
endif()
string(REGEX MATCHALL "lib(cuda|cudart|cublas|cublasLt|nccl|nvidia-ml|openblas)\\.so[.0-9]*" gpu_libraries "${libraries}")
if(gpu_libraries)
  list(REMOVE_DUPLICATES gpu_libraries)
  message(FATAL_ERROR "${BINARY} needs GPU libraries: ${gpu_libraries}")
endif()
message(STATUS "${BINARY} needs no GPU library:\n${libraries}")
