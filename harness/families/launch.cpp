// The launch family: what it costs to start a kernel, the floor under every small kernel and
// every step of a decode loop (docs/memory.md).
//
//   impl    backend  what
//   stream  cuda     `batch` launches of an empty kernel on a stream, then cudaStreamSynchronize
//   graph   cuda     one cudaGraphLaunch of a CUDA graph holding `batch` empty-kernel nodes in a
//                    chain (captured from the same launches), then cudaStreamSynchronize
//
// dtype none; one parameter, `batch`. What is timed: the host's steady clock from before the
// first launch call to the return of the synchronisation, divided by `batch`: the time per
// launch. batch 1 is the round trip of one launch (launch, run, the host seeing it done); a large
// batch amortises the synchronisation and shows the launch rate the host and GPU sustain, for a
// graph the per-node cost once the graph is on the GPU. No GB/s, no TFLOP/s: the row's time is
// the number. Cold and hot mean the same here (no data).
//
// Validation: the batch completes without error, and the graph holds exactly `batch` kernel nodes.
#include <memory>

#include "harness/benchmark.hpp"
#include "harness/clock.hpp"
#include "harness/cuda_check.hpp"
#include "harness/device_buffer.hpp"
#include "harness/families/exact_check.hpp"
#include "kernels/launch/empty_kernel.hpp"

namespace aicbench {

namespace {

class LaunchCase final : public BenchmarkCase {
 public:
  LaunchCase(const BenchmarkSpec& spec, bool graph) : graph_(graph), batch_(static_cast<int>(spec.param("batch"))) {
    if (!graph_) return;
    // The graph is captured from the very launches the stream variant makes.
    cudaGraph_t captured = nullptr;
    CUDA_CHECK(cudaStreamBeginCapture(stream_.get(), cudaStreamCaptureModeThreadLocal));
    for (int i = 0; i < batch_; ++i) {
      if (cudaError_t err = kernels::launch_empty_kernel(stream_.get()); err != cudaSuccess) {
        (void)cudaStreamEndCapture(stream_.get(), &captured);
        if (captured) cudaGraphDestroy(captured);
        CUDA_CHECK(err);
      }
    }
    CUDA_CHECK(cudaStreamEndCapture(stream_.get(), &captured));
    const cudaError_t err = cudaGraphGetNodes(captured, nullptr, &nodes_);
    const cudaError_t inst = err == cudaSuccess ? cudaGraphInstantiate(&exec_, captured, 0) : err;
    cudaGraphDestroy(captured);
    CUDA_CHECK(inst);
  }
  ~LaunchCase() override {
    if (exec_) cudaGraphExecDestroy(exec_);
  }

  Validation validate() override {
    time_runs(1, MeasureMode::hot);
    ExactCheck check;
    check.what = "launches";
    check.elements = static_cast<uint64_t>(batch_);
    if (graph_) {
      check.wrong = nodes_ == static_cast<size_t>(batch_) ? 0 : 1;
      check.method = "the batch completes without error; the graph holds " + std::to_string(nodes_) +
                     " kernel nodes, expected " + std::to_string(batch_);
    } else {
      check.method = "the batch completes without error";
    }
    return to_validation(check);
  }

  void run() override { time_runs(1, MeasureMode::hot); }
  bool times_itself() const override { return true; }
  double time_runs(int runs, MeasureMode) override {
    cudaStream_t s = stream_.get();
    const double start = steady_seconds();
    for (int r = 0; r < runs; ++r) {
      if (graph_) {
        CUDA_CHECK(cudaGraphLaunch(exec_, s));
      } else {
        for (int i = 0; i < batch_; ++i) CUDA_CHECK(kernels::launch_empty_kernel(s));
      }
      CUDA_CHECK(cudaStreamSynchronize(s));
    }
    return (steady_seconds() - start) / (double(runs) * batch_);
  }
  nlohmann::json row_details() const override {
    return {{"launch", {{"timed", graph_ ? "host clock: cudaGraphLaunch of a graph of `batch` empty-kernel nodes, then "
                                           "cudaStreamSynchronize; per node"
                                         : "host clock: `batch` launches of an empty kernel, then "
                                           "cudaStreamSynchronize; per launch"},
                        {"batch", batch_}}}};
  }

 private:
  bool graph_;
  int batch_;
  CudaStream stream_;
  cudaGraphExec_t exec_ = nullptr;
  size_t nodes_ = 0;
};

std::optional<std::string> launch_unsupported(const BenchmarkSpec& spec, const DeviceProbe& probe) {
  if (!probe.available()) return "no CUDA device: " + probe.unavailable_reason.value_or("unknown");
  if (spec.param("batch") > 100000) return "batch must be at most 100000";
  return std::nullopt;
}

}  // namespace

std::vector<Implementation> launch_implementations() {
  return {{"launch", "stream", Backend::cuda, false, {"none"}, launch_unsupported,
           [](const BenchmarkSpec& s) { return std::make_unique<LaunchCase>(s, false); }},
          {"launch", "graph", Backend::cuda, false, {"none"}, launch_unsupported,
           [](const BenchmarkSpec& s) { return std::make_unique<LaunchCase>(s, true); }}};
}

}  // namespace aicbench
