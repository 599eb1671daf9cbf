#include "tests/fleet_generator.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <numeric>
#include <random>
#include <stdexcept>

namespace aicbench::testing {
namespace {

using json = nlohmann::json;
namespace fs = std::filesystem;

// Counters that follow the GPU's speed; the rest (pct_of_vendor, a ratio within one run) do not.
constexpr const char* kSpeedCounters[] = {"tflops", "gbps", "algbw_gbps", "busbw_gbps", "pct_of_peak",
                                          "tflops_per_w", "gbps_per_w"};
// Every counter the harness writes only on rows whose status is ok.
constexpr const char* kOkOnlyCounters[] = {"tflops", "gbps", "algbw_gbps", "busbw_gbps", "pct_of_peak",
                                           "pct_of_vendor", "tflops_per_w", "gbps_per_w", "max_rel_err",
                                           "sm_clock_mhz", "power_w", "energy_j", "temp_c"};
constexpr const char* kMeasurementTimes[] = {"median_s", "mean_s", "min_s", "q1_s", "q3_s", "max_s"};

// An H200 SXM's numbers, for provenance and telemetry that look like one.
constexpr double kMaxSmClockMhz = 1980;
constexpr double kMemClockMhz = 3201;
constexpr double kPowerLimitW = 700;

std::string run_name_of(const json& b) {
  return b.contains("run_name") ? b["run_name"].get<std::string>() : b["name"].get<std::string>();
}
bool is_aggregate(const json& b) { return b.value("run_type", "") == "aggregate"; }
bool is_ok(const json& b) { return b["aicbench"].value("status", "") == "ok"; }

double median_of(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

struct Base {
  double median_s = 0;  // the template's median over its repetitions
  double load = 0;      // 0..1: how hard the benchmark drives the GPU (clock down, heat and power up)
};

// One GPU's place in the fleet: its speed and its offsets from the typical GPU.
struct GpuDraw {
  double speed = 1;         // throughput multiplier
  double clock = 1;         // SM clock multiplier
  double temp_offset_c = 0;
  const PlantedNode* plant = nullptr;  // the node's plant when it concerns this GPU
};

class Generator {
 public:
  Generator(const json& tmpl, const FleetSpec& spec) : tmpl_(tmpl), spec_(spec), rng_(spec.seed) {
    if (!tmpl.contains("benchmarks") || !tmpl["benchmarks"].is_array()) throw std::runtime_error("template: no benchmarks[]");
    std::map<std::string, std::vector<double>> times;
    for (const json& b : tmpl["benchmarks"]) {
      if (is_aggregate(b) || !is_ok(b)) continue;
      const json& m = b["aicbench"].value("measurement", json::object());
      if (m.contains("median_s") && m["median_s"].get<double>() > 0) times[run_name_of(b)].push_back(m["median_s"].get<double>());
    }
    if (times.empty()) throw std::runtime_error("template: no ok measurement rows with aicbench.measurement.median_s");
    // Longer benchmarks drive the GPU harder: load by rank of base time, 0 to 1.
    std::vector<std::pair<double, std::string>> by_time;
    for (const auto& [name, t] : times) {
      bases_[name].median_s = median_of(t);
      by_time.emplace_back(bases_[name].median_s, name);
      names_.push_back(name);
    }
    std::sort(by_time.begin(), by_time.end());
    for (size_t i = 0; i < by_time.size(); ++i) {
      bases_[by_time[i].second].load = by_time.size() > 1 ? double(i) / double(by_time.size() - 1) : 1.0;
    }
  }

  GeneratedFleet run(const fs::path& dir) {
    GeneratedFleet fleet;
    plan_plants(fleet.planted);
    fs::create_directories(dir);
    std::map<size_t, const PlantedNode*> plant_of_node;
    for (const PlantedNode& p : fleet.planted) plant_of_node[node_index_[&p - fleet.planted.data()]] = &p;

    // Format 3: world ranks are numbered node by node over the GPUs that report.
    std::vector<int64_t> ranks_per_node(spec_.nodes, static_cast<int64_t>(spec_.gpus_per_node));
    for (const auto& [n, plant] : plant_of_node) {
      if (plant->kind == Plant::missing_gpu) --ranks_per_node[n];
    }
    const int64_t world = std::accumulate(ranks_per_node.begin(), ranks_per_node.end(), int64_t{0});
    int64_t next_rank = 0;
    auto write = [&](const fs::path& path, const json& doc) {
      const std::string text = doc.dump(2) + "\n";
      std::ofstream out(path, std::ios::binary);
      out << text;
      if (!out) throw std::runtime_error("cannot write " + path.string());
      fleet.bytes += text.size();
      fleet.files.push_back(path);
    };

    for (size_t n = 0; n < spec_.nodes; ++n) {
      const std::string node = node_name(n);
      const PlantedNode* plant = plant_of_node.count(n) ? plant_of_node[n] : nullptr;
      json node_doc;  // format 3: the node's file, GPU by GPU
      const double node_speed = std::exp(normal(spec_.node_sigma));
      const double node_clock = normal(0.002 * spec_.telemetry_spread);
      const double node_temp = normal(2.0 * spec_.telemetry_spread);
      for (size_t g = 0; g < spec_.gpus_per_node; ++g) {
        GpuDraw draw;
        draw.speed = node_speed * std::exp(normal(spec_.gpu_sigma));
        draw.clock = std::exp(node_clock + normal(0.002 * spec_.telemetry_spread));
        draw.temp_offset_c = node_temp + normal(1.5 * spec_.telemetry_spread);
        if (plant && (plant->kind == Plant::odd_driver || plant->gpu == g)) draw.plant = plant;
        // Hot: 15 C above the typical GPU (not above its own draw, which may have been cool).
        if (draw.plant && draw.plant->kind == Plant::hot) draw.temp_offset_c = 15;
        const bool missing = draw.plant && draw.plant->kind == Plant::missing_gpu;
        if (missing && !spec_.node_files) continue;
        if (missing) {
          // Listed in the node's gpus[], without a rank or rows; drawn from nothing, so that the
          // random draws stay those of the one-file-per-GPU layout.
          node_doc["context"]["aicbench"]["gpus"].push_back(
              {{"index", g}, {"name", spec_.gpu_model}, {"uuid", "GPU-unreported-" + node + "-" + std::to_string(g)}});
          continue;
        }
        json doc = gpu_file(node, g, draw);
        if (spec_.node_files) {
          add_to_node_file(node_doc, std::move(doc), n, g, next_rank++, world, ranks_per_node);
          continue;
        }
        write(dir / ("aicbench-" + spec_.suite + "-cuda-" + node + "-20261130T000000Z-rank" + std::to_string(g) + ".json"), doc);
      }
      if (spec_.node_files) write(dir / ("aicbench-" + spec_.suite + "-cuda-" + node + "-20261130T000000Z.json"), node_doc);
    }
    return fleet;
  }

 private:
  double normal(double sigma) { return sigma > 0 ? std::normal_distribution<double>(0, sigma)(rng_) : 0.0; }
  double uniform(double a, double b) { return std::uniform_real_distribution<double>(a, b)(rng_); }
  size_t pick(size_t n) { return std::uniform_int_distribution<size_t>(0, n - 1)(rng_); }

  void plan_plants(std::vector<PlantedNode>& planted) {
    size_t total = 0;
    for (const auto& [kind, count] : spec_.plants) total += count;
    if (total > spec_.nodes) throw std::runtime_error("more planted nodes than nodes");
    if (spec_.plants.count(Plant::missing_gpu) && spec_.plants.at(Plant::missing_gpu) > 0 && spec_.gpus_per_node < 2) {
      throw std::runtime_error("a missing GPU needs nodes of at least 2 GPUs");
    }
    std::vector<size_t> order(spec_.nodes);
    std::iota(order.begin(), order.end(), 0);
    std::shuffle(order.begin(), order.end(), rng_);
    size_t next = 0;
    planted.reserve(total);  // node_index_ refers to elements by position
    for (Plant kind : kAllPlants) {
      const size_t count = spec_.plants.count(kind) ? spec_.plants.at(kind) : 0;
      for (size_t i = 0; i < count; ++i) {
        PlantedNode p;
        p.node = node_name(order[next]);
        p.kind = kind;
        p.gpu = pick(spec_.gpus_per_node);
        if (kind == Plant::failing || kind == Plant::erroring || kind == Plant::missing_benchmark) {
          p.benchmark = names_[pick(names_.size())];
        }
        if (kind == Plant::slow) p.amount = spec_.slow_min < spec_.slow_max ? uniform(spec_.slow_min, spec_.slow_max) : spec_.slow_min;
        node_index_.push_back(order[next]);
        planted.push_back(p);
        ++next;
      }
    }
  }

  // Adds GPU g's file to its node's (format 3): the GPU to gpus[] at index g, and its rows, each
  // naming its origin.
  void add_to_node_file(json& node_doc, json gpu_doc, size_t n, size_t g, int64_t rank, int64_t world,
                        const std::vector<int64_t>& ranks_per_node) {
    json gpu = gpu_doc["context"]["aicbench"]["gpus"][0];
    gpu["index"] = g;
    if (!node_doc.contains("benchmarks")) {
      const json listed = node_doc.is_null() ? json::array() : node_doc["context"]["aicbench"]["gpus"];  // a missing GPU before
      node_doc = gpu_doc;
      node_doc["benchmarks"] = json::array();
      json& p = node_doc["context"]["aicbench"];
      p["format_version"] = 3;
      p["gpus"] = listed;
      p["ranks"] = world;
      p["job"] = {{"launcher", "srun"}, {"ranks", world}, {"nodes", spec_.nodes},
                  {"node", node_name(n)}, {"node_index", n}, {"node_ranks", json::array()},
                  {"ranks_per_node", ranks_per_node}};
      p["command_line"] = "srun --ntasks-per-node " + std::to_string(spec_.gpus_per_node) + " aicbench run --suite " + spec_.suite +
                          " --out results";
    }
    json& p = node_doc["context"]["aicbench"];
    p["gpus"].push_back(gpu);
    if (p["job"]["node_ranks"].empty()) p["rank"] = rank;  // the node leader's
    p["job"]["node_ranks"].push_back(rank);
    for (json& row : gpu_doc["benchmarks"]) {
      row["aicbench"]["origin"] = {{"node", node_name(n)}, {"rank", rank}, {"local_rank", p["job"]["node_ranks"].size() - 1},
                                   {"gpu_index", g}, {"gpu_uuid", gpu["uuid"]}};
      node_doc["benchmarks"].push_back(std::move(row));
    }
  }

  std::string uuid() {
    static const char* hex = "0123456789abcdef";
    std::string u = "GPU-";
    for (int i = 0; i < 32; ++i) {
      if (i == 8 || i == 12 || i == 16 || i == 20) u += '-';
      u += hex[pick(16)];
    }
    return u;
  }

  json gpu_file(const std::string& node, size_t g, const GpuDraw& draw) {
    json doc = tmpl_;
    json& p = doc["context"]["aicbench"];
    const bool odd_driver = draw.plant && draw.plant->kind == Plant::odd_driver;
    char bus[32];
    std::snprintf(bus, sizeof bus, "00000000:%02X:00.0", static_cast<unsigned>(0x18 + 0x10 * g) & 0xff);
    p["backend"] = "cuda";
    p["backend_reason"] = "auto: found " + spec_.gpu_model;
    p.erase("gpu_unavailable_reason");
    p["gpus"] = json::array({{{"index", 0},  // each rank sees its own GPU only (CUDA_VISIBLE_DEVICES)
                              {"name", spec_.gpu_model},
                              {"uuid", uuid()},
                              {"pci_bus_id", bus},
                              {"compute_capability", "9.0"},
                              {"sm_count", 132},
                              {"memory_bytes", 150754820096.0},
                              {"l2_bytes", 52428800},
                              {"max_sm_clock_mhz", kMaxSmClockMhz},
                              {"max_mem_clock_mhz", kMemClockMhz},
                              {"ecc_enabled", true},
                              {"power_limit_w", kPowerLimitW}}});
    p["host"] = {{"hostname", node},
                 {"os", "Linux 5.15.0-131-generic x86_64"},
                 {"cpu_model", "Intel(R) Xeon(R) Platinum 8480+"},
                 {"cpu_cores", 224},
                 {"memory_bytes", 2164663517184.0}};
    p["rank"] = g;
    p["ranks"] = spec_.gpus_per_node;
    p["suite"] = spec_.suite;
    p["command_line"] = "aicbench run --suite " + spec_.suite + " --out results";
    p["versions"] = {{"driver", odd_driver ? spec_.odd_driver : spec_.driver},
                     {"cuda_runtime", "12.8"},
                     {"cublas", "12.8.4"},
                     {"nccl", "2.26.2"}};
    p["telemetry"] = {{"available", true},
                      {"source", "nvml"},
                      {"clock_policy", "default (not locked)"},
                      {"max_sm_clock_mhz", kMaxSmClockMhz},
                      {"power_limit_w", kPowerLimitW}};
    if (p.contains("methodology") && p["methodology"].is_object()) p["methodology"]["throttle_threshold"] = 0.75;
    if (doc["context"].contains("host_name")) doc["context"]["host_name"] = node;

    const PlantedNode* plant = draw.plant;
    auto planted = [&](Plant kind, const std::string& name) {
      return plant && plant->kind == kind && plant->benchmark == name;
    };
    json rows = json::array();
    std::map<std::string, std::vector<double>> repetition_times;  // run name -> real_time of each repetition
    for (const json& b : doc["benchmarks"]) {
      const std::string name = run_name_of(b);
      if (planted(Plant::missing_benchmark, name)) continue;
      json row = b;
      row["aicbench"]["backend"] = "cuda";
      if (!is_aggregate(row) && is_ok(row) && bases_.count(name)) {
        measure(row, bases_.at(name), draw);
        repetition_times[name].push_back(row["real_time"].get<double>());
      }
      if (planted(Plant::failing, name)) fail_validation(row);
      if (planted(Plant::erroring, name)) error(row);
      rows.push_back(std::move(row));
    }
    for (json& row : rows) {
      if (is_aggregate(row) && is_ok(row) && repetition_times.count(run_name_of(row))) {
        aggregate(row, repetition_times.at(run_name_of(row)));
      }
    }
    doc["benchmarks"] = std::move(rows);
    return doc;
  }

  // One repetition's measurement on this GPU, and the telemetry while it ran.
  void measure(json& row, const Base& base, const GpuDraw& draw) {
    auto planted = [&](Plant kind) { return draw.plant && draw.plant->kind == kind; };
    double speed = draw.speed * std::exp(normal(spec_.noise_sigma));
    const double spread = spec_.telemetry_spread;
    double clock = kMaxSmClockMhz * (1 - 0.04 * base.load) * draw.clock * std::exp(normal(0.002 * spread));
    double power = (250 + 400 * base.load) * std::exp(normal(0.02 * spread));
    double temp = std::round(45 + 25 * base.load + draw.temp_offset_c + normal(0.7 * spread));
    std::vector<std::string> throttle_reasons;
    if (planted(Plant::slow)) speed *= 1 - draw.plant->amount;
    if (planted(Plant::throttled)) {
      clock *= 0.8;
      speed *= 0.82;  // a compute-bound kernel loses nearly what the clock loses
      power *= 0.8;
      throttle_reasons.push_back("hw_slowdown");
    }
    json& m = row["aicbench"]["measurement"];
    const double seconds = base.median_s / speed;
    const double ratio = seconds / m["median_s"].get<double>();
    for (const char* key : kMeasurementTimes) {
      if (m.contains(key)) m[key] = m[key].get<double>() * ratio;
    }
    for (const char* key : {"real_time", "cpu_time"}) {
      if (row.contains(key)) row[key] = row[key].get<double>() * ratio;
    }
    for (const char* key : kSpeedCounters) {
      if (row.contains(key)) row[key] = row[key].get<double>() / ratio;
    }
    const int64_t samples = m.value("samples", int64_t{1});
    const double energy = power * seconds * static_cast<double>(std::max<int64_t>(samples, 1));
    row["aicbench"]["telemetry"] = {{"readings", std::max<int64_t>(samples, 1)},
                                    {"throttle_reasons", throttle_reasons},
                                    {"sm_clock_mhz", clock},
                                    {"mem_clock_mhz", kMemClockMhz},
                                    {"power_w", power},
                                    {"temp_c", temp},
                                    {"energy_j", energy},
                                    {"energy_source", "energy_counter"}};
    row["sm_clock_mhz"] = clock;
    row["power_w"] = power;
    row["temp_c"] = temp;
    row["energy_j"] = energy;
  }

  // A mean, median, stddev or cv row recomputed from this GPU's repetitions.
  static void aggregate(json& row, const std::vector<double>& times) {
    double mean = 0;
    for (double t : times) mean += t;
    mean /= static_cast<double>(times.size());
    double ss = 0;
    for (double t : times) ss += (t - mean) * (t - mean);
    const double stddev = times.size() > 1 ? std::sqrt(ss / static_cast<double>(times.size() - 1)) : 0.0;
    const std::string what = row.value("aggregate_name", "");
    double value = what == "mean" ? mean : what == "median" ? median_of(times) : what == "stddev" ? stddev
                                                                                 : mean > 0 ? stddev / mean : 0.0;
    const double old = row.value("real_time", 0.0);
    if (old > 0 && value > 0 && (what == "mean" || what == "median")) {
      for (const char* key : kSpeedCounters) {
        if (row.contains(key)) row[key] = row[key].get<double>() * old / value;
      }
    }
    row["real_time"] = value;
    row["cpu_time"] = value;
  }

  static void strip_counters(json& row) {
    for (const char* key : kOkOnlyCounters) row.erase(key);
  }

  static void fail_validation(json& row) {
    json& info = row["aicbench"];
    json& validation = info["validation"];
    const double tolerance = validation.value("tolerance", 1e-3);
    const double error = 40 * tolerance;
    validation["max_rel_err"] = error;
    char reason[160];
    std::snprintf(reason, sizeof reason, "validation failed: max_rel_err %.3g exceeds tolerance %.3g", error, tolerance);
    info["status"] = "failed";
    info["reason"] = reason;
    info.erase("measurement");
    info.erase("telemetry");
    info.erase("unstable");
    strip_counters(row);
    row["error_occurred"] = true;
    row["error_message"] = reason;
    row["real_time"] = 0;
    row["cpu_time"] = 0;
  }

  static void error(json& row) {
    json& info = row["aicbench"];
    const char* reason = "CUDA error: an illegal memory access was encountered (cudaErrorIllegalAddress)";
    info["status"] = "error";
    info["reason"] = reason;
    for (const char* key : {"measurement", "telemetry", "validation", "unstable"}) info.erase(key);
    strip_counters(row);
    row["error_occurred"] = true;
    row["error_message"] = reason;
    row["real_time"] = 0;
    row["cpu_time"] = 0;
  }

  const json& tmpl_;
  const FleetSpec& spec_;
  std::mt19937_64 rng_;
  std::map<std::string, Base> bases_;
  std::vector<std::string> names_;
  std::vector<size_t> node_index_;  // planted[i]'s node
};

}  // namespace

std::string to_string(Plant plant) {
  switch (plant) {
    case Plant::slow: return "slow";
    case Plant::failing: return "failing";
    case Plant::erroring: return "erroring";
    case Plant::hot: return "hot";
    case Plant::throttled: return "throttled";
    case Plant::missing_gpu: return "missing_gpu";
    case Plant::missing_benchmark: return "missing_benchmark";
    case Plant::odd_driver: return "odd_driver";
  }
  return "?";
}

std::string node_name(size_t index) {
  char name[32];
  std::snprintf(name, sizeof name, "node-%04zu", index + 1);
  return name;
}

GeneratedFleet generate_fleet(const json& template_result, const FleetSpec& spec, const fs::path& dir) {
  return Generator(template_result, spec).run(dir);
}

}  // namespace aicbench::testing
