# Every third-party dependency in one place, each with a message that says how to get it.
# On a development machine they come from Debian's packages (scripts/install-deps.sh); on a GPU
# machine without apt they come from the kit that scripts/make-gpu-kit.sh prepares (pass it as
# -DCMAKE_PREFIX_PATH=<repo>/.kit).

option(AICBENCH_BUILD_TESTS "Build the GoogleTest suite" ON)
option(AICBENCH_WITH_NCCL "Link NCCL (its version goes into every result file's provenance)" ON)
option(AICBENCH_WITH_MPI
  "Link MPI: multi-rank runs under mpirun/srun and the collectives (a build without it runs one process)" ON)
option(AICBENCH_WITH_OPENBLAS
  "Link OpenBLAS: the `openblas` GEMM, the CPU backend's vendor baseline" ON)
option(AICBENCH_WITH_CUDNN
  "Link cuDNN 9: the `cudnn` attention, the attention family's vendor baseline" ON)

set(_aicbench_install_hint
  "Run scripts/install-deps.sh (Debian/Ubuntu), or on a machine without apt pass the kit made by "
  "scripts/make-gpu-kit.sh as -DCMAKE_PREFIX_PATH=<repo>/.kit.")

macro(aicbench_require_package name debian_package)
  find_package(${name} ${ARGN} QUIET)
  if(NOT ${name}_FOUND)
    message(FATAL_ERROR
      "aicbench needs ${name} (Debian package '${debian_package}'), which was not found. "
      ${_aicbench_install_hint})
  endif()
endmacro()

# The reports-only build (AICBENCH_REPORTS_ONLY) needs none of the GPU side: no CUDA toolkit, no
# NCCL, no Google Benchmark (only `run` uses it); they are not even looked for.
if(NOT AICBENCH_REPORTS_ONLY)
  find_package(CUDAToolkit 12.4 QUIET)
  if(NOT CUDAToolkit_FOUND)
    message(FATAL_ERROR
      "aicbench needs the CUDA toolkit (12.4 or newer; 13.x expected), with cudart, cuBLAS and "
      "cuBLASLt. Install it from NVIDIA and put nvcc on PATH, or set CUDAToolkit_ROOT.")
  endif()
  foreach(_lib cudart cublas cublasLt)
    if(NOT TARGET CUDA::${_lib})
      message(FATAL_ERROR "The CUDA toolkit at ${CUDAToolkit_LIBRARY_DIR} has no ${_lib} library.")
    endif()
  endforeach()

  aicbench_require_package(benchmark libbenchmark-dev CONFIG)
endif()

aicbench_require_package(cxxopts libcxxopts-dev CONFIG)
aicbench_require_package(nlohmann_json nlohmann-json3-dev CONFIG)
# cmake/FindRE2.cmake; `run --filter`, and `history --filter` in the reports-only build too.
aicbench_require_package(RE2 libre2-dev)
find_package(Threads REQUIRED)
if(AICBENCH_BUILD_TESTS)
  aicbench_require_package(GTest libgtest-dev CONFIG)
  include(GoogleTest)
endif()

# MPI (OpenMPI from Debian's openmpi-bin and libopenmpi-dev): bootstraps multi-rank jobs, gathers
# each node's results and runs the CPU collectives. Only the C API is used.
if(AICBENCH_WITH_MPI AND NOT AICBENCH_REPORTS_ONLY)
  # The CXX component (the C API from C++; no C language in this project), without the deprecated
  # C++ bindings.
  set(MPI_CXX_SKIP_MPICXX ON)
  find_package(MPI COMPONENTS CXX QUIET)
  if(NOT MPI_CXX_FOUND)
    message(FATAL_ERROR
      "aicbench needs MPI (Debian packages 'openmpi-bin' and 'libopenmpi-dev'), which was not found. "
      ${_aicbench_install_hint}
      " Or configure with -DAICBENCH_WITH_MPI=OFF to build a single-process aicbench.")
  endif()
endif()

if(AICBENCH_WITH_NCCL AND NOT AICBENCH_REPORTS_ONLY)
  find_package(NCCL)
  if(NOT NCCL_FOUND)
    message(FATAL_ERROR
      "aicbench needs NCCL (headers and libnccl), which was not found next to the CUDA toolkit. "
      "Set NCCL_ROOT to its install prefix, or configure with -DAICBENCH_WITH_NCCL=OFF to build "
      "without it (result files then say that NCCL is absent).")
  endif()
endif()

# OpenBLAS, the CPU backend's vendor baseline (gemm/openblas/fp32): linked into the kernels
# library only, never into the CUDA-free reports library. Debian's libopenblas-dev ships a CMake
# package (OpenBLASConfig.cmake, with absolute paths); elsewhere, e.g. a kit prefix, the library
# and cblas.h are looked for directly. A build without it (-DAICBENCH_WITH_OPENBLAS=OFF: the GPU
# check, whose kit does not carry OpenBLAS's 36 MiB) has no `openblas` implementation, and CPU rows
# then have no pct_of_vendor.
if(AICBENCH_WITH_OPENBLAS AND NOT AICBENCH_REPORTS_ONLY)
  find_package(OpenBLAS CONFIG QUIET)
  if(OpenBLAS_FOUND AND OpenBLAS_LIBRARIES AND OpenBLAS_INCLUDE_DIRS)
    set(_aicbench_openblas_library "${OpenBLAS_LIBRARIES}")
    set(_aicbench_openblas_include "${OpenBLAS_INCLUDE_DIRS}")
  else()
    find_library(_aicbench_openblas_library NAMES openblas
                 PATH_SUFFIXES openblas-pthread openblas-openmp openblas-serial)
    find_path(_aicbench_openblas_include cblas.h
              PATH_SUFFIXES openblas-pthread openblas-openmp openblas-serial openblas)
  endif()
  if(NOT _aicbench_openblas_library OR NOT _aicbench_openblas_include)
    message(FATAL_ERROR
      "aicbench needs OpenBLAS (Debian package 'libopenblas-dev'), the CPU backend's vendor "
      "baseline, which was not found. Run scripts/install-deps.sh, or configure with "
      "-DAICBENCH_WITH_OPENBLAS=OFF to build without it (CPU rows then have no pct_of_vendor).")
  endif()
  if(NOT TARGET OpenBLAS::OpenBLAS)
    add_library(OpenBLAS::OpenBLAS UNKNOWN IMPORTED)
    set_target_properties(OpenBLAS::OpenBLAS PROPERTIES
      IMPORTED_LOCATION "${_aicbench_openblas_library}"
      INTERFACE_INCLUDE_DIRECTORIES "${_aicbench_openblas_include}")
  endif()
  message(STATUS "OpenBLAS: ${_aicbench_openblas_library}")
endif()

# cuDNN 9, the attention family's vendor baseline (attention/cudnn: fused SDPA through the backend
# API; kernels/attention/attention_cudnn.cpp). It ships beside the CUDA toolkit (cudnn.h in its
# include directory, libcudnn in its lib or lib64) or in Debian/Ubuntu's cudnn9-cuda-13 packages.
# A build without it (-DAICBENCH_WITH_CUDNN=OFF: a GPU machine whose toolkit has no cuDNN) records
# the `cudnn` benchmarks as skipped, and attention rows then have no pct_of_vendor.
if(AICBENCH_WITH_CUDNN AND NOT AICBENCH_REPORTS_ONLY)
  set(_aicbench_cuda_root "${CUDAToolkit_LIBRARY_ROOT}")
  if(NOT _aicbench_cuda_root)
    get_filename_component(_aicbench_cuda_root "${CUDAToolkit_BIN_DIR}" DIRECTORY)
  endif()
  find_path(_aicbench_cudnn_include cudnn_version.h
            HINTS ${CUDAToolkit_INCLUDE_DIRS} "${_aicbench_cuda_root}/include"
            PATH_SUFFIXES "" x86_64-linux-gnu aarch64-linux-gnu)
  find_library(_aicbench_cudnn_library NAMES cudnn
               HINTS "${CUDAToolkit_LIBRARY_DIR}" "${_aicbench_cuda_root}/lib" "${_aicbench_cuda_root}/lib64"
               PATH_SUFFIXES "" x86_64-linux-gnu aarch64-linux-gnu)
  set(_aicbench_cudnn_major 0)
  if(_aicbench_cudnn_include)
    file(STRINGS "${_aicbench_cudnn_include}/cudnn_version.h" _aicbench_cudnn_major_line
         REGEX "^#define CUDNN_MAJOR [0-9]+")
    string(REGEX REPLACE "^#define CUDNN_MAJOR ([0-9]+).*" "\\1" _aicbench_cudnn_major "${_aicbench_cudnn_major_line}")
  endif()
  if(NOT _aicbench_cudnn_library OR NOT _aicbench_cudnn_include OR _aicbench_cudnn_major LESS 9)
    message(FATAL_ERROR
      "aicbench needs cuDNN 9 (cudnn.h and libcudnn beside the CUDA toolkit, or Debian/Ubuntu's "
      "'cudnn9-cuda-13' packages), the attention family's vendor baseline, which was not found "
      "(include: ${_aicbench_cudnn_include}, library: ${_aicbench_cudnn_library}, major version: "
      "${_aicbench_cudnn_major}). Configure with -DAICBENCH_WITH_CUDNN=OFF to build without it "
      "(the `cudnn` attention benchmarks are then skipped).")
  endif()
  if(NOT TARGET CUDNN::cudnn)
    add_library(CUDNN::cudnn UNKNOWN IMPORTED)
    set_target_properties(CUDNN::cudnn PROPERTIES
      IMPORTED_LOCATION "${_aicbench_cudnn_library}"
      INTERFACE_INCLUDE_DIRECTORIES "${_aicbench_cudnn_include}")
  endif()
  message(STATUS "cuDNN ${_aicbench_cudnn_major}: ${_aicbench_cudnn_library}")
endif()

# The report's charts are drawn by gnuplot at run time; it is looked up here only to warn early.
find_program(AICBENCH_GNUPLOT gnuplot)
if(NOT AICBENCH_GNUPLOT)
  message(WARNING "gnuplot not found: 'aicbench report --html' will fail until it is installed "
                  "(Debian package 'gnuplot-nox'). Markdown reports do not need it.")
endif()

# `aicbench history` keeps every run in an SQLite database (CMake's own FindSQLite3 module), in
# every configuration, the reports-only one included. The sqlite3 shell is not needed to build;
# docs/history.md's example queries use it (Debian package 'sqlite3').
aicbench_require_package(SQLite3 libsqlite3-dev)
