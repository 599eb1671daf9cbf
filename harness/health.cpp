#include "harness/health.hpp"

#include <dlfcn.h>

#include <initializer_list>
#include <sstream>
#include <tuple>
#include <utility>
#include <vector>

#include "harness/telemetry.hpp"

namespace aicbench {

namespace {

using json = nlohmann::json;
using Device = NvmlHealthApi::Device;
using Return = NvmlHealthApi::Return;

constexpr Return kSuccess = 0, kInsufficientSize = 7;
// nvmlMemoryErrorType_t and nvmlEccCounterType_t; nvmlPageRetirementCause_t.
constexpr int kCorrected = 0, kUncorrected = 1, kVolatile = 0, kAggregate = 1;
constexpr int kMultipleSingleBit = 0, kDoubleBit = 1;
// The clocks-event reasons that are the hardware's doing, not power management's: each a field.
constexpr std::pair<uint64_t, const char*> kHardwareSlowdowns[] = {
    {0x8, "hw_slowdown"},
    {0x20, "sw_thermal_slowdown"},
    {0x40, "hw_thermal_slowdown"},
    {0x80, "hw_power_brake_slowdown"}};
constexpr unsigned kTextBuffer = 96;  // above NVML's largest (driver version: 80)

// Fills a health document field by field: each call records a value, or null and why.
class HealthBuilder {
 public:
  HealthBuilder(const NvmlHealthApi& api, const std::string& read_at) : api_(api) {
    doc_ = {{"available", true}, {"source", "NVML"}, {"read_at", read_at}};
  }

  // Whether NVML answered; when not, `fields` are null with its reason.
  bool answered(Return rc, const char* function, std::initializer_list<const char*> fields) {
    if (rc == kSuccess) return true;
    missing(fields, why(rc, function));
    return false;
  }
  // "NVML nvmlDeviceGetRetiredPages: Not Supported"
  std::string why(Return rc, const char* function) const { return "NVML " + std::string(function) + ": " + error(rc); }
  // Whether this NVML has `fn`; when not, `fields` are null with that reason.
  template <typename F>
  bool has(F* fn, const char* function, std::initializer_list<const char*> fields) {
    if (fn) return true;
    missing(fields, std::string("this NVML has no ") + function);
    return false;
  }
  void missing(std::initializer_list<const char*> fields, const std::string& why) {
    for (const char* field : fields) {
      doc_[field] = nullptr;
      unavailable_[field] = why;
    }
  }
  void set(const char* field, json value) { doc_[field] = std::move(value); }

  void text(const char* field, Return (*fn)(char*, unsigned), const char* function) {
    if (!has(fn, function, {field})) return;
    char buffer[kTextBuffer] = {};
    if (answered(fn(buffer, kTextBuffer), function, {field})) set(field, terminated(buffer));
  }
  void text(const char* field, Return (*fn)(Device, char*, unsigned), Device device, const char* function) {
    if (!has(fn, function, {field})) return;
    char buffer[kTextBuffer] = {};
    if (answered(fn(device, buffer, kTextBuffer), function, {field})) set(field, terminated(buffer));
  }
  void count(const char* field, Return (*fn)(Device, unsigned*), Device device, const char* function) {
    if (!has(fn, function, {field})) return;
    unsigned v = 0;
    if (answered(fn(device, &v), function, {field})) set(field, v);
  }

  json finish() {
    doc_["unavailable"] = unavailable_;
    return std::move(doc_);
  }

 private:
  std::string error(Return rc) const {
    const char* text = api_.error_string ? api_.error_string(rc) : nullptr;
    return text ? std::string(text) : "error " + std::to_string(rc);
  }
  static std::string terminated(char* buffer) {
    buffer[kTextBuffer - 1] = '\0';
    return buffer;
  }

  const NvmlHealthApi& api_;
  json doc_;
  json unavailable_ = json::object();
};

}  // namespace

json read_gpu_health(const NvmlHealthApi& api, Device device, const std::string& read_at) {
  HealthBuilder h(api, read_at);
  h.text("driver_version", api.system_driver_version, "nvmlSystemGetDriverVersion");
  h.text("vbios_version", api.vbios_version, device, "nvmlDeviceGetVbiosVersion");
  h.text("inforom_image_version", api.inforom_image_version, device, "nvmlDeviceGetInforomImageVersion");
  h.text("serial", api.serial, device, "nvmlDeviceGetSerial");

  if (h.has(api.persistence_mode, "nvmlDeviceGetPersistenceMode", {"persistence_mode"})) {
    int mode = 0;
    if (h.answered(api.persistence_mode(device, &mode), "nvmlDeviceGetPersistenceMode", {"persistence_mode"})) {
      h.set("persistence_mode", mode != 0);
    }
  }
  if (h.has(api.ecc_mode, "nvmlDeviceGetEccMode", {"ecc_mode", "ecc_mode_pending"})) {
    int current = 0, pending = 0;
    if (h.answered(api.ecc_mode(device, &current, &pending), "nvmlDeviceGetEccMode", {"ecc_mode", "ecc_mode_pending"})) {
      h.set("ecc_mode", current != 0);
      h.set("ecc_mode_pending", pending != 0);
    }
  }
  // Volatile: since the driver last loaded; aggregate: the GPU's lifetime (kept in its InfoROM).
  for (const auto& [type, counter, field] :
       {std::tuple{kCorrected, kVolatile, "ecc_corrected_volatile"}, std::tuple{kUncorrected, kVolatile, "ecc_uncorrected_volatile"},
        std::tuple{kCorrected, kAggregate, "ecc_corrected_aggregate"},
        std::tuple{kUncorrected, kAggregate, "ecc_uncorrected_aggregate"}}) {
    if (!h.has(api.total_ecc_errors, "nvmlDeviceGetTotalEccErrors", {field})) continue;
    unsigned long long v = 0;
    if (h.answered(api.total_ecc_errors(device, type, counter, &v), "nvmlDeviceGetTotalEccErrors", {field})) {
      h.set(field, v);
    }
  }
  // Page retirement (Kepler to Volta; Ampere and newer remap rows instead and answer "Not
  // Supported"). A count of 0 asks only how many: NVML answers "insufficient size" with the count
  // when there are some.
  for (const auto& [cause, field] :
       {std::pair{kMultipleSingleBit, "retired_pages_single_bit"}, std::pair{kDoubleBit, "retired_pages_double_bit"}}) {
    if (!h.has(api.retired_pages, "nvmlDeviceGetRetiredPages", {field})) continue;
    unsigned pages = 0;
    const Return rc = api.retired_pages(device, cause, &pages, nullptr);
    if (h.answered(rc == kInsufficientSize ? kSuccess : rc, "nvmlDeviceGetRetiredPages", {field})) h.set(field, pages);
  }
  if (h.has(api.retired_pages_pending, "nvmlDeviceGetRetiredPagesPendingStatus", {"retired_pages_pending"})) {
    int pending = 0;
    if (h.answered(api.retired_pages_pending(device, &pending), "nvmlDeviceGetRetiredPagesPendingStatus",
                   {"retired_pages_pending"})) {
      h.set("retired_pages_pending", pending != 0);
    }
  }
  // Row remapping (Ampere and newer): a pending remap needs a GPU reset to take effect (XID 63),
  // a failure means the bank had no spare row left (XID 64): both are for the operator.
  const std::initializer_list<const char*> remap_fields = {"remapped_rows_correctable", "remapped_rows_uncorrectable", "remapped_rows_pending",
                                 "remapped_rows_failure"};
  if (h.has(api.remapped_rows, "nvmlDeviceGetRemappedRows", remap_fields)) {
    unsigned correctable = 0, uncorrectable = 0, pending = 0, failure = 0;
    if (h.answered(api.remapped_rows(device, &correctable, &uncorrectable, &pending, &failure), "nvmlDeviceGetRemappedRows",
                   remap_fields)) {
      h.set("remapped_rows_correctable", correctable);
      h.set("remapped_rows_uncorrectable", uncorrectable);
      h.set("remapped_rows_pending", pending != 0);
      h.set("remapped_rows_failure", failure != 0);
    }
  }
  // The clocks-event reasons right now: on an idle GPU any hardware slowdown or power brake is
  // a fault of the GPU, its cooling or its power supply, not of the work.
  std::vector<const char*> reason_fields = {"clocks_event_reasons"};
  for (const auto& [bit, field] : kHardwareSlowdowns) reason_fields.push_back(field);
  auto missing_reasons = [&](const std::string& why) {
    for (const char* field : reason_fields) h.missing({field}, why);
  };
  if (!api.clocks_event_reasons) {
    missing_reasons("this NVML has no nvmlDeviceGetCurrentClocksEventReasons");
  } else {
    unsigned long long mask = 0;
    const Return rc = api.clocks_event_reasons(device, &mask);
    if (rc != kSuccess) {
      missing_reasons(h.why(rc, "nvmlDeviceGetCurrentClocksEventReasons"));
    } else {
      h.set("clocks_event_reasons", throttle_reason_names(mask));
      for (const auto& [bit, field] : kHardwareSlowdowns) h.set(field, (mask & bit) != 0);
    }
  }
  // The PCIe link: an idle link may train down its generation to save power (the width stays);
  // the host_link benchmarks read it again under traffic.
  h.count("pcie_link_gen_current", api.curr_pcie_gen, device, "nvmlDeviceGetCurrPcieLinkGeneration");
  h.count("pcie_link_gen_max", api.max_pcie_gen, device, "nvmlDeviceGetMaxPcieLinkGeneration");
  h.count("pcie_link_width_current", api.curr_pcie_width, device, "nvmlDeviceGetCurrPcieLinkWidth");
  h.count("pcie_link_width_max", api.max_pcie_width, device, "nvmlDeviceGetMaxPcieLinkWidth");
  h.count("pcie_replay_counter", api.pcie_replay_counter, device, "nvmlDeviceGetPcieReplayCounter");
  return h.finish();
}

json unavailable_health(const std::string& reason) { return {{"available", false}, {"reason", reason}}; }

namespace {

template <typename F>
void bind(void* library, const char* name, F& fn) {
  fn = reinterpret_cast<F>(::dlsym(library, name));
}

class NvmlHealthReader final : public HealthReader {
 public:
  NvmlHealthReader(void* library, Return (*shutdown)(), Return (*handle)(const char*, Device*), NvmlHealthApi api)
      : library_(library), shutdown_(shutdown), handle_(handle), api_(api) {}
  ~NvmlHealthReader() override {
    shutdown_();
    ::dlclose(library_);
  }
  json read(const std::string& pci_bus_id, const std::string& read_at) override {
    Device device = nullptr;
    if (Return rc = handle_(pci_bus_id.c_str(), &device); rc != kSuccess) {
      const char* text = api_.error_string ? api_.error_string(rc) : nullptr;
      return unavailable_health("NVML does not know the GPU at PCI " + pci_bus_id + ": " +
                                (text ? text : "error " + std::to_string(rc)));
    }
    return read_gpu_health(api_, device, read_at);
  }

 private:
  void* library_;
  Return (*shutdown_)();
  Return (*handle_)(const char*, Device*);
  NvmlHealthApi api_;
};

}  // namespace

std::unique_ptr<HealthReader> open_health_reader(std::string* why_not, const char* library) {
  void* lib = ::dlopen(library, RTLD_NOW | RTLD_LOCAL);
  if (!lib) {
    *why_not = std::string("NVML not available: ") + ::dlerror();
    return nullptr;
  }
  Return (*init)() = nullptr;
  Return (*shutdown)() = nullptr;
  Return (*handle)(const char*, Device*) = nullptr;
  bind(lib, "nvmlInit_v2", init);
  bind(lib, "nvmlShutdown", shutdown);
  bind(lib, "nvmlDeviceGetHandleByPciBusId_v2", handle);
  NvmlHealthApi api;
  bind(lib, "nvmlErrorString", api.error_string);
  bind(lib, "nvmlSystemGetDriverVersion", api.system_driver_version);
  bind(lib, "nvmlDeviceGetVbiosVersion", api.vbios_version);
  bind(lib, "nvmlDeviceGetInforomImageVersion", api.inforom_image_version);
  bind(lib, "nvmlDeviceGetSerial", api.serial);
  bind(lib, "nvmlDeviceGetPersistenceMode", api.persistence_mode);
  bind(lib, "nvmlDeviceGetEccMode", api.ecc_mode);
  bind(lib, "nvmlDeviceGetTotalEccErrors", api.total_ecc_errors);
  bind(lib, "nvmlDeviceGetRetiredPages", api.retired_pages);
  bind(lib, "nvmlDeviceGetRetiredPagesPendingStatus", api.retired_pages_pending);
  bind(lib, "nvmlDeviceGetRemappedRows", api.remapped_rows);
  bind(lib, "nvmlDeviceGetCurrentClocksEventReasons", api.clocks_event_reasons);
  if (!api.clocks_event_reasons) bind(lib, "nvmlDeviceGetCurrentClocksThrottleReasons", api.clocks_event_reasons);
  bind(lib, "nvmlDeviceGetCurrPcieLinkGeneration", api.curr_pcie_gen);
  bind(lib, "nvmlDeviceGetMaxPcieLinkGeneration", api.max_pcie_gen);
  bind(lib, "nvmlDeviceGetCurrPcieLinkWidth", api.curr_pcie_width);
  bind(lib, "nvmlDeviceGetMaxPcieLinkWidth", api.max_pcie_width);
  bind(lib, "nvmlDeviceGetPcieReplayCounter", api.pcie_replay_counter);
  if (!init || !shutdown || !handle) {
    *why_not = "NVML is too old: nvmlInit_v2, nvmlShutdown or nvmlDeviceGetHandleByPciBusId_v2 is missing";
    ::dlclose(lib);
    return nullptr;
  }
  if (Return rc = init(); rc != kSuccess) {
    const char* text = api.error_string ? api.error_string(rc) : nullptr;
    *why_not = std::string("nvmlInit failed: ") + (text ? text : "error " + std::to_string(rc));
    ::dlclose(lib);
    return nullptr;
  }
  return std::make_unique<NvmlHealthReader>(lib, shutdown, handle, api);
}

void record_health(json& provenance, const std::string& read_at) {
  json& gpus = provenance["gpus"];
  if (!gpus.is_array() || gpus.empty()) return;
  std::string why_not;
  const std::unique_ptr<HealthReader> reader = open_health_reader(&why_not);
  for (json& gpu : gpus) {
    const std::string pci = gpu.value("pci_bus_id", std::string());
    gpu["health"] = reader ? reader->read(pci, read_at) : unavailable_health(why_not);
  }
}

namespace {

// A field for people: its value, or "n/a" where NVML did not say.
std::string shown(const json& health, const char* field) {
  const json& v = health.contains(field) ? health[field] : json(nullptr);
  if (v.is_null()) return "n/a";
  if (v.is_boolean()) return v.get<bool>() ? "yes" : "no";
  if (v.is_string()) return v.get<std::string>();
  return v.dump();
}

}  // namespace

std::string describe_health(const json& health) {
  if (!health.is_object()) return "not recorded";
  if (!health.value("available", false)) return "unavailable (" + health.value("reason", std::string("unknown")) + ")";
  std::ostringstream out;
  out << "ECC uncorrected " << shown(health, "ecc_uncorrected_volatile") << " volatile / "
      << shown(health, "ecc_uncorrected_aggregate") << " aggregate, corrected " << shown(health, "ecc_corrected_volatile")
      << " / " << shown(health, "ecc_corrected_aggregate") << " (ECC mode " << shown(health, "ecc_mode") << ")";
  out << "; remapped rows " << shown(health, "remapped_rows_correctable") << " correctable, "
      << shown(health, "remapped_rows_uncorrectable") << " uncorrectable, pending " << shown(health, "remapped_rows_pending")
      << ", failure " << shown(health, "remapped_rows_failure");
  out << "; retired pages " << shown(health, "retired_pages_single_bit") << " single-bit, "
      << shown(health, "retired_pages_double_bit") << " double-bit, pending " << shown(health, "retired_pages_pending");
  std::vector<std::string> slowdowns;
  for (const auto& [bit, field] : kHardwareSlowdowns) {
    if (health.value(field, false)) slowdowns.push_back(field);
  }
  out << "; hardware slowdown now: ";
  if (slowdowns.empty()) out << "none";
  for (size_t i = 0; i < slowdowns.size(); ++i) out << (i ? ", " : "") << slowdowns[i];
  out << "; persistence mode " << shown(health, "persistence_mode");
  out << "; PCIe gen " << shown(health, "pcie_link_gen_current") << " x" << shown(health, "pcie_link_width_current")
      << " (max gen " << shown(health, "pcie_link_gen_max") << " x" << shown(health, "pcie_link_width_max") << "), replays "
      << shown(health, "pcie_replay_counter");
  out << "; VBIOS " << shown(health, "vbios_version") << ", InfoROM " << shown(health, "inforom_image_version")
      << ", serial " << shown(health, "serial");
  return out.str();
}

}  // namespace aicbench
