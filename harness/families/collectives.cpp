// The collective families: all_reduce, all_gather, reduce_scatter, all_to_all and broadcast
// (collectives/collective_ops.hpp), each with the parameters `bytes` (nccl-tests' size) and
// `in_place` (0 or 1), timed by nccl-tests' rules (harness/collective_measurement.hpp). The cpu
// implementations are here; the cuda ones (harness/families/collectives_cuda.cpp) are added to
// them by collective_implementations().
//
//   impl         ops                                   what (cpu backend, over MPI on host memory)
//   mpi          all five                              the MPI library's own: MPI_Allreduce,
//                                                      MPI_Allgather, MPI_Reduce_scatter_block,
//                                                      MPI_Alltoall, MPI_Bcast (vendor baseline)
//   ring         all_reduce, all_gather,               our schedules over MPI_Sendrecv and our own
//                reduce_scatter, broadcast             reduction (collectives/cpu/schedule.hpp);
//                                                      broadcast: a pipelined chain from root 0
//   rhd          all_reduce                            recursive halving and doubling, any rank count
//   pairwise     all_to_all                            n-1 pairwise exchanges
//   oneshot_shm  all_reduce                            MPI-3 shared-memory window, flag protocol
//   twoshot_shm  all_reduce                            (collectives/cpu/shm_all_reduce.hpp); every
//                                                      rank on one node, else skipped. One-shot
//                                                      stages its input in the window; two-shot's
//                                                      buffers are in it (registered, no copy)
//
// dtypes fp32, bf16 (added in fp32, rounded), fp64 and int32; op sum. Inputs are small integers
// from rank and index (collective_input_value, collective_tag_value), so every exact result is
// representable and validation compares every element of every rank's output exactly.
#include <unistd.h>

#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "collectives/collective_ops.hpp"
#include "collectives/cpu/reduce.hpp"
#include "collectives/mpi_job.hpp"
#include "harness/benchmark.hpp"
#include "harness/collective_measurement.hpp"
#include "harness/families/collectives_cuda.hpp"
#if AICBENCH_WITH_MPI
#include "collectives/cpu/mpi_algorithms.hpp"
#include "collectives/cpu/shm_all_reduce.hpp"
#include "collectives/cpu/shm_window.hpp"
#endif

namespace aicbench {

namespace {

enum class CpuAlgo { mpi, ring, rhd, pairwise, oneshot_shm, twoshot_shm };

bool uses_shared_memory(CpuAlgo algo) { return algo == CpuAlgo::oneshot_shm || algo == CpuAlgo::twoshot_shm; }

const std::vector<std::string> kCpuDtypes = {"fp32", "bf16", "fp64", "int32"};

// The largest sum of inputs in [-2, 2] over n ranks is 2n; bf16 holds integers exactly up to 256.
constexpr int kMaxBf16SumRanks = 128;

std::string mib(double bytes) { return std::to_string(static_cast<long long>(bytes / (1 << 20))) + " MiB"; }

std::optional<std::string> cpu_unsupported(const BenchmarkSpec& spec, CpuAlgo algo) {
  if (!AICBENCH_WITH_MPI) return std::string("this aicbench was built without MPI (-DAICBENCH_WITH_MPI=OFF)");
  const Job& job = Job::current();
  if (!job.uses_mpi()) {
    return std::string("collectives need MPI: start aicbench under mpirun or srun (mpirun -np 1 for a job of one rank)");
  }
  const JobLayout& l = job.layout();
  const CollectiveShape shape = collective_shape(spec, l.world_size);
  if (shape.count == 0) {
    return std::to_string(spec.param("bytes")) + " B leaves no element for each of " + std::to_string(l.world_size) +
           " ranks (nccl-tests' sizes: a rank's block is rounded down to a multiple of 16 bytes)";
  }
  if (shape.count > INT32_MAX || shape.recv_count > INT32_MAX || shape.send_count > INT32_MAX) {
    return std::string("more than 2^31 elements: MPI counts are int");
  }
  if (uses_shared_memory(algo) && l.nodes > 1) {
    return "needs every rank on one node (a shared-memory window); this job spans " + std::to_string(l.nodes) + " nodes";
  }
  const bool adds = shape.op == CollectiveOp::all_reduce || shape.op == CollectiveOp::reduce_scatter;
  if (adds && spec.dtype == "bf16" && l.world_size > kMaxBf16SumRanks) {
    return "bf16 sums of these inputs are exact only up to " + std::to_string(kMaxBf16SumRanks) + " ranks";
  }
  // Send, receive and scratch buffers (a reduce-scatter's work copy) of every rank on this node.
  const double need = double(shape.element_bytes) * double(shape.send_count + 3 * shape.recv_count) * l.local_size;
  const double have = double(::sysconf(_SC_PHYS_PAGES)) * double(::sysconf(_SC_PAGE_SIZE));
  if (need > 0.5 * have) {
    return "needs " + mib(need) + " of host memory for the node's ranks, more than half the " + mib(have) +
           " this machine has";
  }
  return std::nullopt;
}

#if AICBENCH_WITH_MPI

coll::Operation operation(CollectiveOp op) {
  switch (op) {
    case CollectiveOp::all_reduce: return coll::Operation::all_reduce;
    case CollectiveOp::all_gather: return coll::Operation::all_gather;
    case CollectiveOp::reduce_scatter: return coll::Operation::reduce_scatter;
    case CollectiveOp::all_to_all: return coll::Operation::all_to_all;
    case CollectiveOp::broadcast: return coll::Operation::broadcast;
  }
  return coll::Operation::all_reduce;
}

// Host memory aligned to a page, zeroed.
struct HostBuffer {
  explicit HostBuffer(size_t bytes) : bytes_(bytes) {
    if (bytes_ == 0) return;
    void* p = nullptr;
    if (::posix_memalign(&p, 4096, bytes_) != 0) throw std::bad_alloc();
    std::memset(p, 0, bytes_);
    data_.reset(static_cast<std::byte*>(p));
  }
  std::byte* get() const { return data_.get(); }
  size_t size() const { return bytes_; }

 private:
  struct Free {
    void operator()(std::byte* p) const { std::free(p); }
  };
  size_t bytes_;
  std::unique_ptr<std::byte, Free> data_;
};

class CpuCollectiveCase final : public CollectiveCase {
 public:
  CpuCollectiveCase(const BenchmarkSpec& spec, CpuAlgo algo)
      : algo_(algo),
        job_(Job::current()),
        rank_(job_.layout().world_rank),
        shape_(collective_shape(spec, job_.layout().world_size)),
        dtype_(*coll::parse_dtype(spec.dtype)),
        elt_(coll::element_bytes(dtype_)),
        // The registered two-shot's buffers are in its shared-memory window (connect()).
        main_(registered() ? 0 : size_t(std::max(shape_.send_count, shape_.recv_count)) * elt_),
        second_(registered() || shape_.in_place ? 0 : size_t(std::min(shape_.send_count, shape_.recv_count)) * elt_) {
    // Buffers as nccl-tests lays them out (collectives/cpu/mpi_algorithms.hpp): out of place a
    // send and a receive buffer; in place one buffer, the smaller of the two inside it at this
    // rank's block.
    std::byte* big = main_.get();
    std::byte* small = shape_.in_place ? nullptr : second_.get();
    const int64_t block = shape_.count * int64_t(elt_);
    switch (shape_.op) {
      case CollectiveOp::all_gather:
        recv_ = big;
        send_ = shape_.in_place ? big + rank_ * block : small;
        break;
      case CollectiveOp::reduce_scatter:
        send_ = big;
        recv_ = shape_.in_place ? big + rank_ * block : small;
        break;
      default:  // all_reduce, all_to_all, broadcast: buffers of one size
        send_ = big;
        recv_ = shape_.in_place ? big : small;
        break;
    }
    if (algo_ == CpuAlgo::ring || algo_ == CpuAlgo::rhd || algo_ == CpuAlgo::pairwise) {
      const auto p2p = algo_ == CpuAlgo::rhd ? coll::P2pAlgorithm::rhd : coll::P2pAlgorithm::ring;
      scratch_ = HostBuffer(size_t(coll::scratch_elements(operation(shape_.op), p2p, shape_.ranks, shape_.count)) * elt_);
    }
  }

  ~CpuCollectiveCase() override {
    shm_.reset();
    window_.reset();  // collective over the node: every rank destroys its case in turn
    if (comm_ != MPI_COMM_NULL) MPI_Comm_free(&comm_);
  }

 protected:
  void connect() override {
    // A communicator of its own, so that no message of this case can match another's.
    AICBENCH_MPI_CHECK(MPI_Comm_dup(job_.world(), &comm_));
    if (uses_shared_memory(algo_)) {
      // One-shot: staged (small messages: one synchronisation, the copy is cheap). Two-shot:
      // registered, the buffers in the window, no copy (large messages: the copy would cost more
      // than the reduction). collectives/cpu/shm_all_reduce.hpp says why each.
      coll::ShmConfig config;
      config.dtype = dtype_;
      config.in_place = shape_.in_place;
      if (registered()) {
        config.algorithm = coll::ShmAlgorithm::two_shot;
        config.buffers = coll::ShmBuffers::registered;
        config.elements = std::max<int64_t>(1, shape_.count);
      } else {
        config.algorithm = coll::ShmAlgorithm::one_shot;
        config.buffers = coll::ShmBuffers::staged;
        config.elements = coll::ShmAllReduce::slice_elements(dtype_, shape_.count);
      }
      window_ = std::make_unique<coll::SharedWindow>(job_.node(), coll::ShmAllReduce::segment_bytes(config, shape_.ranks));
      const int me = job_.layout().local_rank;
      shm_ = std::make_unique<coll::ShmAllReduce>(config, me, window_->segments());
      if (registered()) {
        send_ = shm_->registered_input(me);
        recv_ = shm_->registered_output(me);
      }
      AICBENCH_MPI_CHECK(MPI_Barrier(job_.node()));  // every rank's flags zeroed before any is read
    }
  }

 public:
  int64_t count_wrong() override {
    fill_inputs();
    run();
    return compare_outputs();
  }

  void run() override {
    const coll::Operation op = operation(shape_.op);
    switch (algo_) {
      case CpuAlgo::mpi:
        coll::vendor_collective(op, dtype_, send_, recv_, shape_.count, shape_.in_place, comm_);
        return;
      case CpuAlgo::ring:
      case CpuAlgo::pairwise:
        coll::p2p_collective(op, coll::P2pAlgorithm::ring, dtype_, send_, recv_, shape_.count, scratch_.get(), comm_);
        return;
      case CpuAlgo::rhd:
        coll::p2p_collective(op, coll::P2pAlgorithm::rhd, dtype_, send_, recv_, shape_.count, scratch_.get(), comm_);
        return;
      case CpuAlgo::oneshot_shm:
      case CpuAlgo::twoshot_shm:
        shm_->run(send_, recv_, shape_.count);
        return;
    }
  }

  double bytes() const override { return double(shape_.bytes()); }

 private:
  bool registered() const { return algo_ == CpuAlgo::twoshot_shm; }
  bool adds() const { return shape_.op == CollectiveOp::all_reduce || shape_.op == CollectiveOp::reduce_scatter; }
  double input(int rank, int64_t i) const {
    return adds() ? collective_input_value(rank, i) : collective_tag_value(rank, i);
  }

  // Poison every output element (NaN in the float types, a large negative int32 no input sum can
  // reach), then write this rank's input, so an implementation that leaves its output alone fails.
  void fill_inputs() {
    const int poison = dtype_ == coll::Dtype::int32 ? 0x80 : 0xFF;
    std::memset(recv_, poison, size_t(shape_.recv_count) * elt_);
    for (int64_t i = 0; i < shape_.send_count; ++i) coll::set_element(dtype_, send_, i, input(rank_, i));
  }

  double expected(int64_t i) const {
    const int n = shape_.ranks;
    const int64_t count = shape_.count;
    switch (shape_.op) {
      case CollectiveOp::all_reduce: {
        double sum = 0;
        for (int r = 0; r < n; ++r) sum += input(r, i);
        return sum;
      }
      case CollectiveOp::reduce_scatter: {
        double sum = 0;
        for (int r = 0; r < n; ++r) sum += input(r, int64_t(rank_) * count + i);
        return sum;
      }
      case CollectiveOp::all_gather: return input(int(i / count), i % count);
      case CollectiveOp::all_to_all: return input(int(i / count), int64_t(rank_) * count + i % count);
      case CollectiveOp::broadcast: return input(0, i);
    }
    return 0;
  }

  int64_t compare_outputs() const {
    int64_t wrong = 0;
    for (int64_t i = 0; i < shape_.recv_count; ++i) {
      wrong += coll::element_value(dtype_, recv_, i) != expected(i);  // NaN never equals
    }
    return wrong;
  }

  CpuAlgo algo_;
  const Job& job_;
  int rank_;
  CollectiveShape shape_;
  coll::Dtype dtype_;
  size_t elt_;
  HostBuffer main_, second_, scratch_{0};
  void* send_ = nullptr;
  void* recv_ = nullptr;
  MPI_Comm comm_ = MPI_COMM_NULL;
  std::unique_ptr<coll::SharedWindow> window_;
  std::unique_ptr<coll::ShmAllReduce> shm_;
};

#endif  // AICBENCH_WITH_MPI

Implementation cpu_impl(CollectiveOp op, const char* name, CpuAlgo algo) {
  return {std::string(to_string(op)),
          name,
          Backend::cpu,
          /*vendor=*/algo == CpuAlgo::mpi,
          kCpuDtypes,
          [algo](const BenchmarkSpec& s, const DeviceProbe&) { return cpu_unsupported(s, algo); },
          [algo](const BenchmarkSpec& s) -> std::unique_ptr<BenchmarkCase> {
#if AICBENCH_WITH_MPI
            return std::make_unique<CpuCollectiveCase>(s, algo);
#else
            (void)algo;
            throw UnsupportedHere("collectives: " + s.name() + ": this aicbench was built without MPI");
#endif
          }};
}

}  // namespace

std::vector<Implementation> collective_implementations() {
  std::vector<Implementation> all;
  for (CollectiveOp op : kCollectiveOps) all.push_back(cpu_impl(op, "mpi", CpuAlgo::mpi));
  all.push_back(cpu_impl(CollectiveOp::all_reduce, "ring", CpuAlgo::ring));
  all.push_back(cpu_impl(CollectiveOp::all_reduce, "rhd", CpuAlgo::rhd));
  all.push_back(cpu_impl(CollectiveOp::all_reduce, "oneshot_shm", CpuAlgo::oneshot_shm));
  all.push_back(cpu_impl(CollectiveOp::all_reduce, "twoshot_shm", CpuAlgo::twoshot_shm));
  all.push_back(cpu_impl(CollectiveOp::all_gather, "ring", CpuAlgo::ring));
  all.push_back(cpu_impl(CollectiveOp::reduce_scatter, "ring", CpuAlgo::ring));
  all.push_back(cpu_impl(CollectiveOp::broadcast, "ring", CpuAlgo::ring));
  all.push_back(cpu_impl(CollectiveOp::all_to_all, "pairwise", CpuAlgo::pairwise));
  for (Implementation& impl : cuda_collective_implementations()) all.push_back(std::move(impl));
  return all;
}

}  // namespace aicbench
