// The burnin family (issue 12 item 5): a sustained GEMM load for `seconds`, every output checked
// bit for bit against the first, with the clocks, power, temperature and clock-limiting reasons of
// every interval recorded (harness/families/burnin.hpp says what fails it).
//
//   impl                  dtype  backend  GEMM
//   cublaslt              bf16   cuda     cublasLtMatmul, the heuristic's best algorithm (vendor)
//   wgmma_sm90_multicast  bf16   cuda     our default Hopper kernel (kernels/gemm/gemm_wgmma_sm90.cu kernel2)
//   cpu_blocked           fp32   cpu      kernels/gemm/gemm_cpu.cpp on every hardware thread
//
// bf16 on the GPU, not fp32: an fp32 load leaves an H100 far below its power limit, and the point
// is to hold the GPU at its limit. Parameters M, N, K (TN layout on the GPU, NN on the CPU, as the
// gemm family) and `seconds`. Name: burnin/cublaslt/bf16/M:8192/N:8192/K:8192/seconds:120.
//
// validate() is the burn-in: the first output is validated against float64 (check_gemm, as every
// GEMM), then becomes the reference every later output must equal. After it, the harness measures
// the GEMM as usual, so the row's TFLOP/s is the hot GPU's.
#include "harness/families/burnin.hpp"

#include <algorithm>
#include <climits>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>
#include <map>
#include <mutex>
#include <thread>

#include <cuda_bf16.h>
#include <unistd.h>

#include "harness/benchmark.hpp"
#include "harness/clock.hpp"
#include "harness/cuda_check.hpp"
#include "harness/device_buffer.hpp"
#include "harness/families/gemm_precision.hpp"
#include "harness/provenance.hpp"
#include "harness/validation.hpp"
#include "kernels/burnin/burnin_check.hpp"
#include "kernels/gemm/gemm_api.hpp"
#include "kernels/gemm/gemm_cpu.hpp"
#include "kernels/gemm/gemm_cublas.hpp"

namespace aicbench {

namespace burnin {

double interval_seconds(double seconds) { return std::max(kIntervalS, seconds / kMaxSamples); }

std::vector<Interval> run(Load& load, double seconds, int64_t gemms_per_interval, const std::function<double()>& now) {
  const double interval_s = interval_seconds(seconds);
  const bool async = load.asynchronous();
  // A guard far above what the adaptive interval size gives (about seconds / interval_s).
  const int max_intervals = 4 * kMaxSamples + 16;
  int64_t per = std::max<int64_t>(1, gemms_per_interval);
  int64_t next_gemm = 0;
  int queued = 0;
  auto queue = [&] {
    load.start(queued++, next_gemm, per);
    next_gemm += per;
  };
  std::vector<Interval> done;
  queue();
  if (async && interval_s < seconds) queue();  // one ahead, so the device never waits
  for (int waiting = 0; waiting < queued; ++waiting) {
    Interval interval = load.finish(waiting);
    interval.start_s = done.empty() ? 0.0 : done.back().end_s;
    // Size later intervals from this one: the GPU's speed changes as it heats.
    const double took = interval.end_s - interval.start_s;
    if (took > 0 && interval.gemms > 0) {
      per = std::clamp<int64_t>(std::llround(double(interval.gemms) * interval_s / took), 1, int64_t(1) << 30);
    }
    done.push_back(interval);
    // What is queued already runs until about now + (queued - waiting - 1) intervals.
    const double busy_until = now() + (queued - waiting - 1) * interval_s;
    if (busy_until < seconds && queued < max_intervals) queue();
  }
  return done;
}

std::string Verdict::message() const {
  std::string out;
  for (const std::string& r : reasons) out += (out.empty() ? "" : "; ") + r;
  return out;
}

namespace {

using json = nlohmann::json;

std::string fixed(double v, int digits = 1) {
  char buffer[48];
  std::snprintf(buffer, sizeof buffer, "%.*f", digits, v);
  return buffer;
}

std::string bits(uint32_t v, int element_bytes) {
  char buffer[16];
  std::snprintf(buffer, sizeof buffer, "0x%0*x", 2 * element_bytes, v);
  return buffer;
}

double rounded(double v, double unit) { return std::round(v / unit) * unit; }

// What the telemetry readings of one interval add up to.
struct IntervalTelemetry {
  int readings = 0;
  std::optional<double> sm_clock_mhz, sm_clock_min_mhz, power_w, temp_c;
  uint64_t reasons = 0;  // excluding gpu_idle
};

// The readings of the interval (from, to]; the first interval also takes the reading at its start.
IntervalTelemetry summarise(const std::vector<TelemetryReading>& readings, double from, double to, bool first) {
  constexpr uint64_t kIdle = 0x1;
  IntervalTelemetry t;
  double clock_sum = 0, power_sum = 0;
  int clocks = 0, powers = 0;
  for (const TelemetryReading& r : readings) {
    if (r.time_s > to || r.time_s < from || (r.time_s == from && !first)) continue;
    ++t.readings;
    // The clock of a busy GPU only: a reading taken while it was idle (the first, before the load
    // reached it) says nothing about how it holds its clock under load.
    const bool idle = r.throttle_reasons && (*r.throttle_reasons & kIdle);
    if (r.sm_clock_mhz && !idle) {
      clock_sum += *r.sm_clock_mhz;
      ++clocks;
      t.sm_clock_min_mhz = std::min(t.sm_clock_min_mhz.value_or(*r.sm_clock_mhz), *r.sm_clock_mhz);
    }
    if (r.power_w) {
      power_sum += *r.power_w;
      ++powers;
    }
    if (r.temp_c) t.temp_c = std::max(t.temp_c.value_or(*r.temp_c), *r.temp_c);
    if (r.throttle_reasons) t.reasons |= *r.throttle_reasons & ~kIdle;
  }
  if (clocks) t.sm_clock_mhz = clock_sum / clocks;
  if (powers) t.power_w = power_sum / powers;
  return t;
}

}  // namespace

Verdict evaluate(const Device& device, const Settings& settings, const std::vector<Interval>& intervals,
                 const std::vector<TelemetryReading>& readings) {
  Verdict verdict;
  json samples = json::array();
  int64_t gemms = 0, mismatched = 0;
  int mismatched_intervals = 0;
  const Interval* first_bad = nullptr;
  double busy_s = 0;
  // Over the intervals: the lowest interval clock and where, the hottest, mean power; per reason,
  // how many intervals saw it and when first.
  std::optional<double> min_clock, max_temp;
  int min_clock_interval = -1;
  double clock_sum = 0, power_sum = 0;
  int clock_n = 0, power_n = 0;
  std::map<std::string, std::pair<int, double>> reasons_seen;  // name -> (intervals, first t_s)
  std::map<std::string, bool> reason_fails;
  for (size_t i = 0; i < intervals.size(); ++i) {
    const Interval& in = intervals[i];
    gemms += in.gemms;
    mismatched += in.mismatched_elements;
    busy_s += in.end_s - in.start_s;
    if (in.mismatched_elements > 0) {
      ++mismatched_intervals;
      if (!first_bad) first_bad = &in;
    }
    json sample = {{"t_s", rounded(in.end_s, 0.001)}, {"gemms", in.gemms}, {"mismatched_elements", in.mismatched_elements}};
    const double took = in.end_s - in.start_s;
    if (took > 0 && settings.flops_per_gemm > 0) sample["tflops"] = rounded(in.gemms * settings.flops_per_gemm / took / 1e12, 0.01);
    if (!readings.empty()) {
      const IntervalTelemetry t = summarise(readings, in.start_s, in.end_s, i == 0);
      auto put = [&](const char* key, const std::optional<double>& v, double unit) {
        sample[key] = v ? json(rounded(*v, unit)) : json(nullptr);
      };
      put("sm_clock_mhz", t.sm_clock_mhz, 0.1);
      put("sm_clock_min_mhz", t.sm_clock_min_mhz, 0.1);
      put("power_w", t.power_w, 0.1);
      put("temp_c", t.temp_c, 1);
      const std::vector<std::string> names = throttle_reason_names(t.reasons);
      sample["throttle_reasons"] = names;
      for (const std::string& name : names) {
        auto [it, fresh] = reasons_seen.try_emplace(name, 0, in.end_s);
        ++it->second.first;
        if (fresh) reason_fails[name] = false;
      }
      for (const std::string& name : throttle_reason_names(t.reasons & kFailingThrottleMask)) reason_fails[name] = true;
      if (t.sm_clock_mhz) {
        clock_sum += *t.sm_clock_mhz;
        ++clock_n;
        if (!min_clock || *t.sm_clock_mhz < *min_clock) {
          min_clock = t.sm_clock_mhz;
          min_clock_interval = static_cast<int>(i);
        }
      }
      if (t.power_w) {
        power_sum += *t.power_w;
        ++power_n;
      }
      if (t.temp_c) max_temp = std::max(max_temp.value_or(*t.temp_c), *t.temp_c);
    }
    samples.push_back(std::move(sample));
  }
  const int total = static_cast<int>(intervals.size());

  // ---- the verdict, each reason naming the device ----
  json first_mismatch = nullptr;
  if (mismatched > 0 && first_bad && first_bad->first) {
    const Mismatch& m = *first_bad->first;
    const int index = static_cast<int>(first_bad - intervals.data());
    const int64_t row = settings.columns > 0 ? m.element / settings.columns : 0;
    const int64_t column = settings.columns > 0 ? m.element % settings.columns : m.element;
    first_mismatch = {{"interval", index},
                      {"t_s", rounded(first_bad->start_s, 0.001)},
                      {"gemm", m.gemm},
                      {"element", m.element},
                      {"row", row},
                      {"column", column},
                      {"got", bits(m.got, settings.element_bytes)},
                      {"expected", bits(m.expected, settings.element_bytes)}};
    verdict.reasons.push_back(
        device.description + ": " + std::to_string(mismatched) + (mismatched == 1 ? " element" : " elements") +
        " of C differed from the first, validated output of the same inputs, in " + std::to_string(mismatched_intervals) +
        " of " + std::to_string(total) + " intervals; first in interval " + std::to_string(index) + " (t = " +
        fixed(first_bad->start_s) + "-" + fixed(first_bad->end_s) + " s, GEMMs " + std::to_string(first_bad->first_gemm) +
        "-" + std::to_string(first_bad->first_gemm + first_bad->gemms - 1) + "): GEMM " + std::to_string(m.gemm) +
        ", row " + std::to_string(row) + ", column " + std::to_string(column) + ", bits " +
        bits(m.got, settings.element_bytes) + " instead of " + bits(m.expected, settings.element_bytes));
  } else if (mismatched > 0) {
    verdict.reasons.push_back(device.description + ": " + std::to_string(mismatched) +
                              " elements of C differed from the first, validated output of the same inputs");
  }
  for (const auto& [name, seen] : reasons_seen) {
    if (!reason_fails[name]) continue;
    verdict.reasons.push_back(device.description + ": throttled by " + name + " in " + std::to_string(seen.first) + " of " +
                              std::to_string(total) + " intervals (first at t = " + fixed(seen.second) + " s)");
  }
  std::optional<double> floor;
  if (device.max_sm_clock_mhz && *device.max_sm_clock_mhz > 0) floor = kClockFloorFraction * *device.max_sm_clock_mhz;
  if (floor && min_clock && *min_clock < *floor) {
    verdict.reasons.push_back(device.description + ": SM clock fell to " + fixed(*min_clock, 0) + " MHz (interval " +
                              std::to_string(min_clock_interval) + ", t = " +
                              fixed(intervals[static_cast<size_t>(min_clock_interval)].start_s) + " s), below the floor of " +
                              fixed(*floor, 0) + " MHz (" + fixed(100 * kClockFloorFraction, 0) + " % of its maximum " +
                              fixed(*device.max_sm_clock_mhz, 0) + " MHz)");
  }
  if (intervals.empty()) verdict.reasons.push_back(device.description + ": the burn-in ran no interval");
  verdict.passed = verdict.reasons.empty();

  // ---- the row's block ----
  json throttle = json::object();
  for (const auto& [name, seen] : reasons_seen) {
    throttle[name] = {{"intervals", seen.first}, {"first_t_s", rounded(seen.second, 0.001)}, {"fails", reason_fails[name]}};
  }
  auto optional = [](const std::optional<double>& v, double unit) { return v ? json(rounded(*v, unit)) : json(nullptr); };
  json summary = {{"gemms", gemms},
                  {"tflops", busy_s > 0 && settings.flops_per_gemm > 0
                                 ? json(rounded(gemms * settings.flops_per_gemm / busy_s / 1e12, 0.01))
                                 : json(nullptr)}};
  if (!readings.empty()) {
    summary["min_sm_clock_mhz"] = optional(min_clock, 0.1);
    summary["min_sm_clock_t_s"] =
        min_clock_interval >= 0 ? json(rounded(intervals[static_cast<size_t>(min_clock_interval)].start_s, 0.001)) : json(nullptr);
    summary["mean_sm_clock_mhz"] = optional(clock_n ? std::optional<double>(clock_sum / clock_n) : std::nullopt, 0.1);
    summary["max_temp_c"] = optional(max_temp, 1);
    summary["mean_power_w"] = optional(power_n ? std::optional<double>(power_sum / power_n) : std::nullopt, 0.1);
    summary["throttle_reasons"] = throttle;
  }
  json block = {{"device", device.description},
                {"seconds", settings.seconds},
                {"elapsed_s", rounded(intervals.empty() ? 0.0 : intervals.back().end_s, 0.001)},
                {"interval_s", settings.interval_s},
                {"intervals", total},
                {"check", settings.check},
                {"mismatched_elements", mismatched},
                {"mismatched_intervals", mismatched_intervals},
                {"first_mismatch", first_mismatch},
                {"telemetry", settings.telemetry},
                {"max_sm_clock_mhz", device.max_sm_clock_mhz ? json(*device.max_sm_clock_mhz) : json(nullptr)},
                {"clock_floor_mhz", optional(floor, 0.1)},
                {"failing_throttle_reasons", throttle_reason_names(kFailingThrottleMask)},
                {"summary", summary},
                {"verdict", {{"passed", verdict.passed}, {"reasons", verdict.reasons}}},
                {"samples", samples}};
  if (device.gpu_index) block["gpu_index"] = *device.gpu_index;
  if (!device.gpu_uuid.empty()) block["gpu_uuid"] = device.gpu_uuid;
  verdict.block = std::move(block);
  return verdict;
}

namespace {
std::mutex fault_mutex;
std::optional<PlantedFault> fault;
}  // namespace

void plant_fault_for_testing(std::optional<PlantedFault> f) {
  std::lock_guard lock(fault_mutex);
  fault = f;
}

std::optional<PlantedFault> planted_fault() {
  std::lock_guard lock(fault_mutex);
  return fault;
}

}  // namespace burnin

namespace {

using json = nlohmann::json;
using bf16 = __nv_bfloat16;
// The gemm family's seeds: the burn-in's inputs are the gemm rows' inputs.
constexpr uint64_t kSeedA = 0xA11CE, kSeedB = 0xB0B;

std::vector<float> random_input(int64_t n, uint64_t seed) {
  std::vector<float> v(static_cast<size_t>(n));
  fill_uniform(v, seed);
  return v;
}

struct Shape {
  int64_t M, N, K, seconds;
  explicit Shape(const BenchmarkSpec& spec)
      : M(spec.param("M")), N(spec.param("N")), K(spec.param("K")), seconds(spec.param("seconds")) {}
  double flops() const { return 2.0 * double(M) * double(N) * double(K); }
};

Validation first_result_validation(const GemmCheck& check) {
  return {check.passed,
          check.max_rel_err,
          check.message,
          {{"max_rel_err", check.max_rel_err},
           {"freivalds_err", check.freivalds_err},
           {"tolerance", check.tolerance},
           {"samples", check.samples},
           {"method", "freivalds(2 probes) + sampled float64 elements on the first output; then every output of the "
                      "burn-in bitwise against it"}}};
}

// After the burn-in: the first output's validation, failed by the burn-in's verdict when it failed.
Validation with_verdict(Validation v, const burnin::Verdict& verdict) {
  if (!verdict.passed) {
    v.passed = false;
    v.message = "burn-in failed: " + verdict.message();
  }
  v.details["burnin_passed"] = verdict.passed;
  return v;
}

// How many GEMMs make an interval, from a few timed ones.
int64_t gemms_per_interval(double seconds_per_gemm, double seconds) {
  const double interval = burnin::interval_seconds(seconds);
  if (!(seconds_per_gemm > 0)) return 1;
  return std::clamp<int64_t>(std::llround(interval / seconds_per_gemm), 1, int64_t(1) << 30);
}

// ---- cuda backend ----------------------------------------------------------------------------
enum class CudaImpl { cublaslt, wgmma_sm90_multicast };

class CudaBurninCase;

// The GPU's load: each interval's GEMMs, each followed by its check into the interval's counters
// (two slots: one interval running while the previous one's counters are read).
class GpuLoad final : public burnin::Load {
 public:
  GpuLoad(CudaBurninCase& bench, cudaEvent_t start) : bench_(bench), start_(start) {
    CUDA_CHECK(cudaMallocHost(&host_, 2 * sizeof(kernels::BurninMismatches)));
    for (auto& e : end_) CUDA_CHECK(cudaEventCreate(&e));
  }
  ~GpuLoad() override {
    for (auto& e : end_) cudaEventDestroy(e);
    cudaFreeHost(host_);
  }
  bool asynchronous() const override { return true; }
  void start(int index, int64_t first_gemm, int64_t gemms) override;
  burnin::Interval finish(int index) override;

 private:
  CudaBurninCase& bench_;
  cudaEvent_t start_;
  cudaEvent_t end_[2] = {};
  kernels::BurninMismatches* host_ = nullptr;
  int64_t first_gemm_[2] = {}, gemms_[2] = {};
};

class CudaBurninCase final : public BenchmarkCase {
 public:
  CudaBurninCase(const BenchmarkSpec& spec, CudaImpl impl)
      : impl_(impl),
        t_(traits("bf16")),
        shape_(spec),
        a_ref_(random_input(shape_.M * shape_.K, kSeedA)),
        b_ref_(random_input(shape_.N * shape_.K, kSeedB)),
        A_(a_ref_.size()),
        B_(b_ref_.size()),
        C_(static_cast<size_t>(shape_.M * shape_.N)),
        reference_(C_.size()),
        counters_(2) {
    float scale = 1;
    const std::vector<unsigned char> a = quantize(t_, a_ref_, &scale);
    const std::vector<unsigned char> b = quantize(t_, b_ref_, &scale);
    upload(A_.get(), a.data(), a.size());
    upload(B_.get(), b.data(), b.size());
    if (impl_ == CudaImpl::cublaslt) cublaslt_ = std::make_unique<kernels::CublasLtGemm>(stream_.get());
  }

  Validation validate() override {
    cudaStream_t s = stream_.get();
    // The first output, poisoned before (a GEMM that writes nothing cannot pass), then validated.
    CUDA_CHECK(cudaMemsetAsync(C_.get(), 0xFF, bytes_of_c(), s));
    run();
    CUDA_CHECK(cudaStreamSynchronize(s));
    std::vector<unsigned char> bytes(bytes_of_c());
    CUDA_CHECK(cudaMemcpy(bytes.data(), C_.get(), bytes.size(), cudaMemcpyDeviceToHost));
    const GemmCheck check = check_gemm(a_ref_, b_ref_, widen_output(t_, bytes), shape_.M, shape_.N, shape_.K,
                                       tolerance(t_, shape_.K), BLayout::n_by_k);
    Validation v = first_result_validation(check);
    if (!check.passed) return v;
    CUDA_CHECK(cudaMemcpyAsync(reference_.get(), C_.get(), bytes_of_c(), cudaMemcpyDeviceToDevice, s));

    // A few GEMMs timed, to size the intervals.
    cudaEvent_t start = nullptr, stop = nullptr;
    CUDA_CHECK(cudaEventCreate(&start));
    CUDA_CHECK(cudaEventCreate(&stop));
    struct Events {
      cudaEvent_t a, b;
      ~Events() {
        cudaEventDestroy(a);
        cudaEventDestroy(b);
      }
    } events{start, stop};
    constexpr int kCalibration = 3;
    CUDA_CHECK(cudaEventRecord(start, s));
    for (int i = 0; i < kCalibration; ++i) run();
    CUDA_CHECK(cudaEventRecord(stop, s));
    CUDA_CHECK(cudaEventSynchronize(stop));
    float ms = 0;
    CUDA_CHECK(cudaEventElapsedTime(&ms, start, stop));

    // The device, and its telemetry every 100 ms while the load runs.
    const GpuInfo gpu = current_gpu();
    burnin::Device device;
    device.description = "GPU " + std::to_string(gpu.index) + " (" + gpu.uuid + ", PCI " + gpu.pci_bus_id + ")";
    device.gpu_index = gpu.index;
    device.gpu_uuid = gpu.uuid;
    burnin::Settings settings = settings_for(ms / 1000.0 / kCalibration);
    std::string why_not;
    std::unique_ptr<TelemetrySource> telemetry = open_nvml(gpu.pci_bus_id, &why_not);
    std::unique_ptr<TelemetrySampler> sampler;
    if (telemetry) {
      device.max_sm_clock_mhz = telemetry->max_sm_clock_mhz();
      settings.telemetry = "NVML every " + std::to_string(burnin::kTelemetryPeriodMs) + " ms, summarised per interval";
      sampler = std::make_unique<TelemetrySampler>(*telemetry, std::chrono::milliseconds(burnin::kTelemetryPeriodMs));
      sampler->start();
    } else {
      settings.telemetry = "unavailable: " + why_not;
    }

    // The load, timed by events from `start`, recorded when the host's clock starts too.
    GpuLoad load(*this, start);
    CUDA_CHECK(cudaMemsetAsync(counters_.get(), 0, 2 * sizeof(kernels::BurninMismatches), s));
    CUDA_CHECK(cudaStreamSynchronize(s));
    const double t0 = steady_seconds();
    CUDA_CHECK(cudaEventRecord(start, s));
    const std::vector<burnin::Interval> intervals =
        burnin::run(load, double(shape_.seconds), settings.gemms_per_interval, [t0] { return steady_seconds() - t0; });
    std::vector<TelemetryReading> readings;
    if (sampler) readings = sampler->stop();
    for (TelemetryReading& r : readings) r.time_s -= t0;
    const burnin::Verdict verdict = burnin::evaluate(device, settings, intervals, readings);
    block_ = verdict.block;
    return with_verdict(std::move(v), verdict);
  }

  void run() override {
    const int M = static_cast<int>(shape_.M), N = static_cast<int>(shape_.N), K = static_cast<int>(shape_.K);
    switch (impl_) {
      case CudaImpl::cublaslt: {
        const cublasStatus_t status = cublaslt_->bf16(A_.get(), B_.get(), C_.get(), M, N, K);
        if (status == CUBLAS_STATUS_NOT_SUPPORTED) {
          throw UnsupportedHere("cuBLASLt's heuristic offers no bf16 algorithm for this shape here");
        }
        CUBLAS_CHECK(status);
        return;
      }
      case CudaImpl::wgmma_sm90_multicast: {
        const cudaError_t err =
            kernels::gemm_wgmma_sm90_multicast_bf16(A_.get(), B_.get(), C_.get(), M, N, K, stream_.get());
        if (err == cudaErrorNotSupported) {
          (void)cudaGetLastError();
          throw UnsupportedHere("wgmma_sm90_multicast cannot run on this GPU or was not built for it");
        }
        CUDA_CHECK(err);
        return;
      }
    }
  }

  cudaStream_t stream() const override { return stream_.get(); }
  double flops() const override { return shape_.flops(); }
  double bytes() const override { return 2.0 * double(shape_.M * shape_.K + shape_.N * shape_.K + shape_.M * shape_.N); }
  nlohmann::json row_details() const override { return block_.is_null() ? json(nullptr) : json{{"burnin", block_}}; }

  // One GEMM and its check, for the load.
  void gemm_and_check(int64_t gemm, kernels::BurninMismatches* counters) {
    run();
    if (fault_ && fault_->gemm == gemm) {
      CUDA_CHECK(kernels::burnin_flip_bit(C_.get(), static_cast<size_t>(fault_->element), 2, fault_->bit, stream_.get()));
    }
    CUDA_CHECK(kernels::burnin_compare(C_.get(), reference_.get(), bytes_of_c(), 2, counters, stream_.get()));
  }
  kernels::BurninMismatches* counters(int slot) const { return counters_.get() + slot; }
  int64_t columns() const { return shape_.N; }

 private:
  size_t bytes_of_c() const { return C_.size() * sizeof(bf16); }

  burnin::Settings settings_for(double seconds_per_gemm) const {
    burnin::Settings s;
    s.seconds = double(shape_.seconds);
    s.interval_s = burnin::interval_seconds(s.seconds);
    s.gemms_per_interval = gemms_per_interval(seconds_per_gemm, s.seconds);
    s.flops_per_gemm = shape_.flops();
    s.rows = shape_.M;
    s.columns = shape_.N;
    s.element_bytes = 2;
    s.check = "every GEMM's C (bf16) compared bit for bit on the GPU with the first output of the same inputs";
    return s;
  }

  CudaImpl impl_;
  const DtypeTraits& t_;
  Shape shape_;
  std::vector<float> a_ref_, b_ref_;
  CudaStream stream_;
  DeviceBuffer<bf16> A_, B_, C_, reference_;
  DeviceBuffer<kernels::BurninMismatches> counters_;
  std::unique_ptr<kernels::CublasLtGemm> cublaslt_;
  std::optional<burnin::PlantedFault> fault_ = burnin::planted_fault();
  json block_;

  friend class GpuLoad;
};

void GpuLoad::start(int index, int64_t first_gemm, int64_t gemms) {
  const int slot = index % 2;
  cudaStream_t s = bench_.stream();
  kernels::BurninMismatches* counters = bench_.counters(slot);
  CUDA_CHECK(cudaMemsetAsync(counters, 0, sizeof *counters, s));
  for (int64_t g = 0; g < gemms; ++g) bench_.gemm_and_check(first_gemm + g, counters);
  CUDA_CHECK(cudaMemcpyAsync(host_ + slot, counters, sizeof *counters, cudaMemcpyDeviceToHost, s));
  CUDA_CHECK(cudaEventRecord(end_[slot], s));
  first_gemm_[slot] = first_gemm;
  gemms_[slot] = gemms;
}

burnin::Interval GpuLoad::finish(int index) {
  const int slot = index % 2;
  CUDA_CHECK(cudaEventSynchronize(end_[slot]));
  float ms = 0;
  CUDA_CHECK(cudaEventElapsedTime(&ms, start_, end_[slot]));
  burnin::Interval interval;
  interval.end_s = ms / 1000.0;
  interval.first_gemm = first_gemm_[slot];
  interval.gemms = gemms_[slot];
  const kernels::BurninMismatches& found = host_[slot];
  interval.mismatched_elements = static_cast<int64_t>(found.count);
  if (found.count > 0 && found.claimed) {
    // The element is known, not which of the interval's GEMMs produced it; the planted fault's
    // GEMM where a test planted one, else the interval's first.
    burnin::Mismatch m;
    m.gemm = interval.first_gemm;
    if (bench_.fault_ && bench_.fault_->gemm >= interval.first_gemm &&
        bench_.fault_->gemm < interval.first_gemm + interval.gemms) {
      m.gemm = bench_.fault_->gemm;
    }
    m.element = static_cast<int64_t>(found.element);
    m.got = found.got;
    m.expected = found.expected;
    interval.first = m;
  }
  return interval;
}

// ---- cpu backend -----------------------------------------------------------------------------

int cpu_threads() { return static_cast<int>(std::max(1u, std::thread::hardware_concurrency())); }

std::string host_name() {
  char name[256] = {};
  ::gethostname(name, sizeof name - 1);
  return name;
}

class CpuBurninCase;

// The CPU's load: synchronous, each interval's GEMMs run when it is waited for.
class CpuLoad final : public burnin::Load {
 public:
  CpuLoad(CpuBurninCase& bench, double t0) : bench_(bench), t0_(t0) {}
  bool asynchronous() const override { return false; }
  void start(int, int64_t first_gemm, int64_t gemms) override {
    first_gemm_ = first_gemm;
    gemms_ = gemms;
  }
  burnin::Interval finish(int index) override;

 private:
  CpuBurninCase& bench_;
  double t0_;
  int64_t first_gemm_ = 0, gemms_ = 0;
};

class CpuBurninCase final : public BenchmarkCase {
 public:
  explicit CpuBurninCase(const BenchmarkSpec& spec)
      : shape_(spec),
        A_(random_input(shape_.M * shape_.K, kSeedA)),
        B_(random_input(shape_.K * shape_.N, kSeedB)),
        C_(static_cast<size_t>(shape_.M * shape_.N)),
        reference_(C_.size()),
        threads_(cpu_threads()) {}

  Validation validate() override {
    std::fill(C_.begin(), C_.end(), std::numeric_limits<float>::quiet_NaN());
    run();
    const GemmCheck check = check_gemm(A_, B_, C_, shape_.M, shape_.N, shape_.K, tolerance(traits("fp32"), shape_.K));
    Validation v = first_result_validation(check);
    v.details["threads"] = threads_;
    if (!check.passed) return v;
    reference_ = C_;

    constexpr int kCalibration = 3;
    const double before = steady_seconds();
    for (int i = 0; i < kCalibration; ++i) run();
    burnin::Settings settings;
    settings.seconds = double(shape_.seconds);
    settings.interval_s = burnin::interval_seconds(settings.seconds);
    settings.gemms_per_interval = gemms_per_interval((steady_seconds() - before) / kCalibration, settings.seconds);
    settings.flops_per_gemm = shape_.flops();
    settings.rows = shape_.M;
    settings.columns = shape_.N;
    settings.element_bytes = 4;
    settings.check = "every GEMM's C (fp32) compared bit for bit with the first output of the same inputs";
    settings.telemetry = "unavailable: the cpu backend reads no clock, power or temperature";
    burnin::Device device;
    device.description = "the CPU of host " + host_name() + " (" + std::to_string(threads_) + " threads)";

    const double t0 = steady_seconds();
    CpuLoad load(*this, t0);
    const std::vector<burnin::Interval> intervals =
        burnin::run(load, settings.seconds, settings.gemms_per_interval, [t0] { return steady_seconds() - t0; });
    const burnin::Verdict verdict = burnin::evaluate(device, settings, intervals, {});
    block_ = verdict.block;
    return with_verdict(std::move(v), verdict);
  }

  void run() override {
    // Every thread, whatever the size: the burn-in is there to load every core.
    kernels::gemm_cpu_blocked_fp32(A_.data(), B_.data(), C_.data(), shape_.M, shape_.N, shape_.K, threads_,
                                   kernels::CpuGemmPath::best, kernels::CpuGemmThreads::exactly);
  }
  double flops() const override { return shape_.flops(); }
  double bytes() const override { return 4.0 * double(shape_.M * shape_.K + shape_.K * shape_.N + shape_.M * shape_.N); }
  nlohmann::json row_details() const override { return block_.is_null() ? json(nullptr) : json{{"burnin", block_}}; }

  // One GEMM and its check, for the load.
  void gemm_and_check(int64_t gemm, kernels::BurninMismatches* found) {
    run();
    if (fault_ && fault_->gemm == gemm && fault_->element >= 0 && size_t(fault_->element) < C_.size()) {
      uint32_t word;
      std::memcpy(&word, &C_[static_cast<size_t>(fault_->element)], 4);
      word ^= 1u << (fault_->bit & 31);
      std::memcpy(&C_[static_cast<size_t>(fault_->element)], &word, 4);
    }
    kernels::burnin_compare_host(C_.data(), reference_.data(), C_.size() * sizeof(float), 4, found);
  }
  const std::optional<burnin::PlantedFault>& fault() const { return fault_; }

 private:
  Shape shape_;
  std::vector<float> A_, B_, C_, reference_;
  int threads_;
  std::optional<burnin::PlantedFault> fault_ = burnin::planted_fault();
  json block_;
};

burnin::Interval CpuLoad::finish(int) {
  kernels::BurninMismatches found{};
  burnin::Interval interval;
  interval.first_gemm = first_gemm_;
  interval.gemms = gemms_;
  int64_t first_bad_gemm = -1;
  for (int64_t g = first_gemm_; g < first_gemm_ + gemms_; ++g) {
    const unsigned long long before = found.count;
    bench_.gemm_and_check(g, &found);
    if (found.count > before && first_bad_gemm < 0) first_bad_gemm = g;
  }
  interval.end_s = steady_seconds() - t0_;
  interval.mismatched_elements = static_cast<int64_t>(found.count);
  if (found.count > 0) interval.first = burnin::Mismatch{first_bad_gemm, static_cast<int64_t>(found.element), found.got, found.expected};
  return interval;
}

// ---- where each implementation can run -------------------------------------------------------

std::string mib(double bytes) { return std::to_string(static_cast<long long>(bytes / (1 << 20))) + " MiB"; }
double host_memory() { return double(::sysconf(_SC_PHYS_PAGES)) * double(::sysconf(_SC_PAGE_SIZE)); }

std::optional<std::string> cpu_unsupported(const BenchmarkSpec& spec, const DeviceProbe&) {
  const Shape s(spec);
  // Inputs, output and reference as fp32, plus the validation's copies.
  const double need = 4.0 * (double(s.M) * s.K + double(s.K) * s.N + 3.0 * double(s.M) * s.N);
  if (need > 0.8 * host_memory()) {
    return "needs " + mib(need) + " of host memory, more than 80% of the " + mib(host_memory()) + " this machine has";
  }
  return std::nullopt;
}

std::optional<std::string> cuda_unsupported(const BenchmarkSpec& spec, const DeviceProbe& probe, CudaImpl impl) {
  if (!probe.available()) return "no CUDA device: " + probe.unavailable_reason.value_or("unknown");
  const GpuInfo& gpu = probe.gpu();  // the GPU this process measures
  const int cc = gpu.cc_major * 10 + gpu.cc_minor;
  if (impl == CudaImpl::wgmma_sm90_multicast && cc != 90) {
    return "needs Hopper (sm_90a: wgmma, TMA multicast and thread block clusters); this GPU is compute capability " +
           gpu.compute_capability();
  }
  if (cc < 80) return "needs bf16 tensor cores (sm_80 or newer); this GPU is compute capability " + gpu.compute_capability();
  const Shape s(spec);
  if (s.M > INT_MAX || s.N > INT_MAX || s.K > INT_MAX) return "M, N and K must each fit in int32";
  if (s.K % traits("bf16").k_multiple != 0) return "K = " + std::to_string(s.K) + " is not a multiple of 8 (16-byte rows)";
  // A, B, C and the reference in bf16, and cuBLASLt's workspace.
  const double need = 2.0 * (double(s.M) * s.K + double(s.N) * s.K + 2.0 * double(s.M) * s.N) +
                      double(kernels::CublasLtGemm::kDefaultWorkspaceBytes);
  if (need > 0.9 * double(gpu.memory_bytes)) {
    return "needs " + mib(need) + " of device memory, more than 90% of the GPU's " + mib(double(gpu.memory_bytes));
  }
  // The host keeps the inputs and the first output as float for validation.
  const double host = 4.0 * (double(s.M) * s.K + double(s.N) * s.K + 2.0 * double(s.M) * s.N);
  if (host > 0.8 * host_memory()) return "needs " + mib(host) + " of host memory for validation";
  return std::nullopt;
}

double burnin_seconds(const BenchmarkSpec& spec) { return double(spec.param("seconds")); }

Implementation cuda_impl(const char* name, bool vendor, CudaImpl impl) {
  Implementation i{"burnin", name, Backend::cuda, vendor, {"bf16"},
                   [impl](const BenchmarkSpec& s, const DeviceProbe& p) { return cuda_unsupported(s, p, impl); },
                   [impl](const BenchmarkSpec& s) { return std::make_unique<CudaBurninCase>(s, impl); }};
  i.setup_seconds = burnin_seconds;
  return i;
}

}  // namespace

std::vector<Implementation> burnin_implementations() {
  Implementation cpu{"burnin", "cpu_blocked", Backend::cpu, false, {"fp32"}, cpu_unsupported,
                     [](const BenchmarkSpec& s) { return std::make_unique<CpuBurninCase>(s); }};
  cpu.setup_seconds = burnin_seconds;
  return {cuda_impl("cublaslt", true, CudaImpl::cublaslt), cuda_impl("wgmma_sm90_multicast", false, CudaImpl::wgmma_sm90_multicast),
          std::move(cpu)};
}

}  // namespace aicbench
