#pragma once
// Fill and check kernels for the GPU collectives (collective_data.hpp says what the data is): the
// send buffer filled on the device, the receive buffer compared element by element with the exact
// result on the device, over the whole output, and the wrong ones counted.
#include <cstdint>

#include <cuda_runtime.h>

#include "collectives/cuda/collective_data.hpp"

namespace aicbench::collectives {

// What check_output found; lives in device memory while the check runs.
struct CheckCounters {
  unsigned long long wrong;      // elements not equal to the exact result
  unsigned long long nonfinite;  // of them, NaN or infinite (e.g. never written: the poison)
  unsigned long long first_wrong;  // the smallest index of a wrong element (~0 when none)
  unsigned int max_rel_err_bits;   // largest |got - want| / max(|want|, 1) over finite elements, as float bits
};

// send[i] = input_value(rank, i, period(ranks), salt) for i < elements.
cudaError_t fill_send(void* send, ElemType type, int64_t elements, int rank, int ranks, int salt,
                      cudaStream_t stream);

// Compares recv[0, recv_elements(op, ranks, count)) with expected_value(); adds what it finds to
// *counters (reset them first with reset_counters).
cudaError_t check_output(const void* recv, ElemType type, CollectiveOp op, int rank, int ranks,
                         int64_t count, int salt, CheckCounters* counters, cudaStream_t stream);
cudaError_t reset_counters(CheckCounters* counters, cudaStream_t stream);

// Spins on the device for about `nanoseconds` (tests: a slow rank).
cudaError_t device_delay(unsigned long long nanoseconds, cudaStream_t stream);

}  // namespace aicbench::collectives
