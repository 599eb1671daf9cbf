#pragma once
// Provenance: what every result file records about where and how it was produced
// (DESIGN.md, "Result files"), and what `aicbench info` prints.
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace aicbench {

struct GpuInfo {
  int index = 0;
  std::string name, uuid, pci_bus_id;
  int cc_major = 0, cc_minor = 0;  // compute capability
  int sm_count = 0;
  long long memory_bytes = 0;
  long long l2_bytes = 0;
  int max_sm_clock_mhz = 0;
  int max_mem_clock_mhz = 0;
  bool ecc_enabled = false;

  std::string compute_capability() const {  // "9.0"
    return std::to_string(cc_major) + "." + std::to_string(cc_minor);
  }
};

// What the CUDA runtime can see. `unavailable_reason` is set (and `gpus` empty) when there is no
// usable device: no driver, a driver too old for this runtime, or no GPU; it quotes the driver.
struct DeviceProbe {
  std::vector<GpuInfo> gpus;
  std::optional<std::string> unavailable_reason;
  bool available() const { return !gpus.empty(); }
};

DeviceProbe probe_devices();

// Host, GPUs (or the reason there are none), driver and library versions, build.
nlohmann::json collect_provenance(const DeviceProbe& probe);

// One line for people from provenance["telemetry"]: "NVML; clock policy: ...; power limit 700 W"
// or "unavailable (reason)".
std::string describe_telemetry(const nlohmann::json& telemetry_provenance);

// Human-readable form of collect_provenance()'s output, for `aicbench info`.
std::string format_provenance(const nlohmann::json& provenance);

}  // namespace aicbench
