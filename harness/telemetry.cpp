#include "harness/telemetry.hpp"

#include <dlfcn.h>

namespace aicbench {

// ---- NVML, declared here from its documented C ABI: the header is not part of the CUDA toolkit
// ---- on every machine, and loading at run time must not need it.
namespace {

using nvmlReturn = int;        // nvmlReturn_t; 0 is NVML_SUCCESS
using nvmlDevice = void*;      // nvmlDevice_t, an opaque handle
constexpr int kNvmlClockSm = 1, kNvmlClockMem = 2;  // nvmlClockType_t
constexpr int kNvmlTemperatureGpu = 0;              // nvmlTemperatureSensors_t
constexpr uint64_t kReasonGpuIdle = 0x1, kReasonApplicationsClocksSetting = 0x2;

struct NvmlApi {
  void* library = nullptr;
  nvmlReturn (*init)() = nullptr;
  nvmlReturn (*shutdown)() = nullptr;
  const char* (*error_string)(nvmlReturn) = nullptr;
  nvmlReturn (*handle_by_pci_bus_id)(const char*, nvmlDevice*) = nullptr;
  nvmlReturn (*clock_info)(nvmlDevice, int, unsigned*) = nullptr;
  nvmlReturn (*max_clock_info)(nvmlDevice, int, unsigned*) = nullptr;
  nvmlReturn (*applications_clock)(nvmlDevice, int, unsigned*) = nullptr;
  nvmlReturn (*default_applications_clock)(nvmlDevice, int, unsigned*) = nullptr;
  nvmlReturn (*power_usage)(nvmlDevice, unsigned*) = nullptr;
  nvmlReturn (*enforced_power_limit)(nvmlDevice, unsigned*) = nullptr;
  nvmlReturn (*total_energy)(nvmlDevice, unsigned long long*) = nullptr;
  nvmlReturn (*temperature)(nvmlDevice, int, unsigned*) = nullptr;
  nvmlReturn (*throttle_reasons)(nvmlDevice, unsigned long long*) = nullptr;
};

template <typename F>
void bind(void* library, const char* name, F& fn) {
  fn = reinterpret_cast<F>(::dlsym(library, name));
}

class NvmlTelemetry final : public TelemetrySource {
 public:
  NvmlTelemetry(NvmlApi api, nvmlDevice device) : api_(api), device_(device) {}
  ~NvmlTelemetry() override {
    api_.shutdown();
    ::dlclose(api_.library);
  }

  TelemetryReading read() override {
    TelemetryReading r;
    r.time_s = steady_seconds();
    unsigned v = 0;
    if (api_.clock_info(device_, kNvmlClockSm, &v) == 0) r.sm_clock_mhz = v;
    if (api_.clock_info(device_, kNvmlClockMem, &v) == 0) r.mem_clock_mhz = v;
    if (api_.power_usage(device_, &v) == 0) r.power_w = v / 1000.0;  // milliwatts
    if (api_.temperature(device_, kNvmlTemperatureGpu, &v) == 0) r.temp_c = v;
    unsigned long long energy = 0, reasons = 0;
    if (api_.total_energy && api_.total_energy(device_, &energy) == 0) r.energy_j = energy / 1000.0;
    if (api_.throttle_reasons && api_.throttle_reasons(device_, &reasons) == 0) r.throttle_reasons = reasons;
    return r;
  }
  std::optional<double> max_sm_clock_mhz() override {
    unsigned v = 0;
    if (api_.max_clock_info(device_, kNvmlClockSm, &v) == 0) return v;
    return std::nullopt;
  }
  std::optional<double> power_limit_w() override {
    unsigned v = 0;
    if (api_.enforced_power_limit && api_.enforced_power_limit(device_, &v) == 0) return v / 1000.0;
    return std::nullopt;
  }
  std::string clock_policy() override {
    // Operators lock clocks (nvidia-smi -lgc) or set application clocks (-ac) before a run;
    // NVML reports either as the "applications clocks setting" reason, and application clocks
    // as a difference from their default. aicbench only records this; it never changes clocks.
    unsigned long long reasons = 0;
    if (api_.throttle_reasons && api_.throttle_reasons(device_, &reasons) == 0 &&
        (reasons & kReasonApplicationsClocksSetting)) {
      return "clocks limited by operator setting (locked or application clocks)";
    }
    unsigned app = 0, def = 0;
    if (api_.applications_clock && api_.default_applications_clock &&
        api_.applications_clock(device_, kNvmlClockSm, &app) == 0 &&
        api_.default_applications_clock(device_, kNvmlClockSm, &def) == 0 && app != def) {
      return "application clocks set by operator: SM " + std::to_string(app) + " MHz (default " +
             std::to_string(def) + ")";
    }
    return "default boost";
  }

 private:
  NvmlApi api_;
  nvmlDevice device_;
};

}  // namespace

std::unique_ptr<TelemetrySource> open_nvml(const std::string& pci_bus_id, std::string* why_not,
                                           const char* library) {
  NvmlApi api;
  api.library = ::dlopen(library, RTLD_NOW | RTLD_LOCAL);
  if (!api.library) {
    *why_not = std::string("NVML not available: ") + ::dlerror();
    return nullptr;
  }
  bind(api.library, "nvmlInit_v2", api.init);
  bind(api.library, "nvmlShutdown", api.shutdown);
  bind(api.library, "nvmlErrorString", api.error_string);
  bind(api.library, "nvmlDeviceGetHandleByPciBusId_v2", api.handle_by_pci_bus_id);
  bind(api.library, "nvmlDeviceGetClockInfo", api.clock_info);
  bind(api.library, "nvmlDeviceGetMaxClockInfo", api.max_clock_info);
  bind(api.library, "nvmlDeviceGetApplicationsClock", api.applications_clock);
  bind(api.library, "nvmlDeviceGetDefaultApplicationsClock", api.default_applications_clock);
  bind(api.library, "nvmlDeviceGetPowerUsage", api.power_usage);
  bind(api.library, "nvmlDeviceGetEnforcedPowerLimit", api.enforced_power_limit);
  bind(api.library, "nvmlDeviceGetTotalEnergyConsumption", api.total_energy);
  bind(api.library, "nvmlDeviceGetTemperature", api.temperature);
  bind(api.library, "nvmlDeviceGetCurrentClocksEventReasons", api.throttle_reasons);
  if (!api.throttle_reasons) bind(api.library, "nvmlDeviceGetCurrentClocksThrottleReasons", api.throttle_reasons);
  if (!api.init || !api.shutdown || !api.handle_by_pci_bus_id || !api.clock_info ||
      !api.max_clock_info || !api.power_usage || !api.temperature) {
    *why_not = "NVML is too old: a required function is missing";
    ::dlclose(api.library);
    return nullptr;
  }
  if (nvmlReturn rc = api.init(); rc != 0) {
    *why_not = std::string("nvmlInit failed: ") + (api.error_string ? api.error_string(rc) : std::to_string(rc));
    ::dlclose(api.library);
    return nullptr;
  }
  nvmlDevice device = nullptr;
  if (nvmlReturn rc = api.handle_by_pci_bus_id(pci_bus_id.c_str(), &device); rc != 0) {
    *why_not = "NVML does not know the GPU at PCI " + pci_bus_id + ": " +
               (api.error_string ? api.error_string(rc) : std::to_string(rc));
    api.shutdown();
    ::dlclose(api.library);
    return nullptr;
  }
  return std::make_unique<NvmlTelemetry>(api, device);
}

GpuTelemetry open_gpu_telemetry(const std::string& pci_bus_id) {
  GpuTelemetry t;
  t.source = open_nvml(pci_bus_id, &t.unavailable_reason);
  if (!t.source) {
    t.provenance = {{"available", false}, {"reason", t.unavailable_reason}, {"clock_policy", "unknown (no NVML)"}};
    return t;
  }
  auto optional_json = [](std::optional<double> v) { return v ? nlohmann::json(*v) : nlohmann::json(nullptr); };
  t.provenance = {{"available", true},
                  {"source", "NVML"},
                  {"clock_policy", t.source->clock_policy()},
                  {"max_sm_clock_mhz", optional_json(t.source->max_sm_clock_mhz())},
                  {"power_limit_w", optional_json(t.source->power_limit_w())}};
  return t;
}

GpuTelemetry no_gpu_telemetry(const std::string& reason) {
  return {nullptr, reason, {{"available", false}, {"reason", reason}}};
}

void record_telemetry(nlohmann::json& provenance, const GpuTelemetry& t, size_t gpu) {
  provenance["telemetry"] = t.provenance;
  nlohmann::json& gpus = provenance["gpus"];
  if (gpus.is_array() && gpu < gpus.size()) {
    gpus[gpu]["power_limit_w"] = t.provenance.value("power_limit_w", nlohmann::json(nullptr));
  }
}

std::vector<std::string> throttle_reason_names(uint64_t mask) {
  static const std::pair<uint64_t, const char*> names[] = {
      {kReasonGpuIdle, "gpu_idle"}, {kReasonApplicationsClocksSetting, "applications_clocks_setting"},
      {0x4, "sw_power_cap"},      {0x8, "hw_slowdown"},
      {0x10, "sync_boost"},       {0x20, "sw_thermal_slowdown"},
      {0x40, "hw_thermal_slowdown"}, {0x80, "hw_power_brake_slowdown"},
      {0x100, "display_clock_setting"}};
  std::vector<std::string> out;
  uint64_t known = 0;
  for (const auto& [bit, name] : names) {
    known |= bit;
    if (mask & bit) out.emplace_back(name);
  }
  if (mask & ~known) out.push_back("other(0x" + [](uint64_t v) {
    char buf[20];
    std::snprintf(buf, sizeof buf, "%llx", static_cast<unsigned long long>(v));
    return std::string(buf);
  }(mask & ~known) + ")");
  return out;
}

TelemetrySummary summarize(const std::vector<TelemetryReading>& readings) {
  TelemetrySummary s;
  s.readings = static_cast<int>(readings.size());
  auto mean_of = [&](auto member) -> std::optional<double> {
    double sum = 0;
    int n = 0;
    for (const auto& r : readings) {
      if (auto v = r.*member) {
        sum += *v;
        ++n;
      }
    }
    return n ? std::optional<double>(sum / n) : std::nullopt;
  };
  s.sm_clock_mhz = mean_of(&TelemetryReading::sm_clock_mhz);
  s.mem_clock_mhz = mean_of(&TelemetryReading::mem_clock_mhz);
  s.power_w = mean_of(&TelemetryReading::power_w);
  for (const auto& r : readings) {
    if (r.temp_c) s.temp_c = std::max(s.temp_c.value_or(*r.temp_c), *r.temp_c);
    if (r.throttle_reasons) s.throttle_reasons |= *r.throttle_reasons & ~kReasonGpuIdle;
  }
  // Energy: the driver's counter where it has one (exact, includes what sampling misses),
  // else the trapezoidal integral of the power readings over time.
  const TelemetryReading* first = nullptr;
  const TelemetryReading* last = nullptr;
  for (const auto& r : readings) {
    if (r.energy_j) {
      if (!first) first = &r;
      last = &r;
    }
  }
  if (first && last != first) {
    s.energy_j = *last->energy_j - *first->energy_j;
    s.energy_source = "energy_counter";
  } else {
    double energy = 0;
    bool any = false;
    for (size_t i = 1; i < readings.size(); ++i) {
      if (readings[i].power_w && readings[i - 1].power_w) {
        energy += 0.5 * (*readings[i].power_w + *readings[i - 1].power_w) *
                  (readings[i].time_s - readings[i - 1].time_s);
        any = true;
      }
    }
    if (any) {
      s.energy_j = energy;
      s.energy_source = "power_integration";
    }
  }
  return s;
}

nlohmann::json TelemetrySummary::to_json() const {
  nlohmann::json j = {{"readings", readings}, {"throttle_reasons", throttle_reason_names(throttle_reasons)}};
  if (sm_clock_mhz) j["sm_clock_mhz"] = *sm_clock_mhz;
  if (mem_clock_mhz) j["mem_clock_mhz"] = *mem_clock_mhz;
  if (power_w) j["power_w"] = *power_w;
  if (temp_c) j["temp_c"] = *temp_c;
  if (energy_j) {
    j["energy_j"] = *energy_j;
    j["energy_source"] = energy_source;
  }
  return j;
}

TelemetrySampler::TelemetrySampler(TelemetrySource& source, std::chrono::milliseconds interval)
    : source_(source), interval_(interval) {}

TelemetrySampler::~TelemetrySampler() {
  if (running_) stop();
}

void TelemetrySampler::start() {
  {
    std::lock_guard lock(mutex_);
    readings_.clear();
    readings_.push_back(source_.read());
  }
  running_ = true;
  thread_ = std::thread([this] { loop(); });
}

void TelemetrySampler::loop() {
  while (running_) {
    std::this_thread::sleep_for(interval_);
    TelemetryReading r = source_.read();
    std::lock_guard lock(mutex_);
    readings_.push_back(r);
  }
}

std::vector<TelemetryReading> TelemetrySampler::stop() {
  running_ = false;
  if (thread_.joinable()) thread_.join();
  std::lock_guard lock(mutex_);
  readings_.push_back(source_.read());  // close the interval: energy and power up to now
  return std::move(readings_);
}

std::optional<TelemetryReading> TelemetrySampler::latest() const {
  std::lock_guard lock(mutex_);
  if (readings_.empty()) return std::nullopt;
  return readings_.back();
}

}  // namespace aicbench
