#pragma once
// GPU health as NVML reports it (issue 12 item 6): ECC error counts, retired pages or remapped
// rows, the hardware slowdown and power-brake states, persistence mode, versions and serial
// number, the PCIe link. Read into every result file's context.aicbench.gpus[i].health (at the
// start of a run, and again at its end) and printed by `aicbench info`, so that `aicbench accept`
// can require a delivered GPU to be clean (docs/acceptance.md, rules health_clean and health_min).
//
// NVML is loaded at run time (dlopen), as for telemetry (harness/telemetry.cpp), and called
// through a table of function pointers, NvmlHealthApi: production fills it from the library, tests
// fill it with fakes, so every field's reading and every "not available" path is tested without a
// GPU. Each field is present with its value, or null with the reason in health.unavailable.
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

namespace aicbench {

// NVML's C ABI, as its documentation declares it (the header is not on every machine). A null
// pointer is a function this NVML does not have: its fields are null, with that reason.
struct NvmlHealthApi {
  using Device = void*;  // nvmlDevice_t
  using Return = int;    // nvmlReturn_t: 0 success, 3 not supported, 7 insufficient size
  const char* (*error_string)(Return) = nullptr;
  Return (*system_driver_version)(char*, unsigned) = nullptr;                     // nvmlSystemGetDriverVersion
  Return (*vbios_version)(Device, char*, unsigned) = nullptr;                     // nvmlDeviceGetVbiosVersion
  Return (*inforom_image_version)(Device, char*, unsigned) = nullptr;             // nvmlDeviceGetInforomImageVersion
  Return (*serial)(Device, char*, unsigned) = nullptr;                            // nvmlDeviceGetSerial
  Return (*persistence_mode)(Device, int*) = nullptr;                             // nvmlDeviceGetPersistenceMode
  Return (*ecc_mode)(Device, int*, int*) = nullptr;                               // nvmlDeviceGetEccMode: current, pending
  Return (*total_ecc_errors)(Device, int, int, unsigned long long*) = nullptr;     // nvmlDeviceGetTotalEccErrors
  Return (*retired_pages)(Device, int, unsigned*, unsigned long long*) = nullptr; // nvmlDeviceGetRetiredPages
  Return (*retired_pages_pending)(Device, int*) = nullptr;                        // nvmlDeviceGetRetiredPagesPendingStatus
  Return (*remapped_rows)(Device, unsigned*, unsigned*, unsigned*, unsigned*) = nullptr;  // nvmlDeviceGetRemappedRows
  Return (*clocks_event_reasons)(Device, unsigned long long*) = nullptr;          // nvmlDeviceGetCurrentClocksEventReasons
  Return (*curr_pcie_gen)(Device, unsigned*) = nullptr;                           // nvmlDeviceGetCurrPcieLinkGeneration
  Return (*max_pcie_gen)(Device, unsigned*) = nullptr;                            // nvmlDeviceGetMaxPcieLinkGeneration
  Return (*curr_pcie_width)(Device, unsigned*) = nullptr;                         // nvmlDeviceGetCurrPcieLinkWidth
  Return (*max_pcie_width)(Device, unsigned*) = nullptr;                          // nvmlDeviceGetMaxPcieLinkWidth
  Return (*pcie_replay_counter)(Device, unsigned*) = nullptr;                     // nvmlDeviceGetPcieReplayCounter
};

// The health of one GPU through `api`: {"available": true, "source": "NVML", "read_at": read_at,
// <every field of docs/result-format.md's health table>, "unavailable": {field: reason}}.
nlohmann::json read_gpu_health(const NvmlHealthApi& api, NvmlHealthApi::Device device, const std::string& read_at);

// What a GPU's health is when NVML cannot be asked: {"available": false, "reason": ...}.
nlohmann::json unavailable_health(const std::string& reason);

// NVML loaded once for reading the health of any GPU by PCI bus id.
class HealthReader {
 public:
  virtual ~HealthReader() = default;
  virtual nlohmann::json read(const std::string& pci_bus_id, const std::string& read_at) = 0;
};
// nullptr, and why in `why_not`, when NVML cannot be loaded or initialised.
std::unique_ptr<HealthReader> open_health_reader(std::string* why_not, const char* library = "libnvidia-ml.so.1");

// `health` for every GPU of a provenance document (provenance["gpus"][i]["health"]), read now;
// each GPU's entry says why where NVML cannot tell. `read_at`: "run start", "run end", "info".
void record_health(nlohmann::json& provenance, const std::string& read_at);

// One line for people: "ECC uncorrected 0 volatile / 0 aggregate, corrected 0 / 3; remapped rows
// 0 correctable, 0 uncorrectable, none pending, no failure; ..." (`aicbench info`).
std::string describe_health(const nlohmann::json& health);

}  // namespace aicbench
