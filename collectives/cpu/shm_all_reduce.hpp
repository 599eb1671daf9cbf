#pragma once
// All-reduce through shared memory: the host twin of the GPU's one-shot and two-shot all-reduce
// over CUDA IPC buffers. Every rank of a node owns one segment that all ranks map (with MPI,
// MPI_Win_allocate_shared: collectives/cpu/shm_window.hpp; in the tests, ordinary memory shared
// by threads). Knows nothing of MPI or of the harness: it is given the segments.
//
//   one-shot  each rank copies its input into its segment; once all have, every rank reads all n
//             inputs and adds them (in rank order) into its output. One synchronisation, n reads
//             of the whole buffer per rank: for small messages.
//   two-shot  reduce-scatter then all-gather through the segments: rank r adds chunk r of all n
//             inputs into its segment's reduced chunk; once all have, every rank copies the n
//             reduced chunks into its output. Two synchronisations, each rank reading about
//             2 buffers' worth: for large messages.
//
// Flag protocol (each flag a 64-bit counter on its own cache line of its owner's segment, written
// only by its owner with a release store, read by peers with acquire loads). Calls are numbered
// by an epoch that every rank counts alike (every rank makes the same calls); large buffers go
// through in slices, each slice its own epoch e, staged in slot e % 2 of every segment:
//   1. wait until every peer's `done` >= e - 2: nobody still reads slot e % 2 from epoch e - 2
//      (a fast rank may run one epoch ahead in the other slot, never two)
//   2. copy this slice of the input into slot e % 2; `arrived` = e
//   3. wait until every peer's `arrived` >= e (a peer can be at most at e + 1, which writes the
//      other slot, so slot e % 2 holds epoch e's data)
//   4. one-shot: add the n staged inputs into the output.
//      two-shot: add chunk r of the n staged inputs into this segment's reduced chunk;
//      `reduced` = e; wait until every peer's `reduced` >= e; copy the n reduced chunks out
//   5. `done` = e: this rank reads nothing of epoch e any more
// A waiting rank spins, then yields its core (ranks may outnumber cores: mpirun --oversubscribe),
// and gives up with an error naming the peer after `wait_timeout_s`.
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "collectives/cpu/reduce.hpp"

namespace aicbench::coll {

enum class ShmAlgorithm { one_shot, two_shot };

class ShmAllReduce {
 public:
  // Bytes of one rank's segment for slices of at most `slice_elements`.
  static size_t segment_bytes(Dtype d, int ranks, int64_t slice_elements);
  // The slice that suits a message of `count` elements: the whole message up to kSliceBytes.
  static int64_t slice_elements(Dtype d, int64_t count);
  static constexpr int64_t kSliceBytes = 1 << 20;

  // `segments[p]`: rank p's segment (segment_bytes() long) as mapped in this process. Zeroes this
  // rank's flags: every rank must have constructed before any runs (a barrier between).
  ShmAllReduce(ShmAlgorithm algorithm, Dtype d, int rank, std::vector<std::byte*> segments,
               int64_t slice_elements, double wait_timeout_s = 60);

  // One all-reduce of `count` elements; `out` may be `in`. Every rank calls it with the same count.
  void run(const void* in, void* out, int64_t count);

 private:
  struct Flags;
  Flags& flags(int p) const;
  std::byte* input_slot(int p, uint64_t epoch) const;
  std::byte* reduced_slot(int p, uint64_t epoch) const;
  // Waits until peer p's flag (member `which` of its Flags) reaches `value`.
  void wait_all(std::atomic<uint64_t> Flags::*which, uint64_t value) const;
  void slice(const std::byte* in, std::byte* out, int64_t count);

  ShmAlgorithm algorithm_;
  Dtype dtype_;
  int rank_, ranks_;
  std::vector<std::byte*> segments_;
  int64_t slice_elements_;
  size_t input_bytes_, reduced_bytes_;
  double wait_timeout_s_;
  uint64_t epoch_ = 0;
  std::vector<const void*> sources_;
};

}  // namespace aicbench::coll
