#include "harness/provenance.hpp"

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <thread>

#include <sys/utsname.h>
#include <unistd.h>

#include <cuda_runtime.h>
#if AICBENCH_WITH_NCCL
#include <nccl.h>
#endif

#include "reports/build_info.hpp"
#include "kernels/gemm/gemm_cublas.hpp"
#if AICBENCH_WITH_OPENBLAS
#include "kernels/gemm/gemm_openblas.hpp"
#endif
#if AICBENCH_WITH_CUDNN
#include "kernels/attention/attention_cudnn.hpp"
#endif

namespace aicbench {

namespace {

std::string version_string(int packed) {  // CUDA packs versions as 1000 * major + 10 * minor
  return std::to_string(packed / 1000) + "." + std::to_string((packed % 1000) / 10);
}

std::string read_cpu_model() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("model name", 0) == 0) {
      auto colon = line.find(':');
      if (colon != std::string::npos) return line.substr(colon + 2);
    }
  }
  return "unknown";
}

long long read_memory_bytes() {
  long pages = ::sysconf(_SC_PHYS_PAGES), page_size = ::sysconf(_SC_PAGE_SIZE);
  return (pages > 0 && page_size > 0) ? static_cast<long long>(pages) * page_size : 0;
}

std::string format_uuid(const cudaUUID_t& uuid) {
  // The same "GPU-xxxxxxxx-xxxx-..." form that nvidia-smi prints, so results can be joined.
  static const char* hex = "0123456789abcdef";
  std::string out = "GPU-";
  for (int i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out += '-';
    unsigned char byte = static_cast<unsigned char>(uuid.bytes[i]);
    out += hex[byte >> 4];
    out += hex[byte & 15];
  }
  return out;
}

nlohmann::json host_json() {
  utsname uts{};
  ::uname(&uts);
  char hostname[256] = {};
  ::gethostname(hostname, sizeof hostname - 1);
  return {{"hostname", hostname},
          {"os", std::string(uts.sysname) + " " + uts.release + " " + uts.machine},
          {"cpu_model", read_cpu_model()},
          {"cpu_cores", std::thread::hardware_concurrency()},
          {"memory_bytes", read_memory_bytes()}};
}

// The first line of a small file (sysfs and procfs entries), or nullopt when it cannot be read.
std::optional<std::string> first_line(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::string line;
  if (!in || !std::getline(in, line)) return std::nullopt;
  constexpr size_t kMaxLine = 200;  // a version line or a hex id; never a whole file
  line.resize(std::min(line.size(), kMaxLine));
  while (!line.empty() && (line.back() == ' ' || line.back() == '\t' || line.back() == '\r')) line.pop_back();
  return line;
}

}  // namespace

std::string NvidiaPresence::describe() const {
  std::string text;
  if (driver) text = "NVIDIA driver (" + *driver + ")";
  if (!pci_gpus.empty()) {
    if (!text.empty()) text += "; ";
    text += "NVIDIA GPU on the PCI bus: ";
    for (size_t i = 0; i < pci_gpus.size(); ++i) text += (i ? ", " : "") + pci_gpus[i];
  }
  return text.empty() ? "no NVIDIA driver and no NVIDIA GPU on the PCI bus" : text;
}

NvidiaPresence find_nvidia_presence(const std::filesystem::path& root) {
  namespace fs = std::filesystem;
  NvidiaPresence found;
  std::error_code ec;
  if (auto version = first_line(root / "proc/driver/nvidia/version")) {
    found.driver = version->empty() ? "/proc/driver/nvidia/version exists" : *version;
  } else if (fs::exists(root / "dev/nvidiactl", ec)) {
    found.driver = "/dev/nvidiactl exists";
  }
  // PCI class 0x03xxxx is a display controller (0x0300 VGA, 0x0302 3D: every NVIDIA compute GPU);
  // NVIDIA's audio functions and NVSwitches have other classes and are not GPUs.
  constexpr int kMaxPciDevices = 4096;  // a bound on the scan, far above any real machine
  int seen = 0;
  for (fs::directory_iterator it(root / "sys/bus/pci/devices", ec), end; !ec && it != end && seen < kMaxPciDevices;
       it.increment(ec), ++seen) {
    const fs::path dir = it->path();
    if (first_line(dir / "vendor") != "0x10de") continue;
    const std::optional<std::string> pci_class = first_line(dir / "class");
    if (!pci_class || pci_class->rfind("0x03", 0) != 0) continue;
    found.pci_gpus.push_back(dir.filename().string() + " (device " +
                             first_line(dir / "device").value_or("unknown") + ")");
  }
  std::sort(found.pci_gpus.begin(), found.pci_gpus.end());
  return found;
}

DeviceProbe probe_devices() {
  DeviceProbe probe;
  probe.nvidia = find_nvidia_presence();
  if (const char* visible = std::getenv("CUDA_VISIBLE_DEVICES")) probe.cuda_visible_devices = visible;
  int count = 0;
  cudaError_t err = cudaGetDeviceCount(&count);
  if (err != cudaSuccess) {
    (void)cudaGetLastError();
    probe.unavailable_reason = std::string("cudaGetDeviceCount failed: ") +
                               cudaGetErrorString(err) + " (" + cudaGetErrorName(err) + ")";
    probe.cuda_reports_absence = err == cudaErrorInsufficientDriver || err == cudaErrorNoDevice ||
                                 err == cudaErrorStubLibrary;
    return probe;
  }
  if (count == 0) {
    probe.unavailable_reason = "the CUDA driver reports no devices";
    probe.cuda_reports_absence = true;
    return probe;
  }
  for (int d = 0; d < count; ++d) {
    cudaDeviceProp prop{};
    if (cudaGetDeviceProperties(&prop, d) != cudaSuccess) continue;
    GpuInfo gpu;
    gpu.index = d;
    gpu.name = prop.name;
    gpu.uuid = format_uuid(prop.uuid);
    char bus[32] = {};
    cudaDeviceGetPCIBusId(bus, sizeof bus, d);
    gpu.pci_bus_id = bus;
    gpu.cc_major = prop.major;
    gpu.cc_minor = prop.minor;
    gpu.sm_count = prop.multiProcessorCount;
    gpu.memory_bytes = static_cast<long long>(prop.totalGlobalMem);
    gpu.l2_bytes = prop.l2CacheSize;
    gpu.ecc_enabled = prop.ECCEnabled != 0;
    int khz = 0;
    if (cudaDeviceGetAttribute(&khz, cudaDevAttrClockRate, d) == cudaSuccess) {
      gpu.max_sm_clock_mhz = khz / 1000;
    }
    if (cudaDeviceGetAttribute(&khz, cudaDevAttrMemoryClockRate, d) == cudaSuccess) {
      gpu.max_mem_clock_mhz = khz / 1000;
    }
    probe.gpus.push_back(gpu);
  }
  if (probe.gpus.empty()) probe.unavailable_reason = "no device answered cudaGetDeviceProperties";
  return probe;
}

nlohmann::json gpu_json(const GpuInfo& g) {
  return {{"index", g.index},
          {"name", g.name},
          {"uuid", g.uuid},
          {"pci_bus_id", g.pci_bus_id},
          {"compute_capability", g.compute_capability()},
          {"sm_count", g.sm_count},
          {"memory_bytes", g.memory_bytes},
          {"l2_bytes", g.l2_bytes},
          {"max_sm_clock_mhz", g.max_sm_clock_mhz},
          {"max_mem_clock_mhz", g.max_mem_clock_mhz},
          {"ecc_enabled", g.ecc_enabled},
          // From NVML when the GPU's telemetry opens (record_telemetry); null until then.
          {"power_limit_w", nullptr}};
}

nlohmann::json collect_provenance(const DeviceProbe& probe) {
  nlohmann::json prov;
  const BuildInfo& build = build_info();
  prov["aicbench_version"] = build.version;
  prov["git_commit"] = build.git_commit;
  prov["git_dirty"] = build.git_dirty;
  prov["host"] = host_json();

  nlohmann::json gpus = nlohmann::json::array();
  for (const GpuInfo& g : probe.gpus) gpus.push_back(gpu_json(g));
  prov["gpus"] = gpus;
  if (probe.unavailable_reason) prov["gpu_unavailable_reason"] = *probe.unavailable_reason;

  nlohmann::json versions;
  int v = 0;
  versions["driver"] =
      cudaDriverGetVersion(&v) == cudaSuccess && v > 0 ? nlohmann::json(version_string(v))
                                                       : nlohmann::json("none");
  versions["cuda_runtime"] =
      cudaRuntimeGetVersion(&v) == cudaSuccess ? nlohmann::json(version_string(v)) : nullptr;
  versions["cublas"] = kernels::cublas_version_string();
#if AICBENCH_WITH_NCCL
  int nccl = 0;
  if (ncclGetVersion(&nccl) == ncclSuccess) {
    // NCCL >= 2.9 packs as major * 10000 + minor * 100 + patch.
    versions["nccl"] = std::to_string(nccl / 10000) + "." + std::to_string((nccl % 10000) / 100) +
                       "." + std::to_string(nccl % 100);
  }
#else
  versions["nccl"] = "not built with NCCL";
#endif
  // The cpu backend's vendor baseline: openblas_get_config(), e.g. "OpenBLAS 0.3.21 DYNAMIC_ARCH
  // NO_AFFINITY Haswell MAX_THREADS=64" (the kernel it chose for this CPU, and its thread cap).
#if AICBENCH_WITH_OPENBLAS
  versions["openblas"] = kernels::openblas_config_string().substr(0, 256);
#else
  versions["openblas"] = "not built with OpenBLAS";
#endif
  // The attention family's vendor baseline.
#if AICBENCH_WITH_CUDNN
  versions["cudnn"] = kernels::cudnn_version_string();
#else
  versions["cudnn"] = "not built with cuDNN";
#endif
  prov["versions"] = versions;
  (void)cudaGetLastError();
  return prov;
}

std::string describe_telemetry(const nlohmann::json& t) {
  if (!t.value("available", false)) return "unavailable (" + t.value("reason", std::string("unknown")) + ")";
  std::string line = "NVML; clock policy: " + t.value("clock_policy", std::string("unknown"));
  if (t.contains("power_limit_w") && t["power_limit_w"].is_number()) {
    std::ostringstream watts;
    watts << t["power_limit_w"].get<double>();
    line += "; power limit " + watts.str() + " W";
  }
  return line;
}

std::string format_provenance(const nlohmann::json& prov) {
  std::ostringstream out;
  const auto& host = prov["host"];
  out << "aicbench " << prov["aicbench_version"].get<std::string>() << " (commit "
      << prov["git_commit"].get<std::string>().substr(0, 12)
      << (prov["git_dirty"].get<bool>() ? ", dirty tree" : "") << ")\n";
  out << "Host:    " << host["hostname"].get<std::string>() << ", "
      << host["os"].get<std::string>() << "\n";
  out << "CPU:     " << host["cpu_model"].get<std::string>() << ", "
      << host["cpu_cores"].get<unsigned>() << " hardware threads, "
      << host["memory_bytes"].get<long long>() / (1LL << 30) << " GiB\n";
  const auto& versions = prov["versions"];
  out << "Driver:  " << versions["driver"].get<std::string>() << "   CUDA runtime: "
      << (versions["cuda_runtime"].is_string() ? versions["cuda_runtime"].get<std::string>() : "?")
      << "   cuBLAS: " << versions["cublas"].get<std::string>()
      << "   NCCL: " << versions.value("nccl", std::string("unknown"))
      << "   cuDNN: " << versions.value("cudnn", std::string("unknown")) << "\n"
      << "OpenBLAS: " << versions.value("openblas", std::string("unknown")) << "\n";
  if (prov["gpus"].empty()) {
    out << "GPUs:    none usable: " << prov.value("gpu_unavailable_reason", std::string("unknown"))
        << "\n         (the cpu backend still runs; `aicbench run` picks it automatically)\n";
  }
  if (prov.contains("telemetry")) out << "Telemetry: " << describe_telemetry(prov["telemetry"]) << "\n";
  for (const auto& g : prov["gpus"]) {
    out << "GPU " << g["index"].get<int>() << ":   " << g["name"].get<std::string>() << ", compute capability "
        << g["compute_capability"].get<std::string>() << ", " << g["sm_count"].get<int>()
        << " SMs, " << g["memory_bytes"].get<long long>() / (1LL << 30) << " GiB, L2 "
        << g["l2_bytes"].get<long long>() / (1 << 20) << " MiB, max SM clock "
        << g["max_sm_clock_mhz"].get<int>() << " MHz, ECC "
        << (g["ecc_enabled"].get<bool>() ? "on" : "off") << "\n"
        << "         " << g["uuid"].get<std::string>() << "  PCI " << g["pci_bus_id"].get<std::string>()
        << "\n";
  }
  return out.str();
}

}  // namespace aicbench
