#pragma once
// All-reduce through shared memory: the host twin of the GPU's one-shot and two-shot all-reduce
// over CUDA IPC buffers. Every rank of a node owns one segment that all ranks map (with MPI,
// MPI_Win_allocate_shared: collectives/cpu/shm_window.hpp; in the tests, ordinary memory shared
// by threads). Knows nothing of MPI or of the harness: it is given the segments.
//
//   one-shot  once every rank's input is there, every rank reads all n inputs and adds them (in
//             rank order, so every rank gets the same bits) into its output. n reads of the
//             whole buffer per rank, one synchronisation: for small messages.
//   two-shot  reduce-scatter then all-gather through the segments: rank r adds chunk r of all n
//             inputs; once all have, every rank copies the n reduced chunks into its output.
//             About 2 reads and 1 write of the buffer per rank: for large messages.
//
// Where the buffers are (as on GPUs, where a kernel either copies its input into the IPC buffer
// or is given buffers that are registered, i.e. already in it):
//   staged      the caller's buffers are its own: each call copies the input into one of two
//               slots of the segment (large messages in slices of kSliceBytes), and peers read
//               the slots. Any buffer works; the copy costs a read and a write of the buffer.
//   registered  the caller's input and output ARE in its segment (registered_input/output): peers
//               read them directly, no copy. The call returns only when every peer has finished
//               reading this rank's buffers, so the caller may write them at once.
//
// Flag protocol: each flag a 64-bit counter on its own cache line of its owner's segment, written
// only by its owner with a release store, read by peers with acquire loads (never a fence, never
// a lock). Every rank numbers its calls alike (an epoch; every rank makes the same calls; a staged
// slice is an epoch of its own). Staged, epoch e, slot e % 2:
//   1. wait until every peer's `done` >= e - 2: nobody still reads slot e % 2 from epoch e - 2
//      (a fast rank may run one epoch ahead in the other slot, never two)
//   2. copy this slice of the input into slot e % 2; `arrived` = e
//   3. wait until every peer's `arrived` >= e (a peer is at most at e + 1, which writes the other
//      slot, so slot e % 2 holds epoch e's data)
//   4. one-shot: add the n staged inputs into the output.
//      two-shot: add chunk r of the n staged inputs into this slot's reduced chunk; `reduced` = e;
//      wait until every peer's `reduced` >= e; copy the n reduced chunks out
//   5. `done` = e: this rank reads nothing of epoch e any more; no waiting for the others
// Registered (two-shot only), epoch e:
//   1. `arrived` = e (the caller wrote its input before the call); wait for every peer's
//   2. add chunk r of the n inputs into chunk r of this rank's output; `reduced` = e; wait for
//      every peer's: then every chunk p is complete in rank p's output, and rank p has read all
//      it will of chunk p of everyone's input (in place, rank r may now overwrite its chunk p)
//   3. copy chunk p of rank p's output into this rank's, for every p != r
//   4. `done` = e; wait for every peer's: nobody reads this rank's buffers any more
// A waiting rank spins, then yields its core (ranks may outnumber cores: mpirun --oversubscribe),
// and gives up with an error naming the peer after `wait_timeout_s`.
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "collectives/cpu/reduce.hpp"

namespace aicbench::coll {

enum class ShmAlgorithm { one_shot, two_shot };
enum class ShmBuffers { staged, registered };

struct ShmConfig {
  ShmAlgorithm algorithm = ShmAlgorithm::two_shot;
  ShmBuffers buffers = ShmBuffers::staged;
  Dtype dtype = Dtype::fp32;
  // staged: the slice (at most kSliceBytes: slice_elements()); registered: the largest count.
  int64_t elements = 0;
  bool in_place = false;  // registered: one buffer for input and output
  double wait_timeout_s = 60;
};

class ShmAllReduce {
 public:
  static constexpr int64_t kSliceBytes = 1 << 20;
  // The staged slice that suits a message of `count` elements: the whole message up to kSliceBytes.
  static int64_t slice_elements(Dtype d, int64_t count);
  // Bytes of one rank's segment.
  static size_t segment_bytes(const ShmConfig& config, int ranks);

  // `segments[p]`: rank p's segment (segment_bytes() long, page-aligned) as mapped in this
  // process. Zeroes this rank's flags: every rank must have constructed before any runs (a
  // barrier between). Registered two-shot only (a registered one-shot would need a copy anyway).
  ShmAllReduce(const ShmConfig& config, int rank, std::vector<std::byte*> segments);

  // Registered: where rank p's input and output are (the same buffer in place).
  std::byte* registered_input(int p) const;
  std::byte* registered_output(int p) const;

  // One all-reduce of `count` elements; every rank calls it with the same count. Staged: any
  // buffers, `out` may be `in`. Registered: `in` and `out` must be registered_input/output(rank),
  // and count at most config.elements.
  void run(const void* in, void* out, int64_t count);

 private:
  struct Flags;
  Flags& flags(int p) const;
  std::byte* slot(int p, uint64_t epoch) const;
  // Waits until every peer's flag `which` reaches `value`.
  void wait_all(std::atomic<uint64_t> Flags::*which, uint64_t value) const;
  void staged_slice(const std::byte* in, std::byte* out, int64_t count);
  void registered_two_shot(int64_t count);

  ShmConfig config_;
  int rank_, ranks_;
  std::vector<std::byte*> segments_;
  size_t elt_, input_bytes_, reduced_bytes_;
  uint64_t epoch_ = 0;
  std::vector<const void*> sources_;
};

}  // namespace aicbench::coll
