// The p2p and p2p_latency families: how fast, and with what latency, one GPU reaches another's
// memory, for every ordered pair of the GPUs this process sees: the GPU x GPU matrix that shows a
// missing NVLink (docs/memory.md). Node-level: they need one process that sees every GPU of the
// node (not one process per GPU with CUDA_VISIBLE_DEVICES narrowed to its own).
//
//   family       impl      backend  what
//   p2p          ce        cuda     cudaMemcpyPeerAsync, issued on the source GPU: the copy engines,
//                                   the vendor baseline
//   p2p          sm_write  cuda     kernel on the source GPU that reads its own memory and stores
//                                   into the destination's (kernels/memory/stream_kernels.cu's copy)
//   p2p          sm_read   cuda     kernel on the destination GPU that loads from the source's memory
//   p2p_latency  chase     cuda     one thread on GPU `src` chasing pointers through a chain in GPU
//                                   `dst`'s memory (kernels/memory/pointer_chase.cu); src = dst is
//                                   the local latency, the matrix's diagonal
//
// p2p parameters: `src`, `dst` (CUDA device numbers, from 0), `directions` (1: src to dst; 2: both
// at once, each direction driven from its own GPU and stream), `bytes` per direction; dtype u8.
// GB/s counts every direction's bytes. pct_of_vendor: against ce on the same pair, directions and
// bytes; pct_of_peak: against the datasheet's NVLink bandwidth per direction (peak_gbps.nvlink,
// times the directions), so a pair that talks over PCIe shows a few percent. p2p_latency: `src`,
// `dst`, `bytes` (the chain's footprint, far beyond L2); dtype u32 (the loads); its time is the
// time per hop, no GB/s.
//
// Skipped, with the reason: fewer GPUs than the pair names; src = dst for p2p (local copies are
// the memory family's); for the SM-driven copies and the chase, a pair without peer access
// (cudaDeviceCanAccessPeer). The copy engines copy between any two GPUs (staged through the host
// where there is no peer path), so `ce` runs on every pair, and how slowly it runs is the finding.
//
// Validation: the source holds small integers (stream_values.hpp), the destination is poisoned
// with NaN, and every element that arrived is compared exactly on the destination GPU; the chase
// must end on the node the host's walk of the same chain ends on.
#include <algorithm>
#include <limits>
#include <memory>

#include "harness/benchmark.hpp"
#include "harness/cuda_check.hpp"
#include "harness/device_buffer.hpp"
#include "harness/families/device_timing.hpp"
#include "harness/families/exact_check.hpp"
#include "kernels/memory/pointer_chase.hpp"
#include "kernels/memory/stream_kernels.hpp"

namespace aicbench {

namespace {

enum class Mover { ce, sm_write, sm_read };

// Peer access from `from` to `to`'s memory, enabled once for the process; false where the
// devices cannot.
bool enable_peer_access(int from, int to) {
  if (from == to) return true;
  int can = 0;
  CUDA_CHECK(cudaDeviceCanAccessPeer(&can, from, to));
  if (!can) return false;
  DeviceGuard guard(from);
  const cudaError_t err = cudaDeviceEnablePeerAccess(to, 0);
  if (err == cudaErrorPeerAccessAlreadyEnabled) {
    (void)cudaGetLastError();
    return true;
  }
  CUDA_CHECK(err);
  return true;
}

// What CUDA says of a pair, recorded beside the number.
nlohmann::json pair_facts(int src, int dst) {
  auto attr = [&](cudaDeviceP2PAttr a, int from, int to) -> nlohmann::json {
    int v = 0;
    if (cudaDeviceGetP2PAttribute(&v, a, from, to) != cudaSuccess) {
      (void)cudaGetLastError();
      return nullptr;
    }
    return v;
  };
  return {{"src", src},
          {"dst", dst},
          {"src_pci_bus_id", pci_bus_id(src)},
          {"dst_pci_bus_id", pci_bus_id(dst)},
          {"access_supported", attr(cudaDevP2PAttrAccessSupported, src, dst)},
          {"access_supported_reverse", attr(cudaDevP2PAttrAccessSupported, dst, src)},
          {"performance_rank", attr(cudaDevP2PAttrPerformanceRank, src, dst)},
          {"native_atomics", attr(cudaDevP2PAttrNativeAtomicSupported, src, dst)}};
}

// A device buffer allocated on `device`.
std::unique_ptr<DeviceBuffer<double>> buffer_on(int device, size_t n) {
  DeviceGuard guard(device);
  return std::make_unique<DeviceBuffer<double>>(n);
}
std::unique_ptr<CudaStream> stream_on(int device) {
  DeviceGuard guard(device);
  return std::make_unique<CudaStream>();
}

class P2pCase final : public BenchmarkCase {
 public:
  P2pCase(const BenchmarkSpec& spec, Mover mover)
      : mover_(mover),
        src_(static_cast<int>(spec.param("src"))),
        dst_(static_cast<int>(spec.param("dst"))),
        both_(spec.param("directions") == 2),
        n_(static_cast<size_t>(spec.param("bytes")) / sizeof(double)) {
    peer_ = enable_peer_access(src_, dst_) && enable_peer_access(dst_, src_);
    if (mover_ != Mover::ce && !peer_) {
      throw UnsupportedHere("GPUs " + std::to_string(src_) + " and " + std::to_string(dst_) +
                            " have no peer access to each other's memory (cudaDeviceCanAccessPeer), which "
                            "SM-driven copies need");
    }
    // Direction 0: src -> dst; direction 1 (both_): dst -> src.
    send_[0] = buffer_on(src_, n_);
    recv_[0] = buffer_on(dst_, n_);
    if (both_) {
      send_[1] = buffer_on(dst_, n_);
      recv_[1] = buffer_on(src_, n_);
    }
    for (int d = 0; d < directions(); ++d) streams_[d] = stream_on(driver(d));
    std::vector<StreamTimer::Stream> timed = {{driver(0), streams_[0]->get()}};
    if (both_) timed.push_back({driver(1), streams_[1]->get()});
    timer_ = std::make_unique<StreamTimer>(timed);
    facts_ = pair_facts(src_, dst_);
    facts_["peer_access"] = peer_;
  }

  Validation validate() override {
    for (int d = 0; d < directions(); ++d) {
      {
        DeviceGuard guard(from(d));
        CUDA_CHECK(kernels::stream_init_cuda<double>(send_[d]->get(), nullptr, nullptr, n_, nullptr));
        CUDA_CHECK(cudaDeviceSynchronize());
      }
      DeviceGuard guard(to(d));
      CUDA_CHECK(kernels::stream_fill_cuda<double>(recv_[d]->get(), n_, std::numeric_limits<double>::quiet_NaN(), nullptr));
      CUDA_CHECK(cudaDeviceSynchronize());
    }
    time_runs(1, MeasureMode::hot);
    ExactCheck check;
    check.method = "every element that arrived compared exactly with what was sent, on the receiving GPU";
    for (int d = 0; d < directions(); ++d) {
      DeviceGuard guard(to(d));
      DeviceBuffer<unsigned long long> counters(2);
      unsigned long long init[2] = {0, ~0ull}, got[2] = {};
      CUDA_CHECK(cudaMemcpy(counters.get(), init, sizeof init, cudaMemcpyHostToDevice));
      CUDA_CHECK(kernels::stream_check_cuda<double>(kernels::StreamOp::copy, recv_[d]->get(), n_, counters.get(),
                                                    counters.get() + 1, nullptr));
      CUDA_CHECK(cudaMemcpy(got, counters.get(), sizeof got, cudaMemcpyDeviceToHost));
      check.elements += n_;
      if (got[0] && !check.wrong) check.first_wrong = got[1];
      check.wrong += got[0];
    }
    if (check.wrong) check.max_rel_err = 1;
    return to_validation(check);
  }

  void run() override { time_runs(1, MeasureMode::hot); }
  bool times_itself() const override { return true; }
  double time_runs(int runs, MeasureMode) override {
    return timer_->time([&] {
             for (int r = 0; r < runs; ++r) {
               for (int d = 0; d < directions(); ++d) queue(d);
             }
           }) /
           runs;
  }
  double bytes() const override { return double(n_ * sizeof(double)) * directions(); }
  nlohmann::json row_details() const override { return {{"p2p", facts_}}; }

 private:
  int directions() const { return both_ ? 2 : 1; }
  int from(int d) const { return d == 0 ? src_ : dst_; }
  int to(int d) const { return d == 0 ? dst_ : src_; }
  // The GPU whose stream carries direction d: the sender, except for sm_read (the receiver pulls).
  int driver(int d) const { return mover_ == Mover::sm_read ? to(d) : from(d); }

  void queue(int d) {
    DeviceGuard guard(driver(d));
    cudaStream_t s = streams_[d]->get();
    double* send = send_[d]->get();
    double* recv = recv_[d]->get();
    if (mover_ == Mover::ce) {
      CUDA_CHECK(cudaMemcpyPeerAsync(recv, to(d), send, from(d), n_ * sizeof(double), s));
    } else {
      CUDA_CHECK(kernels::stream_cuda<double>(kernels::StreamOp::copy, send, nullptr, recv, n_, nullptr, s));
    }
  }

  Mover mover_;
  int src_, dst_;
  bool both_;
  size_t n_;
  bool peer_ = false;
  std::unique_ptr<DeviceBuffer<double>> send_[2], recv_[2];
  std::unique_ptr<CudaStream> streams_[2];
  std::unique_ptr<StreamTimer> timer_;
  nlohmann::json facts_;
};

// Hops per run of the chase: a run's time is divided by them, so the row's time is per hop.
constexpr uint64_t kHopsPerRun = 2048;
constexpr uint64_t kChaseSeed = 0xC4A5E;

class ChaseCase final : public BenchmarkCase {
 public:
  explicit ChaseCase(const BenchmarkSpec& spec)
      : src_(static_cast<int>(spec.param("src"))), dst_(static_cast<int>(spec.param("dst"))) {
    if (!enable_peer_access(src_, dst_)) {
      throw UnsupportedHere("GPU " + std::to_string(src_) + " has no peer access to GPU " + std::to_string(dst_) +
                            "'s memory (cudaDeviceCanAccessPeer)");
    }
    const uint64_t nodes = std::max<uint64_t>(2, static_cast<uint64_t>(spec.param("bytes")) / (kernels::kChaseNodeStride * 4));
    next_ = kernels::chase_cycle(static_cast<uint32_t>(nodes), kChaseSeed);
    {
      DeviceGuard guard(dst_);
      chain_ = std::make_unique<DeviceBuffer<uint32_t>>(nodes * kernels::kChaseNodeStride);
      DeviceBuffer<uint32_t> next(nodes);
      CUDA_CHECK(cudaMemcpy(next.get(), next_.data(), nodes * sizeof(uint32_t), cudaMemcpyHostToDevice));
      CUDA_CHECK(kernels::chase_scatter_cuda(next.get(), static_cast<uint32_t>(nodes), chain_->get(), nullptr));
      CUDA_CHECK(cudaDeviceSynchronize());
    }
    DeviceGuard guard(src_);
    end_ = std::make_unique<DeviceBuffer<uint32_t>>(1);
    stream_ = std::make_unique<CudaStream>();
    timer_ = std::make_unique<StreamTimer>(std::vector<StreamTimer::Stream>{{src_, stream_->get()}});
    facts_ = src_ == dst_ ? nlohmann::json{{"src", src_}, {"dst", dst_}, {"local", true}} : pair_facts(src_, dst_);
    facts_["nodes"] = nodes;
    facts_["node_stride_bytes"] = kernels::kChaseNodeStride * 4;
    facts_["hops_per_run"] = kHopsPerRun;
  }

  Validation validate() override {
    const uint64_t hops = 3 * kHopsPerRun + 1;  // not a multiple of anything the cycle might be
    uint32_t got = ~0u;
    {
      DeviceGuard guard(src_);
      CUDA_CHECK(cudaMemsetAsync(end_->get(), 0xFF, sizeof(uint32_t), stream_->get()));
      CUDA_CHECK(kernels::pointer_chase_cuda(chain_->get(), hops, end_->get(), stream_->get()));
      CUDA_CHECK(cudaStreamSynchronize(stream_->get()));
      CUDA_CHECK(cudaMemcpy(&got, end_->get(), sizeof got, cudaMemcpyDeviceToHost));
    }
    ExactCheck check;
    check.what = "walks";
    check.elements = 1;
    check.wrong = got != kernels::chase_end(next_, hops);
    if (check.wrong) check.max_rel_err = 1;
    check.method = "a walk of " + std::to_string(hops) + " hops ends on the node the host's walk of the same chain ends on";
    return to_validation(check);
  }

  void run() override { time_runs(1, MeasureMode::hot); }
  bool times_itself() const override { return true; }
  // Seconds per hop: `runs` x kHopsPerRun dependent loads in one kernel.
  double time_runs(int runs, MeasureMode) override {
    const uint64_t hops = uint64_t(runs) * kHopsPerRun;
    DeviceGuard guard(src_);
    return timer_->time([&] { CUDA_CHECK(kernels::pointer_chase_cuda(chain_->get(), hops, end_->get(), stream_->get())); }) /
           double(hops);
  }
  nlohmann::json row_details() const override { return {{"p2p", facts_}}; }

 private:
  int src_, dst_;
  std::vector<uint32_t> next_;
  std::unique_ptr<DeviceBuffer<uint32_t>> chain_, end_;
  std::unique_ptr<CudaStream> stream_;
  std::unique_ptr<StreamTimer> timer_;
  nlohmann::json facts_;
};

// ---- where each implementation can run -------------------------------------------------------

std::optional<std::string> pair_unsupported(const BenchmarkSpec& spec, const DeviceProbe& probe, bool same_allowed) {
  if (!probe.available()) return "no CUDA device: " + probe.unavailable_reason.value_or("unknown");
  const int64_t src = spec.param("src"), dst = spec.param("dst");
  const int64_t seen = static_cast<int64_t>(probe.gpus.size());
  if (seen < 2) {
    return "needs 2 GPUs in one process and this one sees " + std::to_string(seen) +
           " (peer-to-peer is node-level: run it in one process that sees every GPU)";
  }
  if (src >= seen || dst >= seen) {
    return "names GPUs " + std::to_string(src) + " and " + std::to_string(dst) + "; this process sees " +
           std::to_string(seen) + " (0 to " + std::to_string(seen - 1) + ")";
  }
  if (src == dst && !same_allowed) return "src and dst are the same GPU: local copies are the memory family's";
  return std::nullopt;
}

std::optional<std::string> p2p_unsupported(const BenchmarkSpec& spec, const DeviceProbe& probe) {
  if (auto why = pair_unsupported(spec, probe, false)) return why;
  const int64_t directions = spec.param("directions"), bytes = spec.param("bytes");
  if (auto bad = family_shape_problem(spec.family, spec.params)) return bad;  // directions 1 or 2
  if (bytes % 16 != 0) return "bytes = " + std::to_string(bytes) + " is not a multiple of 16";
  const long long smaller = std::min(probe.gpus.at(static_cast<size_t>(spec.param("src"))).memory_bytes,
                                     probe.gpus.at(static_cast<size_t>(spec.param("dst"))).memory_bytes);
  if (double(bytes) * directions > 0.45 * double(smaller)) {
    return "needs more than 45% of a GPU's memory";
  }
  return std::nullopt;
}

std::optional<std::string> chase_unsupported(const BenchmarkSpec& spec, const DeviceProbe& probe) {
  if (!probe.available()) return "no CUDA device: " + probe.unavailable_reason.value_or("unknown");
  const int64_t nodes = spec.param("bytes") / (kernels::kChaseNodeStride * 4);
  if (nodes < 2 || nodes > (int64_t(1) << 31)) return "bytes must hold between 2 and 2^31 nodes of 256 bytes";
  // The diagonal (a GPU's own memory) needs one GPU; a pair needs two.
  if (spec.param("src") == spec.param("dst") && spec.param("src") < static_cast<int64_t>(probe.gpus.size())) {
    return std::nullopt;
  }
  return pair_unsupported(spec, probe, true);
}

Implementation p2p_impl(const char* name, bool vendor, Mover mover) {
  return {"p2p", name, Backend::cuda, vendor, {"u8"}, p2p_unsupported,
          [mover](const BenchmarkSpec& s) { return std::make_unique<P2pCase>(s, mover); },
          [](const BenchmarkSpec& s) {
            return std::optional<BandwidthPeak>(BandwidthPeak{"nvlink", double(s.param("directions"))});
          }};
}

}  // namespace

std::vector<Implementation> p2p_implementations() {
  return {p2p_impl("ce", true, Mover::ce), p2p_impl("sm_write", false, Mover::sm_write),
          p2p_impl("sm_read", false, Mover::sm_read),
          {"p2p_latency", "chase", Backend::cuda, false, {"u32"}, chase_unsupported,
           [](const BenchmarkSpec& s) { return std::make_unique<ChaseCase>(s); }}};
}

}  // namespace aicbench
