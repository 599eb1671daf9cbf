// The reference the CPU STREAM kernels are measured against (issue 12's target: our triad
// within 10 % of the reference STREAM's on the same machine in the same run).
//
// STREAM is John D. McCalpin's benchmark (https://www.cs.virginia.edu/stream/, stream.c version
// 5.10). Debian ships no package of it, and its licence asks that results published as "STREAM"
// follow its run rules, so this file does not copy it: it restates, in a few lines of our own,
// the part of stream.c that the target is about, as stream.c runs it:
//   - the triad loop, a[j] = b[j] + scalar * c[j], under `#pragma omp parallel for` (OpenMP's
//     default static schedule: each thread one contiguous block);
//   - the arrays initialised by the same parallel loop first (first touch places each thread's
//     pages on its NUMA node);
//   - compiled as STREAM's own Makefile compiles stream.c: `gcc -O2 -fopenmp`, nothing else
//     (kernels/CMakeLists.txt gives this file exactly those flags, after the build type's);
//   - bandwidth counted as STREAM counts it: 3 arrays x 8 bytes per element (24 bytes), no
//     write-allocate traffic.
// What differs from running stream.c: arrays on the heap (stream.c uses static arrays), the
// harness's timer and stopping rule instead of the best of NTIMES = 10, and the initial values
// (stream_values.hpp's, so that the result is checked exactly). Numbers from it are "a STREAM-like
// triad", never "STREAM results".
#include "kernels/memory/stream_reference.hpp"

#include <omp.h>

#include "kernels/memory/stream_values.hpp"

namespace aicbench::kernels {

int stream_reference_threads() { return omp_get_max_threads(); }

void stream_reference_init(double* a, double* b, double* c, size_t n) {
  const long long count = static_cast<long long>(n);
#pragma omp parallel for
  for (long long j = 0; j < count; j++) {
    a[j] = stream_a0(j);
    b[j] = stream_b0(j);
    c[j] = stream_c0(j);
  }
}

void stream_reference_triad(double* a, const double* b, const double* c, double scalar, size_t n) {
  const long long count = static_cast<long long>(n);
#pragma omp parallel for
  for (long long j = 0; j < count; j++) a[j] = b[j] + scalar * c[j];
}

}  // namespace aicbench::kernels
