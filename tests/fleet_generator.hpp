#pragma once
// Generated fleets for `aicbench fleet`: GPU-looking result files made from one real result file
// (a CPU run of aicbench), with node-to-node spread and planted problem nodes, so that the fleet
// verdicts can be checked against what was planted and timed at the scale of a 10,000-GPU centre.
//
// Every file is the template with:
//   - provenance of one GPU of one node: backend cuda, gpus[] with that GPU (name, UUID, PCI bus,
//     max clocks), the node's hostname, rank = the GPU's index in the node, driver and library
//     versions, NVML telemetry available;
//   - each measurement's times scaled to  base / speed, where base is the template's median over
//     its repetitions and speed = node factor x GPU factor x measurement noise, each log-normal;
//     throughput counters scaled by speed; repetition aggregates recomputed from the repetitions;
//   - telemetry per measurement: SM clock, memory clock, power, maximum temperature (whole degrees,
//     as NVML gives them), energy, throttle reasons; the clock and the temperature depend on how
//     hard the benchmark drives the GPU, plus node and GPU offsets.
// By default a result file holds one process's results on one GPU (formats 1 and 2), so a node of
// 8 GPUs is 8 files; FleetSpec::node_files writes one file per node (format 3).
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace aicbench::testing {

// What can be planted on a node; each planted node gets exactly one.
enum class Plant {
  slow,               // one GPU 8-15 % slower on every benchmark
  failing,            // one GPU fails validation on one benchmark
  erroring,           // one GPU's run errors on one benchmark
  hot,                // one GPU 15 C hotter than the typical GPU on every benchmark
  throttled,          // one GPU's SM clock 20 % lower, hw_slowdown throttle reason, and slower for it
  missing_gpu,        // the node reports one GPU fewer (needs gpus_per_node >= 2)
  missing_benchmark,  // one GPU's file lacks one benchmark
  odd_driver,         // every file of the node has another driver version
};
inline constexpr Plant kAllPlants[] = {Plant::slow, Plant::failing, Plant::erroring, Plant::hot, Plant::throttled,
                                       Plant::missing_gpu, Plant::missing_benchmark, Plant::odd_driver};
std::string to_string(Plant plant);

struct FleetSpec {
  size_t nodes = 100;
  size_t gpus_per_node = 8;
  uint64_t seed = 1;
  // Log-normal sigmas of the speed of a node, of a GPU within its node, and of one measurement.
  double node_sigma = 0.01;
  double gpu_sigma = 0.01;
  double noise_sigma = 0.005;
  // Scales every spread of the telemetry (node, GPU and reading offsets of clock, temperature,
  // power): 0 makes every GPU's telemetry identical on a benchmark.
  double telemetry_spread = 1;
  double slow_min = 0.08, slow_max = 0.15;  // a slow plant's slowdown, drawn uniformly
  std::string gpu_model = "NVIDIA H200";
  std::string driver = "570.124.06";
  std::string odd_driver = "550.54.15";
  std::string suite = "acceptance";
  std::map<Plant, size_t> plants;  // how many nodes of each kind
  // Result format 3: one file per node holding all its GPUs' rows (each row's aicbench.origin
  // naming its node, world rank and GPU), as `srun` with the node file writer makes them; the
  // same draws as one file per GPU, so the same seed gives the same fleet in either layout. A
  // missing GPU stays listed in gpus[] and has no rank and no rows.
  bool node_files = false;
};

struct PlantedNode {
  std::string node;       // hostname
  Plant kind;
  size_t gpu = 0;         // the GPU's index in its node (its rank)
  std::string benchmark;  // failing, erroring, missing_benchmark: which
  double amount = 0;      // slow: the slowdown as a fraction
};

struct GeneratedFleet {
  std::vector<std::filesystem::path> files;
  std::vector<PlantedNode> planted;
  uint64_t bytes = 0;     // written, all files together
};

// Node names: node-0001, node-0002, ...
std::string node_name(size_t index);

// Writes the fleet's files into `dir` (created if needed). `template_result` is a real result
// file's JSON (checked already); its measurement rows should all be ok. Throws std::runtime_error
// on a template it cannot use or a file it cannot write.
GeneratedFleet generate_fleet(const nlohmann::json& template_result, const FleetSpec& spec,
                              const std::filesystem::path& dir);

}  // namespace aicbench::testing
