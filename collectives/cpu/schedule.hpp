#pragma once
// Point-to-point collectives as schedules: per rank, the list of exchanges it makes, in order.
// A schedule is data, so it can be checked without MPI (tests/test_collective_schedules.cpp runs
// every rank's schedule in one process, with MPI's rendezvous rules, for any rank count and any
// element count) and executed with MPI (collectives/cpu/mpi_algorithms.hpp).
//
//   ring_all_reduce      reduce-scatter then all-gather around the ring: n-1 + n-1 steps, each
//                        rank sending 2(n-1)/n of the buffer: bandwidth-optimal, latency 2(n-1)
//   rhd_all_reduce       Rabenseifner: recursive halving (reduce-scatter) then recursive doubling
//                        (all-gather) among the largest power of two p2 <= n ranks; the other
//                        n - p2 ranks first fold their data into a partner and get the result back
//                        at the end. 2 log2(p2) (+2) steps: fewer, larger hops than the ring
//   ring_reduce_scatter  n-1 steps; rank r ends with block r reduced
//   ring_all_gather      n-1 steps; every rank's block goes once around the ring
//   chain_broadcast      the root's buffer cut into segments that flow down the chain
//                        root -> root+1 -> ..., pipelined: S + n - 2 steps for S segments
//   pairwise_all_to_all  n-1 exchanges; at step s ranks a and b with a + b = s (mod n) swap the
//                        blocks meant for each other (a symmetric pairing, so it also works in place)
//
// Counts need not divide by the ranks: part() gives the first count % n parts one more element.
#include <cstdint>
#include <vector>

namespace aicbench::coll {

struct Range {
  int64_t begin = 0, count = 0;  // elements
  int64_t end() const { return begin + count; }
};

// Part `i` of `count` elements cut into `parts` near-equal contiguous parts.
inline Range part(int64_t count, int parts, int i) {
  const int64_t base = count / parts, extra = count % parts;
  return {i * base + (i < extra ? i : extra), base + (i < extra ? 1 : 0)};
}

enum class Combine { copy, reduce };

// One exchange: an optional send of `send` (elements of the send buffer) to `send_to`, and an
// optional receive into `recv` (elements of the receive buffer) from `recv_from`, which then
// overwrites (copy) or is added to (reduce) what `recv` holds. Both at once, as MPI_Sendrecv.
// send_to == recv_from == this rank is a local copy.
struct Step {
  int send_to = -1;  // -1: no send
  Range send;
  int recv_from = -1;  // -1: no receive
  Range recv;
  Combine combine = Combine::copy;
};
using Schedule = std::vector<Step>;

// All-reduce schedules work on one buffer of `count` elements (send and receive buffer alike).
Schedule ring_all_reduce(int rank, int ranks, int64_t count);
Schedule rhd_all_reduce(int rank, int ranks, int64_t count);
// Blocks of `block` elements, one per rank, in one buffer of ranks * block elements (the send and
// the receive buffer alike): reduce-scatter leaves rank r's block r reduced (the other blocks hold
// partial sums); all-gather expects block r filled on rank r.
Schedule ring_reduce_scatter(int rank, int ranks, int64_t block);
Schedule ring_all_gather(int rank, int ranks, int64_t block);
// The root's `count` elements to every rank, in segments of `segment` elements (the receive
// buffer is also the one each rank forwards from).
Schedule chain_broadcast(int rank, int ranks, int root, int64_t count, int64_t segment);
// Send buffer: block p goes to rank p; receive buffer: block p comes from rank p.
Schedule pairwise_all_to_all(int rank, int ranks, int64_t block);

// Elements this rank sends over the whole schedule (local copies not counted).
int64_t elements_sent(const Schedule& schedule, int rank);
// The largest receive of the schedule, in elements: the scratch a reduce or an overlapping
// receive needs.
int64_t largest_receive(const Schedule& schedule);

}  // namespace aicbench::coll
