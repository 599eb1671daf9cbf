#pragma once
// The CPU backend's reference for the memory family: STREAM's triad as John D. McCalpin's
// stream.c runs it (stream_reference.cpp). Self-written, not STREAM's code; see there.
#include <cstddef>

namespace aicbench::kernels {

// The threads OpenMP runs the loops on (omp_get_max_threads(): OMP_NUM_THREADS, else one per
// hardware thread).
int stream_reference_threads();

// STREAM's initialisation loop, with the values validation expects (stream_values.hpp):
// first touch by the OpenMP threads, under the same static schedule as the triad.
void stream_reference_init(double* a, double* b, double* c, size_t n);

// a[j] = b[j] + scalar * c[j] for j < n, one `#pragma omp parallel for` (static schedule).
void stream_reference_triad(double* a, const double* b, const double* c, double scalar, size_t n);

}  // namespace aicbench::kernels
