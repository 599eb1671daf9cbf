#pragma once
// Provenance: what every result file records about where and how it was produced
// (docs/result-format.md), and what `aicbench info` prints.
#include <filesystem>
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

// What the file system shows of NVIDIA's driver and GPUs, whatever CUDA says: the evidence that
// tells "there is no GPU here" (the CPU backend may stand in) from "there is a GPU and it does
// not work" (an environment error).
struct NvidiaPresence {
  // "NVRM version: ..." (the first line of /proc/driver/nvidia/version), or "/dev/nvidiactl
  // exists" where only the device node shows the driver.
  std::optional<std::string> driver;
  // Display or 3D controllers of vendor 0x10de on the PCI bus: "0000:3b:00.0 (device 0x2330)".
  std::vector<std::string> pci_gpus;

  bool any() const { return driver.has_value() || !pci_gpus.empty(); }
  // "NVIDIA driver (NVRM version: ...); NVIDIA GPU on the PCI bus: 0000:3b:00.0 (device 0x2330)"
  std::string describe() const;
};

// Reads <root>/proc/driver/nvidia/version, <root>/dev/nvidiactl and
// <root>/sys/bus/pci/devices/*/{vendor,class,device}; tests pass a fake tree as `root`.
NvidiaPresence find_nvidia_presence(const std::filesystem::path& root = "/");

// What the CUDA runtime can see, and what the machine shows besides. `unavailable_reason` is set
// (and `gpus` empty) when there is no usable device; it quotes the driver.
struct DeviceProbe {
  std::vector<GpuInfo> gpus;
  std::optional<std::string> unavailable_reason;
  // CUDA's answer meant plain absence: no driver library (cudaErrorInsufficientDriver, which is
  // also "driver too old", told apart by `nvidia`; cudaErrorStubLibrary), no device
  // (cudaErrorNoDevice) or a count of 0, rather than an error of something that is there.
  bool cuda_reports_absence = false;
  NvidiaPresence nvidia;
  std::optional<std::string> cuda_visible_devices;  // the environment variable, when set
  // The CUDA device this process measures (harness/device_choice.hpp; the runner sets it and
  // makes it current with cudaSetDevice): what families check a benchmark against.
  int device = 0;

  bool available() const { return !gpus.empty(); }
  const GpuInfo& gpu() const { return gpus.at(static_cast<size_t>(device)); }
};

DeviceProbe probe_devices();

// Host, GPUs (or the reason there are none), driver and library versions, build.
nlohmann::json collect_provenance(const DeviceProbe& probe);
// One entry of provenance["gpus"].
nlohmann::json gpu_json(const GpuInfo& gpu);

// One line for people from provenance["telemetry"]: "NVML; clock policy: ...; power limit 700 W"
// or "unavailable (reason)".
std::string describe_telemetry(const nlohmann::json& telemetry_provenance);

// Human-readable form of collect_provenance()'s output, for `aicbench info`.
std::string format_provenance(const nlohmann::json& provenance);

}  // namespace aicbench
