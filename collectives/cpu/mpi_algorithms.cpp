#include "collectives/cpu/mpi_algorithms.hpp"

#if AICBENCH_WITH_MPI
#include <climits>
#include <cstring>

namespace aicbench::coll {

void mpi_check(int code, const char* call, const char* file, int line) {
  if (code == MPI_SUCCESS) return;
  char text[MPI_MAX_ERROR_STRING] = {};
  int length = 0;
  MPI_Error_string(code, text, &length);
  throw std::runtime_error(std::string(call) + " failed at " + file + ":" + std::to_string(line) + ": " +
                           std::string(text, static_cast<size_t>(length)));
}

namespace {

constexpr int kTag = 0xA1C;

// MPI_User_function for bf16: inout[i] = in[i] + inout[i], in fp32, rounded.
void bf16_sum(void* in, void* inout, int* len, MPI_Datatype*) {
  sum_into(Dtype::bf16, inout, in, *len);
}

int mpi_count(int64_t count) {
  if (count < 0 || count > INT_MAX) {
    throw std::runtime_error("collective of " + std::to_string(count) + " elements: MPI counts are int");
  }
  return static_cast<int>(count);
}

char* at(void* base, int64_t elements, Dtype d) { return static_cast<char*>(base) + elements * int64_t(element_bytes(d)); }
const char* at(const void* base, int64_t elements, Dtype d) {
  return static_cast<const char*>(base) + elements * int64_t(element_bytes(d));
}

int comm_rank(MPI_Comm comm) {
  int rank = 0;
  AICBENCH_MPI_CHECK(MPI_Comm_rank(comm, &rank));
  return rank;
}
int comm_size(MPI_Comm comm) {
  int size = 0;
  AICBENCH_MPI_CHECK(MPI_Comm_size(comm, &size));
  return size;
}

}  // namespace

MPI_Datatype mpi_datatype(Dtype d) {
  switch (d) {
    case Dtype::fp32: return MPI_FLOAT;
    case Dtype::fp64: return MPI_DOUBLE;
    case Dtype::int32: return MPI_INT32_T;
    case Dtype::bf16: return MPI_UINT16_T;
  }
  throw std::logic_error("mpi_datatype: unknown dtype");
}

MPI_Op mpi_sum(Dtype d) {
  if (d != Dtype::bf16) return MPI_SUM;
  // Created once per process, after MPI_Init (the first bf16 collective comes long after); MPI
  // frees user ops at MPI_Finalize.
  static MPI_Op bf16_op = [] {
    MPI_Op op = MPI_OP_NULL;
    AICBENCH_MPI_CHECK(MPI_Op_create(&bf16_sum, /*commute=*/1, &op));
    return op;
  }();
  return bf16_op;
}

void execute(const Schedule& schedule, Dtype d, const void* send, void* recv, void* scratch, MPI_Comm comm) {
  const int me = comm_rank(comm);
  const MPI_Datatype type = mpi_datatype(d);
  const size_t elt = element_bytes(d);
  for (const Step& step : schedule) {
    if (step.send_to == me && step.recv_from == me) {  // a rank's own block: a local copy
      if (at(send, step.send.begin, d) != at(recv, step.recv.begin, d)) {
        std::memcpy(at(recv, step.recv.begin, d), at(send, step.send.begin, d), size_t(step.recv.count) * elt);
      }
      continue;
    }
    const bool sends = step.send_to >= 0, receives = step.recv_from >= 0;
    const bool overlaps = sends && receives && static_cast<const void*>(send) == recv &&
                          step.send.begin < step.recv.end() && step.recv.begin < step.send.end();
    const bool via_scratch = receives && (step.combine == Combine::reduce || overlaps);
    void* landing = via_scratch ? scratch : at(recv, step.recv.begin, d);
    if (sends && receives) {
      AICBENCH_MPI_CHECK(MPI_Sendrecv(at(send, step.send.begin, d), mpi_count(step.send.count), type, step.send_to, kTag,
                                      landing, mpi_count(step.recv.count), type, step.recv_from, kTag, comm,
                                      MPI_STATUS_IGNORE));
    } else if (sends) {
      AICBENCH_MPI_CHECK(MPI_Send(at(send, step.send.begin, d), mpi_count(step.send.count), type, step.send_to, kTag, comm));
    } else if (receives) {
      AICBENCH_MPI_CHECK(MPI_Recv(landing, mpi_count(step.recv.count), type, step.recv_from, kTag, comm, MPI_STATUS_IGNORE));
    }
    if (!via_scratch) continue;
    if (step.combine == Combine::reduce) {
      sum_into(d, at(recv, step.recv.begin, d), scratch, step.recv.count);
    } else {
      std::memcpy(at(recv, step.recv.begin, d), scratch, size_t(step.recv.count) * elt);
    }
  }
}

int64_t scratch_elements(Operation op, P2pAlgorithm algo, int ranks, int64_t count) {
  switch (op) {
    case Operation::all_reduce:
      return largest_receive(algo == P2pAlgorithm::rhd ? rhd_all_reduce(0, ranks, count) : ring_all_reduce(0, ranks, count)) +
             // other ranks' largest receive can be one element longer than rank 0's
             1;
    case Operation::reduce_scatter: return int64_t(ranks) * count + count;  // a work copy of the input, and a block
    case Operation::all_to_all: return count;
    case Operation::all_gather:
    case Operation::broadcast: return 0;
  }
  return 0;
}

void p2p_collective(Operation op, P2pAlgorithm algo, Dtype d, const void* send, void* recv, int64_t count,
                    void* scratch, MPI_Comm comm) {
  const int me = comm_rank(comm), n = comm_size(comm);
  const size_t elt = element_bytes(d);
  switch (op) {
    case Operation::all_reduce: {
      if (send != recv) std::memcpy(recv, send, size_t(count) * elt);
      const Schedule s = algo == P2pAlgorithm::rhd ? rhd_all_reduce(me, n, count) : ring_all_reduce(me, n, count);
      execute(s, d, recv, recv, scratch, comm);
      return;
    }
    case Operation::all_gather: {
      char* mine = at(recv, int64_t(me) * count, d);
      if (send != mine) std::memcpy(mine, send, size_t(count) * elt);
      execute(ring_all_gather(me, n, count), d, recv, recv, scratch, comm);
      return;
    }
    case Operation::reduce_scatter: {
      const Schedule s = ring_reduce_scatter(me, n, count);
      if (recv == at(send, int64_t(me) * count, d)) {  // in place: reduce in the caller's buffer
        void* buffer = const_cast<void*>(send);
        execute(s, d, buffer, buffer, scratch, comm);
        return;
      }
      void* work = scratch;  // the input, copied so that it stays unchanged
      std::memcpy(work, send, size_t(n) * size_t(count) * elt);
      execute(s, d, work, work, at(scratch, int64_t(n) * count, d), comm);
      std::memcpy(recv, at(work, int64_t(me) * count, d), size_t(count) * elt);
      return;
    }
    case Operation::all_to_all:
      execute(pairwise_all_to_all(me, n, count), d, send, recv, scratch, comm);
      return;
    case Operation::broadcast: {
      constexpr int kRoot = 0;
      if (me == kRoot && send != recv) std::memcpy(recv, send, size_t(count) * elt);
      const int64_t segment = std::max<int64_t>(1, kBroadcastSegmentBytes / int64_t(elt));
      execute(chain_broadcast(me, n, kRoot, count, segment), d, recv, recv, scratch, comm);
      return;
    }
  }
}

void vendor_collective(Operation op, Dtype d, const void* send, void* recv, int64_t count, bool in_place,
                       MPI_Comm comm) {
  const MPI_Datatype type = mpi_datatype(d);
  const int c = mpi_count(count);
  switch (op) {
    case Operation::all_reduce:
      AICBENCH_MPI_CHECK(MPI_Allreduce(in_place ? MPI_IN_PLACE : send, recv, c, type, mpi_sum(d), comm));
      return;
    case Operation::all_gather:
      if (in_place) {
        AICBENCH_MPI_CHECK(MPI_Allgather(MPI_IN_PLACE, 0, MPI_DATATYPE_NULL, recv, c, type, comm));
      } else {
        AICBENCH_MPI_CHECK(MPI_Allgather(send, c, type, recv, c, type, comm));
      }
      return;
    case Operation::reduce_scatter:
      if (in_place) {
        void* buffer = const_cast<void*>(send);
        AICBENCH_MPI_CHECK(MPI_Reduce_scatter_block(MPI_IN_PLACE, buffer, c, type, mpi_sum(d), comm));
        if (recv != buffer) std::memmove(recv, buffer, size_t(count) * element_bytes(d));
      } else {
        AICBENCH_MPI_CHECK(MPI_Reduce_scatter_block(send, recv, c, type, mpi_sum(d), comm));
      }
      return;
    case Operation::all_to_all:
      AICBENCH_MPI_CHECK(MPI_Alltoall(in_place ? MPI_IN_PLACE : send, c, type, recv, c, type, comm));
      return;
    case Operation::broadcast: {
      constexpr int kRoot = 0;
      if (!in_place && comm_rank(comm) == kRoot) std::memcpy(recv, send, size_t(count) * element_bytes(d));
      AICBENCH_MPI_CHECK(MPI_Bcast(recv, c, type, kRoot, comm));
      return;
    }
  }
}

}  // namespace aicbench::coll
#endif
