#pragma once
// The CPU collectives over MPI: the vendor's own (MPI_Allreduce, MPI_Allgather,
// MPI_Reduce_scatter_block, MPI_Alltoall, MPI_Bcast) and ours, point-to-point schedules
// (collectives/cpu/schedule.hpp) executed with MPI_Sendrecv and reduced by our own loops
// (collectives/cpu/reduce.hpp). Knows nothing of the harness.
//
// Buffer conventions are nccl-tests' (count = elements of one rank's block where the operation
// has blocks):
//   all_reduce      send[count] -> recv[count]
//   all_gather      send[count] -> recv[ranks * count]; in place: send = recv + rank * count
//   reduce_scatter  send[ranks * count] -> recv[count]; in place: recv = send + rank * count
//                   (the other blocks of an in-place buffer are left holding partial sums)
//   all_to_all      send[ranks * count] -> recv[ranks * count]; in place: send = recv
//   broadcast       root's send[count] -> every rank's recv[count]; in place: send = recv
#if AICBENCH_WITH_MPI
#include <mpi.h>

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "collectives/cpu/reduce.hpp"
#include "collectives/cpu/schedule.hpp"

namespace aicbench::coll {

// Throws std::runtime_error with the call, its file and line, and MPI's error string.
void mpi_check(int code, const char* call, const char* file, int line);
#define AICBENCH_MPI_CHECK(call) ::aicbench::coll::mpi_check((call), #call, __FILE__, __LINE__)

// The MPI datatype of a dtype (bf16 travels as MPI_UINT16_T) and the sum over it: MPI_SUM, or
// for bf16 a user-defined commutative op that adds in fp32 and rounds (MPI has no bfloat16).
MPI_Datatype mpi_datatype(Dtype d);
MPI_Op mpi_sum(Dtype d);

// Runs `schedule` on this rank of `comm`: sends read `send`, receives land in `recv` (copied, or
// added with sum_into). A receive that is reduced, or that overlaps what the same step sends, goes
// through `scratch` (at least largest_receive(schedule) elements).
void execute(const Schedule& schedule, Dtype d, const void* send, void* recv, void* scratch, MPI_Comm comm);

// Our point-to-point algorithms, with the buffers above. `scratch` must hold scratch_elements()
// elements for the same arguments.
enum class P2pAlgorithm { ring, rhd };
enum class Operation { all_reduce, all_gather, reduce_scatter, all_to_all, broadcast };

int64_t scratch_elements(Operation op, P2pAlgorithm algo, int ranks, int64_t count);
void p2p_collective(Operation op, P2pAlgorithm algo, Dtype d, const void* send, void* recv, int64_t count,
                    void* scratch, MPI_Comm comm);
// In place (send and recv as above) is passed to MPI as MPI_IN_PLACE. MPI's in-place
// reduce-scatter leaves the result at the start of the buffer, not at rank * count: it is moved
// there (count elements, 1/ranks of the data) so that every implementation keeps one convention.
void vendor_collective(Operation op, Dtype d, const void* send, void* recv, int64_t count, bool in_place,
                       MPI_Comm comm);

// Segments of the chain broadcast: large enough to amortise a message, small enough to pipeline.
inline constexpr int64_t kBroadcastSegmentBytes = 128 << 10;

}  // namespace aicbench::coll
#endif
