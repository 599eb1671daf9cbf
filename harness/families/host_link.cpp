// The host_link family: copies between host memory and the GPU, over PCIe (or NVLink-C2C), one
// direction or both at once, from pinned or pageable host memory (docs/memory.md).
//
//   impl              backend  what
//   h2d_pinned        cuda     cudaMemcpyAsync host to device from page-locked memory (cudaMallocHost)
//   d2h_pinned        cuda     device to host into page-locked memory
//   bidir_pinned      cuda     both at once, on two streams (two copy engines)
//   h2d_pageable      cuda     the same from ordinary (malloc'd, touched) memory: the driver stages
//   d2h_pageable      cuda     it through its own pinned buffers, as most applications' copies go
//   bidir_pageable    cuda
//
// dtype u8 (bytes are bytes); one parameter, `bytes` per direction. GB/s counts the bytes of every
// direction (bidir: twice `bytes`). pct_of_peak: against the datasheet's PCIe bandwidth per
// direction (peak_gbps.pcie, twice it for bidir), so a link trained at x8 or Gen4 shows at about
// half. Each row records the link NVML reports, read right after the copies (`pcie`), and the
// NUMA nodes of the GPU and of the thread that copied (`numa`).
//
// Timing: pinned copies by CUDA events behind a blocking kernel (StreamTimer); pageable copies
// by the host's steady clock around cudaMemcpyAsync and cudaStreamSynchronize (a pageable copy
// synchronises with the host, so it cannot wait behind a blocking kernel), both directions on two
// host threads started together. Per process: one GPU, the current one; under mpirun or srun
// every rank measures its own GPU's link, all at once.
//
// Validation: every byte that arrived is compared with what was sent (a pattern no byte of the
// poison the destination held before has at every place).
#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <memory>

#include <unistd.h>

#include "harness/benchmark.hpp"
#include "harness/clock.hpp"
#include "harness/cuda_check.hpp"
#include "harness/device_buffer.hpp"
#include "harness/families/device_timing.hpp"
#include "harness/families/exact_check.hpp"
#include "harness/telemetry.hpp"
#include "kernels/memory/stream_cpu.hpp"

namespace aicbench {

namespace {

enum class Memory { pinned, pageable };
struct Directions {
  bool h2d, d2h;
  int count() const { return h2d + d2h; }
};

// Byte i of what is sent: a pattern with every byte value, different in the two directions.
unsigned char pattern(size_t i, bool h2d) { return static_cast<unsigned char>((i * 131 + (h2d ? 7 : 101)) ^ (i >> 13)); }
constexpr unsigned char kPoison = 0xA5;

// Host memory of either kind.
class HostBuffer {
 public:
  HostBuffer(size_t bytes, Memory kind) : bytes_(bytes), kind_(kind) {
    if (kind_ == Memory::pinned) {
      CUDA_CHECK(cudaMallocHost(&data_, std::max<size_t>(bytes, 1)));
    } else {
      data_ = std::aligned_alloc(4096, (std::max<size_t>(bytes, 1) + 4095) / 4096 * 4096);
      if (!data_) throw std::bad_alloc();
    }
    std::memset(data_, 0, bytes_);  // every page present (pageable memory is only promised until touched)
  }
  ~HostBuffer() {
    if (kind_ == Memory::pinned) cudaFreeHost(data_);
    else std::free(data_);
  }
  HostBuffer(const HostBuffer&) = delete;
  HostBuffer& operator=(const HostBuffer&) = delete;
  unsigned char* get() const { return static_cast<unsigned char*>(data_); }

 private:
  size_t bytes_;
  Memory kind_;
  void* data_ = nullptr;
};

class HostLinkCase final : public BenchmarkCase {
 public:
  HostLinkCase(const BenchmarkSpec& spec, Directions dirs, Memory memory)
      : dirs_(dirs),
        memory_(memory),
        bytes_(static_cast<size_t>(spec.param("bytes"))),
        device_(current_device()) {
    if (dirs_.h2d) {
      host_src_ = std::make_unique<HostBuffer>(bytes_, memory_);
      dev_in_ = std::make_unique<DeviceBuffer<unsigned char>>(bytes_);
    }
    if (dirs_.d2h) {
      host_dst_ = std::make_unique<HostBuffer>(bytes_, memory_);
      dev_out_ = std::make_unique<DeviceBuffer<unsigned char>>(bytes_);
    }
    if (memory_ == Memory::pinned) {
      std::vector<StreamTimer::Stream> streams = {{device_, h2d_stream_.get()}};
      if (dirs_.count() == 2) streams.push_back({device_, d2h_stream_.get()});
      timer_ = std::make_unique<StreamTimer>(streams);
    } else if (dirs_.count() == 2) {
      threads_ = std::make_unique<kernels::CpuTeam>(2);
    }
    link_reader_ = open_pcie_link_reader(pci_bus_id(device_), &link_unavailable_);
  }

  Validation validate() override {
    // What is sent: the pattern; where it lands: the poison.
    std::vector<unsigned char> expect_h2d, expect_d2h;
    if (dirs_.h2d) {
      for (size_t i = 0; i < bytes_; ++i) host_src_->get()[i] = pattern(i, true);
      CUDA_CHECK(cudaMemset(dev_in_->get(), kPoison, bytes_));
    }
    if (dirs_.d2h) {
      expect_d2h.resize(bytes_);
      for (size_t i = 0; i < bytes_; ++i) expect_d2h[i] = pattern(i, false);
      CUDA_CHECK(cudaMemcpy(dev_out_->get(), expect_d2h.data(), bytes_, cudaMemcpyHostToDevice));
      std::memset(host_dst_->get(), kPoison, bytes_);
    }
    CUDA_CHECK(cudaDeviceSynchronize());
    time_runs(1, MeasureMode::hot);

    ExactCheck check;
    check.what = "bytes";
    check.method = "every byte that arrived compared with what was sent";
    auto compare = [&](const unsigned char* got, auto expected) {
      for (size_t i = 0; i < bytes_; ++i) {
        ++check.elements;
        if (got[i] != expected(i)) {
          if (!check.wrong) check.first_wrong = i;
          ++check.wrong;
          check.max_rel_err = 1;
        }
      }
    };
    if (dirs_.h2d) {
      std::vector<unsigned char> arrived(bytes_);
      CUDA_CHECK(cudaMemcpy(arrived.data(), dev_in_->get(), bytes_, cudaMemcpyDeviceToHost));
      compare(arrived.data(), [](size_t i) { return pattern(i, true); });
    }
    if (dirs_.d2h) compare(host_dst_->get(), [&](size_t i) { return expect_d2h[i]; });
    return to_validation(check);
  }

  void run() override { time_runs(1, MeasureMode::hot); }
  bool times_itself() const override { return true; }

  double time_runs(int runs, MeasureMode) override {
    double seconds = 0;
    if (memory_ == Memory::pinned) {
      seconds = timer_->time([&] {
        for (int r = 0; r < runs; ++r) {
          if (dirs_.h2d) CUDA_CHECK(cudaMemcpyAsync(dev_in_->get(), host_src_->get(), bytes_, cudaMemcpyHostToDevice, h2d_stream_.get()));
          if (dirs_.d2h) {
            cudaStream_t s = dirs_.count() == 2 ? d2h_stream_.get() : h2d_stream_.get();
            CUDA_CHECK(cudaMemcpyAsync(host_dst_->get(), dev_out_->get(), bytes_, cudaMemcpyDeviceToHost, s));
          }
        }
      });
    } else {
      auto h2d = [&] {
        for (int r = 0; r < runs; ++r) CUDA_CHECK(cudaMemcpyAsync(dev_in_->get(), host_src_->get(), bytes_, cudaMemcpyHostToDevice, h2d_stream_.get()));
        CUDA_CHECK(cudaStreamSynchronize(h2d_stream_.get()));
      };
      auto d2h = [&] {
        for (int r = 0; r < runs; ++r) CUDA_CHECK(cudaMemcpyAsync(host_dst_->get(), dev_out_->get(), bytes_, cudaMemcpyDeviceToHost, d2h_stream_.get()));
        CUDA_CHECK(cudaStreamSynchronize(d2h_stream_.get()));
      };
      const double start = steady_seconds();
      if (dirs_.count() == 2) {
        // The team's second thread sets its device (a new host thread starts on device 0).
        threads_->run([&](int t) {
          if (t == 0) return h2d();
          CUDA_CHECK(cudaSetDevice(device_));
          d2h();
        });
      } else if (dirs_.h2d) {
        h2d();
      } else {
        d2h();
      }
      seconds = steady_seconds() - start;
    }
    // Right after the traffic, before an idle link trains down to save power.
    if (link_reader_) link_ = link_reader_->read();
    numa_ = numa_placement(device_);
    return seconds / runs;
  }

  double bytes() const override { return double(bytes_) * dirs_.count(); }

  nlohmann::json row_details() const override {
    nlohmann::json pcie = link_ ? link_->to_json() : nlohmann::json{{"unavailable", link_unavailable_}};
    return {{"pcie", pcie}, {"numa", numa_}};
  }

 private:
  Directions dirs_;
  Memory memory_;
  size_t bytes_;
  int device_;
  CudaStream h2d_stream_, d2h_stream_;
  std::unique_ptr<HostBuffer> host_src_, host_dst_;
  std::unique_ptr<DeviceBuffer<unsigned char>> dev_in_, dev_out_;
  std::unique_ptr<StreamTimer> timer_;
  std::unique_ptr<kernels::CpuTeam> threads_;
  std::unique_ptr<PcieLinkReader> link_reader_;
  std::string link_unavailable_;
  std::optional<PcieLink> link_;
  nlohmann::json numa_ = nullptr;
};

std::string mib(double bytes) { return std::to_string(static_cast<long long>(bytes / (1 << 20))) + " MiB"; }

std::optional<std::string> host_link_unsupported(const BenchmarkSpec& spec, const DeviceProbe& probe, Directions dirs) {
  if (!probe.available()) return "no CUDA device: " + probe.unavailable_reason.value_or("unknown");
  const double need = double(spec.param("bytes")) * dirs.count();
  if (need > 0.9 * double(probe.gpu().memory_bytes)) {
    return "needs " + mib(need) + " of device memory, more than 90% of the GPU's";
  }
  const double host = double(::sysconf(_SC_PHYS_PAGES)) * double(::sysconf(_SC_PAGE_SIZE));
  if (3 * need > 0.5 * host) return "needs " + mib(3 * need) + " of host memory (buffers and validation), more than half of " + mib(host);
  return std::nullopt;
}

Implementation host_link_impl(const char* name, Directions dirs, Memory memory) {
  return {"host_link", name, Backend::cuda, false, {"u8"},
          [dirs](const BenchmarkSpec& s, const DeviceProbe& p) { return host_link_unsupported(s, p, dirs); },
          [dirs, memory](const BenchmarkSpec& s) { return std::make_unique<HostLinkCase>(s, dirs, memory); },
          [dirs](const BenchmarkSpec&) { return std::optional<BandwidthPeak>(BandwidthPeak{"pcie", double(dirs.count())}); }};
}

}  // namespace

std::vector<Implementation> host_link_implementations() {
  return {host_link_impl("h2d_pinned", {true, false}, Memory::pinned),
          host_link_impl("d2h_pinned", {false, true}, Memory::pinned),
          host_link_impl("bidir_pinned", {true, true}, Memory::pinned),
          host_link_impl("h2d_pageable", {true, false}, Memory::pageable),
          host_link_impl("d2h_pageable", {false, true}, Memory::pageable),
          host_link_impl("bidir_pageable", {true, true}, Memory::pageable)};
}

}  // namespace aicbench
