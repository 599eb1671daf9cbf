// The cuda backend's collectives (collectives_cuda.hpp has the table): cases that every rank of the
// job makes, validates and runs together (BenchmarkCase::collective()).
//
// Validation (docs/collectives.md): the receive buffer is poisoned (NaN), every rank's send buffer
// filled with small integers (collectives/cuda/collective_data.hpp) so that the exact result is
// representable in fp32 and bf16, the collective run once, and every output element compared with
// the exact result on the device. Each rank reports its own count in
// validation.details.wrong_elements; the runner adds them up over the ranks.
//
// Every setup step that can fail on one rank only ends in an agreement between all ranks
// (collectives::on_every_rank), so all skip or fail together instead of leaving the others
// waiting in a collective.
#include "harness/families/collectives_cuda.hpp"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>

#include <cuda_runtime.h>

#include "collectives/collective_ops.hpp"
#include "collectives/cuda/agreement.hpp"
#include "collectives/cuda/collective_check.hpp"
#include "collectives/cuda/collective_data.hpp"
#include "collectives/cuda/ipc_allreduce.hpp"
#include "collectives/cuda/ipc_workspace.hpp"
#include "collectives/cuda/multicast_workspace.hpp"
#include "collectives/cuda/multimem_allreduce.hpp"
#include "collectives/cuda/nccl_comm.hpp"
#include "collectives/mpi_job.hpp"
#include "harness/collective_measurement.hpp"
#include "harness/cuda_check.hpp"
#include "harness/device_buffer.hpp"

namespace aicbench {

namespace {

using collectives::ElemType;

ElemType elem_type(const std::string& dtype) {
  if (dtype == "fp32") return ElemType::fp32;
  if (dtype == "bf16") return ElemType::bf16;
  throw std::logic_error("cuda collectives: no dtype " + dtype);
}

// One collective benchmark on this job, in nccl-tests' terms: the harness's sizes
// (collective_shape(): each rank's block of the blocked operations rounded down to 16 bytes, as
// nccl-tests does), so that the bandwidth the harness computes divides what was moved.
struct CudaCollectiveShape {
  CollectiveOp op = CollectiveOp::all_reduce;
  ElemType type = ElemType::fp32;
  int rank = 0, ranks = 1;
  bool in_place = false;
  int64_t count = 0;          // per rank: nccl-tests' count
  int64_t send = 0, recv = 0; // elements of this rank's send and receive buffers
  double bytes = 0;           // nccl-tests' size: all_reduce and broadcast count * element, else ranks * count * element

  explicit CudaCollectiveShape(const BenchmarkSpec& spec) {
    const JobLayout& job = Job::current().layout();
    const CollectiveShape shape = collective_shape(spec, job.world_size);
    op = shape.op;
    type = elem_type(spec.dtype);
    rank = job.world_rank;
    ranks = job.world_size;
    in_place = shape.in_place;
    count = shape.count;
    send = shape.send_count;
    recv = shape.recv_count;
    bytes = double(shape.bytes());
  }
};

// ---- buffers -----------------------------------------------------------------------------------------

// One device allocation: plain cudaMalloc, or an NCCL symmetric window.
class Region {
 public:
  Region() = default;
  explicit Region(size_t bytes) : plain_(std::make_unique<DeviceBuffer<unsigned char>>(bytes)) {}
  Region(const collectives::NcclComm& comm, size_t bytes)
      : window_(std::make_unique<collectives::NcclWindowBuffer>(comm, bytes)) {}
  void* get() const { return plain_ ? static_cast<void*>(plain_->get()) : window_ ? window_->get() : nullptr; }

 private:
  std::unique_ptr<DeviceBuffer<unsigned char>> plain_;
  std::unique_ptr<collectives::NcclWindowBuffer> window_;
};

// ---- the common case --------------------------------------------------------------------------------

class CudaCollectiveCase : public BenchmarkCase {
 public:
  // Work still queued may read the buffers: done before they (and a derived case's workspace) go.
  ~CudaCollectiveCase() override { cudaStreamSynchronize(stream_.get()); }

  Validation validate() override {
    const cudaStream_t s = stream_.get();
    const size_t elem = static_cast<size_t>(collectives::elem_bytes(shape_.type));
    const int salt = validations_++ % 7;  // a second validation cannot pass on the first one's result
    // NaN in fp32 and bf16: an output element never written cannot pass.
    CUDA_CHECK(cudaMemsetAsync(recv_, 0xFF, static_cast<size_t>(shape_.recv) * elem, s));
    CUDA_CHECK(collectives::fill_send(send_, shape_.type, shape_.send, shape_.rank, shape_.ranks, salt, s));
    run();
    CUDA_CHECK(collectives::reset_counters(counters_.get(), s));
    CUDA_CHECK(collectives::check_output(recv_, shape_.type, shape_.op, shape_.rank, shape_.ranks, shape_.count,
                                         salt, counters_.get(), s));
    collectives::CheckCounters found{};
    CUDA_CHECK(cudaMemcpyAsync(&found, counters_.get(), sizeof found, cudaMemcpyDeviceToHost, s));
    CUDA_CHECK(cudaStreamSynchronize(s));

    float max_rel = 0;
    static_assert(sizeof max_rel == sizeof found.max_rel_err_bits);
    std::memcpy(&max_rel, &found.max_rel_err_bits, sizeof max_rel);
    Validation v;
    v.passed = found.wrong == 0;
    v.max_rel_err = max_rel;
    v.details = {{"wrong_elements", found.wrong},
                 {"elements", shape_.recv},
                 {"rank", shape_.rank},
                 {"ranks", shape_.ranks},
                 {"max_rel_err", max_rel},
                 {"method", "exact: small-integer inputs whose result is representable, every output element "
                            "compared on the device"}};
    if (!v.passed) {
      v.details["nonfinite_elements"] = found.nonfinite;
      v.details["first_wrong_index"] = found.first_wrong;
      v.message = std::to_string(found.wrong) + " of " + std::to_string(shape_.recv) + " output elements wrong on rank " +
                  std::to_string(shape_.rank) + " (first at index " + std::to_string(found.first_wrong) + "; " +
                  std::to_string(found.nonfinite) + " not finite, e.g. never written); expected 0";
    }
    return v;
  }

  cudaStream_t stream() const override { return stream_.get(); }
  double bytes() const override { return shape_.bytes; }
  bool collective() const override { return true; }

 protected:
  explicit CudaCollectiveCase(const BenchmarkSpec& spec) : shape_(spec) {}

  // The send and receive buffers, from `make(bytes)`; in place, one buffer with the send buffer
  // inside the receive buffer (all_gather) or the reverse (reduce_scatter), where NCCL expects it.
  // `make_agrees`: make() is itself a collective call that agrees (NCCL windows); otherwise the
  // ranks agree on the whole allocation here.
  void allocate(const std::function<Region(size_t)>& make, bool make_agrees) {
    const size_t elem = static_cast<size_t>(collectives::elem_bytes(shape_.type));
    const std::function<void()> step = [&] {
      if (!shape_.in_place) {
        a_ = make(static_cast<size_t>(shape_.send) * elem);
        b_ = make(static_cast<size_t>(shape_.recv) * elem);
        send_ = a_.get();
        recv_ = b_.get();
        return;
      }
      a_ = make(static_cast<size_t>(std::max(shape_.send, shape_.recv)) * elem);
      char* base = static_cast<char*>(a_.get());
      const size_t own_block = static_cast<size_t>(shape_.rank) * static_cast<size_t>(shape_.count) * elem;
      send_ = shape_.op == CollectiveOp::all_gather ? base + own_block : base;
      recv_ = shape_.op == CollectiveOp::reduce_scatter ? base + own_block : base;
    };
    if (make_agrees) {
      step();
    } else {
      collectives::on_every_rank(step);
    }
  }

  CudaCollectiveShape shape_;
  CudaStream stream_;
  Region a_, b_;
  void* send_ = nullptr;
  void* recv_ = nullptr;
  DeviceBuffer<collectives::CheckCounters> counters_{1};
  int validations_ = 0;
};

// ---- NCCL ------------------------------------------------------------------------------------------------

class NcclCase final : public CudaCollectiveCase {
 public:
  NcclCase(const BenchmarkSpec& spec, bool symmetric)
      : CudaCollectiveCase(spec), comm_(collectives::NcclComm::world()) {
    if (symmetric) {
      allocate([this](size_t bytes) { return Region(comm_, bytes); }, true);
    } else {
      allocate([](size_t bytes) { return Region(bytes); }, false);
    }
  }
  void run() override { comm_.run(shape_.op, send_, recv_, shape_.count, shape_.type, stream_.get()); }

 private:
  const collectives::NcclComm& comm_;
};

// ---- hand-written all-reduce over CUDA IPC ---------------------------------------------------------------

class IpcAllReduceCase final : public CudaCollectiveCase {
 public:
  IpcAllReduceCase(const BenchmarkSpec& spec, collectives::IpcAlgo algo)
      : CudaCollectiveCase(spec),
        algo_(algo),
        workspace_(collectives::ipc_layout(algo, shape_.type, shape_.ranks, shape_.count).total_bytes) {
    allocate([](size_t bytes) { return Region(bytes); }, false);
  }
  ~IpcAllReduceCase() override { cudaStreamSynchronize(stream_.get()); }  // before the workspace goes

  void run() override {
    collectives::IpcAllReduceArgs args;
    for (int r = 0; r < workspace_.ranks(); ++r) args.workspace[r] = workspace_.base(r);
    args.in = send_;
    args.out = recv_;
    args.count = shape_.count;
    args.rank = workspace_.rank();
    args.ranks = workspace_.ranks();
    args.epoch = ++epoch_;
    args.max_blocks = workspace_.max_blocks();
    CUDA_CHECK(collectives::ipc_all_reduce(algo_, shape_.type, args, stream_.get()));
  }

 private:
  collectives::IpcAlgo algo_;
  collectives::IpcWorkspace workspace_;
  uint32_t epoch_ = 0;  // the calls made, on every rank alike
};

// ---- hand-written all-reduce through NVLink SHARP --------------------------------------------------------

class MultimemAllReduceCase final : public CudaCollectiveCase {
 public:
  explicit MultimemAllReduceCase(const BenchmarkSpec& spec)
      : CudaCollectiveCase(spec),
        workspace_(collectives::multimem_layout(shape_.type, shape_.ranks, shape_.count).bytes) {
    allocate([](size_t bytes) { return Region(bytes); }, false);
  }
  ~MultimemAllReduceCase() override { cudaStreamSynchronize(stream_.get()); }

  void run() override {
    collectives::MultimemAllReduceArgs args;
    args.unicast = workspace_.unicast();
    args.multicast = workspace_.multicast();
    args.in = send_;
    args.out = recv_;
    args.count = shape_.count;
    args.rank = workspace_.rank();
    args.ranks = workspace_.ranks();
    args.epoch = ++epoch_;
    args.max_blocks = workspace_.max_blocks();
    CUDA_CHECK(collectives::multimem_all_reduce(shape_.type, args, stream_.get()));
  }

 private:
  collectives::MulticastWorkspace workspace_;
  uint32_t epoch_ = 0;
};

// ---- where each can run ------------------------------------------------------------------------------------
// Only facts every rank shares (the job's layout, the build, the benchmark's shape) decide here: a
// rank that skipped while the others ran would leave them waiting. What only a rank can know (its
// GPU's multicast support, whether a peer's memory maps) is agreed on in the cases' constructors.

std::string mib(double bytes) { return std::to_string(static_cast<long long>(bytes / (1 << 20))) + " MiB"; }

std::optional<std::string> shape_unsupported(const BenchmarkSpec& spec, const DeviceProbe& probe,
                                             double workspace_bytes) {
  if (!probe.available()) return "no CUDA device: " + probe.unavailable_reason.value_or("unknown");
  if (auto bad = family_shape_problem(spec.family, spec.params)) return bad;  // in_place 0 or 1
  const CudaCollectiveShape shape(spec);
  if (shape.count < 1) {
    return "bytes:" + std::to_string(spec.param("bytes")) + " holds no " + spec.dtype + " element per rank over " +
           std::to_string(shape.ranks) + " ranks";
  }
  const double elem = collectives::elem_bytes(shape.type);
  const double need = double(shape.send + (shape.in_place ? 0 : shape.recv)) * elem + workspace_bytes;
  const double have = double(probe.gpu().memory_bytes);  // the GPU this process measures
  if (need > 0.8 * have) return "needs " + mib(need) + " of device memory, more than 80% of the GPU's " + mib(have);
  return std::nullopt;
}

std::optional<std::string> nccl_unsupported(const BenchmarkSpec& spec, const DeviceProbe& probe, bool symmetric) {
  if (!AICBENCH_WITH_NCCL) return std::string("this build has no NCCL (configured with -DAICBENCH_WITH_NCCL=OFF)");
  if (symmetric && !collectives::NcclComm::has_symmetric_windows()) {
    return "NCCL " + std::to_string(collectives::NcclComm::version()) +
           " has no symmetric-memory windows (ncclCommWindowRegister, 2.27 and newer)";
  }
  if (spec.family == "all_to_all" && spec.param("in_place") != 0) {
    return std::string("NCCL's all-to-all has no in-place form (ncclAlltoAll takes separate send and receive buffers)");
  }
  return shape_unsupported(spec, probe, 0);
}

std::optional<std::string> one_node_unsupported(const char* what, int max_ranks) {
  const JobLayout& job = Job::current().layout();
  if (!AICBENCH_WITH_MPI) return std::string("needs MPI to share its buffers between ranks; this build has none");
  if (job.world_size < 2) {
    return std::string("needs at least 2 ranks: run one process per GPU under mpirun or srun");
  }
  if (job.nodes > 1) {
    return std::string(what) + " reaches only one node's GPUs; this job spans " + std::to_string(job.nodes) + " nodes";
  }
  if (max_ranks && job.world_size > max_ranks) {
    return "supports up to " + std::to_string(max_ranks) + " ranks; this job has " + std::to_string(job.world_size);
  }
  return std::nullopt;
}

std::optional<std::string> ipc_unsupported(const BenchmarkSpec& spec, const DeviceProbe& probe, collectives::IpcAlgo algo) {
  if (auto why = one_node_unsupported("CUDA IPC", collectives::kIpcMaxRanks)) return why;
  if (auto why = shape_unsupported(spec, probe, 0)) return why;
  const CudaCollectiveShape shape(spec);
  return shape_unsupported(spec, probe, double(collectives::ipc_layout(algo, shape.type, shape.ranks, shape.count).total_bytes));
}

std::optional<std::string> multimem_unsupported(const BenchmarkSpec& spec, const DeviceProbe& probe) {
  if (auto why = one_node_unsupported("a multicast object", 0)) return why;
  if (auto why = shape_unsupported(spec, probe, 0)) return why;
  const CudaCollectiveShape shape(spec);
  return shape_unsupported(spec, probe, double(collectives::multimem_layout(shape.type, shape.ranks, shape.count).bytes));
}

// The collectives library says Unsupported; the harness records UnsupportedHere as a skip.
template <typename Case, typename... Args>
std::unique_ptr<BenchmarkCase> make_case(const BenchmarkSpec& spec, Args... args) {
  try {
    return std::make_unique<Case>(spec, args...);
  } catch (const collectives::Unsupported& e) {
    throw UnsupportedHere(e.what());
  }
}

const std::vector<std::string> kDtypes = {"fp32", "bf16"};

}  // namespace

std::vector<Implementation> cuda_collective_implementations() {
  std::vector<Implementation> out;
  for (const CollectiveOp op : kCollectiveOps) {
    const std::string family(to_string(op));
    out.push_back({family, "nccl", Backend::cuda, true, kDtypes,
                   [](const BenchmarkSpec& s, const DeviceProbe& p) { return nccl_unsupported(s, p, false); },
                   [](const BenchmarkSpec& s) { return make_case<NcclCase>(s, false); }});
    out.push_back({family, "nccl_symmetric", Backend::cuda, false, kDtypes,
                   [](const BenchmarkSpec& s, const DeviceProbe& p) { return nccl_unsupported(s, p, true); },
                   [](const BenchmarkSpec& s) { return make_case<NcclCase>(s, true); }});
  }
  using collectives::IpcAlgo;
  out.push_back({"all_reduce", "oneshot_ipc", Backend::cuda, false, kDtypes,
                 [](const BenchmarkSpec& s, const DeviceProbe& p) { return ipc_unsupported(s, p, IpcAlgo::one_shot); },
                 [](const BenchmarkSpec& s) { return make_case<IpcAllReduceCase>(s, IpcAlgo::one_shot); }});
  out.push_back({"all_reduce", "twoshot_ipc", Backend::cuda, false, kDtypes,
                 [](const BenchmarkSpec& s, const DeviceProbe& p) { return ipc_unsupported(s, p, IpcAlgo::two_shot); },
                 [](const BenchmarkSpec& s) { return make_case<IpcAllReduceCase>(s, IpcAlgo::two_shot); }});
  out.push_back({"all_reduce", "multimem", Backend::cuda, false, kDtypes, multimem_unsupported,
                 [](const BenchmarkSpec& s) { return make_case<MultimemAllReduceCase>(s); }});
  return out;
}

}  // namespace aicbench
