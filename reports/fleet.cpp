#include "reports/fleet.hpp"

#include <algorithm>
#include <numeric>
#include <tuple>

#include "reports/stats.hpp"
#include "reports/text_format.hpp"

namespace aicbench::fleet {

namespace {

constexpr size_t kNone = static_cast<size_t>(-1);
// 1 / Phi^-1(3/4): the MAD of normal data times this is its standard deviation.
constexpr double kMadToSigma = 1.4826;
// Throttle reasons that are a problem wherever they appear: heat and hardware slowdowns. Others
// (power cap, sync boost, application clocks) are how a busy fleet runs, and count only when rare.
constexpr const char* kSevereThrottleReasons[] = {"hw_slowdown", "sw_thermal_slowdown", "hw_thermal_slowdown",
                                                  "hw_power_brake_slowdown"};
constexpr size_t kListed = 3;  // benchmarks named in one finding; the rest are counted

// A robust summary of values: median, MAD, the sigma they give, quantiles.
struct Robust {
  size_t n = 0;
  double median = kNaN, mad = kNaN, sigma = kNaN, p5 = kNaN, p95 = kNaN, min = kNaN, max = kNaN;
};

double median_of(const std::vector<double>& values) { return values.empty() ? kNaN : stats::median(values); }

// sigma = max(1.4826 MAD, relative_floor x |median|, absolute_floor).
Robust describe(std::vector<double> values, double relative_floor, double absolute_floor) {
  Robust r;
  r.n = values.size();
  if (values.empty()) return r;
  r.median = stats::median(values);
  r.p5 = stats::quantile(values, 0.05);  // type 7, numpy's default
  r.p95 = stats::quantile(values, 0.95);
  r.min = *std::min_element(values.begin(), values.end());
  r.max = *std::max_element(values.begin(), values.end());
  for (double& v : values) v = std::fabs(v - r.median);
  r.mad = stats::median(values);
  r.sigma = std::max({kMadToSigma * r.mad, relative_floor * std::fabs(r.median), absolute_floor});
  return r;
}

using reports::join;
using reports::printf_double;

std::string number(double v) { return reports::sig3(v); }
std::string percent(double fraction) { return printf_double("%.1f", 100 * fraction) + " %"; }
std::string signed_z(double z) { return printf_double("%+.1f", z); }

// The benchmark as people read it: its name, and the mode when the name does not say it.
std::string benchmark_label(const std::string& name, const std::string& mode) {
  if (mode.empty() || mode == "cold" || name.find("mode:" + mode) != std::string::npos) return name;
  return name + " (" + mode + ")";
}

CellStatus status_of(const std::string& status) {
  if (status == kStatusOk) return CellStatus::ok;
  if (status == kStatusFailed) return CellStatus::failed;
  if (status == kStatusSkipped) return CellStatus::skipped;
  return CellStatus::error;
}

bool severe_throttle(const std::string& reason) {
  for (const char* severe : kSevereThrottleReasons) {
    if (reason == severe) return true;
  }
  return false;
}

}  // namespace

const char* reason_name(Reason reason) {
  switch (reason) {
    case Reason::slow: return "slow";
    case Reason::failing: return "failing";
    case Reason::hot: return "hot";
    case Reason::throttled: return "throttled";
    case Reason::missing: return "missing";
    case Reason::odd_provenance: return "odd provenance";
  }
  return "?";
}

const char* cell_status_name(CellStatus status) {
  switch (status) {
    case CellStatus::ok: return "ok";
    case CellStatus::failed: return "failed";
    case CellStatus::error: return "error";
    case CellStatus::skipped: return "skipped";
    case CellStatus::missing: return "missing";
  }
  return "?";
}

bool NodeVerdict::has(Reason reason) const {
  return std::any_of(findings.begin(), findings.end(), [&](const Finding& f) { return f.reason == reason; });
}

std::set<Reason> NodeVerdict::reasons() const {
  std::set<Reason> out;
  for (const Finding& f : findings) out.insert(f.reason);
  return out;
}

size_t FleetReport::outlier_gpus() const {
  std::set<std::string> named;
  for (const NodeVerdict& node : outliers) {
    for (const Finding& f : node.findings) named.insert(f.gpus.begin(), f.gpus.end());
  }
  return named.size();
}

const NodeVerdict* FleetReport::outlier(const std::string& node) const {
  auto it = std::lower_bound(outliers.begin(), outliers.end(), node,
                             [](const NodeVerdict& v, const std::string& name) { return v.node < name; });
  return it != outliers.end() && it->node == node ? &*it : nullptr;
}

// ==== Collecting: one file at a time, kept as compact observations.

uint32_t FleetCollector::gpu_of(const RowOrigin& origin, const ResultFile& file) {
  const std::string key = !origin.gpu_uuid.empty()
                              ? origin.gpu_uuid
                              : origin.host + '\n' + std::to_string(origin.rank) + '\n' + origin.device_name;
  auto [it, fresh] = gpu_index_.emplace(key, static_cast<uint32_t>(gpus_.size()));
  if (fresh) {
    Gpu gpu;
    gpu.node = origin.host.empty() ? "(no hostname)" : origin.host;
    gpu.rank = origin.rank;
    gpu.gpu_index = origin.gpu_index;
    gpu.label = origin.gpu_index ? gpu.node + " GPU " + std::to_string(*origin.gpu_index) : gpu.node + ":" + std::to_string(origin.rank);
    gpu.uuid = origin.gpu_uuid;
    gpu.model = origin.device_name.empty() ? "(unnamed device)" : origin.device_name;
    gpu.environment = environment_of(file, origin);
    gpu.environment.erase("gpu.uuid");  // every GPU's own: never a majority
    gpus_.push_back(std::move(gpu));
  }
  return it->second;
}

size_t FleetCollector::throttle_bit(const std::string& reason) {
  // NVML knows a dozen reasons; should files name more than 64, the rest share the last bit.
  constexpr size_t kBits = 64;
  auto at = std::find(throttle_names_.begin(), throttle_names_.end(), reason);
  if (at != throttle_names_.end()) return static_cast<size_t>(at - throttle_names_.begin());
  if (throttle_names_.size() < kBits - 1) {
    throttle_names_.push_back(reason);
  } else if (throttle_names_.size() == kBits - 1) {
    throttle_names_.push_back("other");
  }
  return throttle_names_.size() - 1;
}

uint32_t FleetCollector::intern_reason(const std::string& text) {
  if (text.empty()) return 0;
  auto [it, fresh] = reason_index_.emplace(text, static_cast<uint32_t>(reasons_.size()));
  if (fresh) reasons_.push_back(text);
  return it->second;
}

void FleetCollector::add(const ResultFile& file) {
  const size_t index = files_++;
  const RunFacts facts = run_facts(file, index);
  // Every GPU the file holds rows of; a file without rows still places its process's GPU on its
  // node: what it lacks is then missing.
  std::vector<RowOrigin> units = facts.units;
  if (units.empty()) units.push_back(facts.origin);
  std::map<int, uint32_t> gpu_of_rank;
  for (const RowOrigin& unit : units) {
    const uint32_t g = gpu_of(unit, file);
    ++gpus_[g].files;
    gpus_[g].complete = gpus_[g].complete && facts.complete;
    gpu_of_rank[unit.rank] = g;
  }
  for (const ResultRow& row : result_rows(file, index)) {
    if (row.aggregate) continue;  // the measurements only: repetitions fold into their median here
    if (row.origin.job_wide()) {
      ++job_wide_rows_;  // a collective over the job is no GPU's: it has no place in a distribution over GPUs
      continue;
    }
    const uint32_t gpu = gpu_of_rank.at(row.origin.rank);
    auto [it, fresh] = benchmark_index_.emplace(row.name + '\n' + row.mode, static_cast<uint32_t>(benchmarks_.size()));
    if (fresh) benchmarks_.push_back({row.name, row.mode, "", 0, 0});
    Benchmark& benchmark = benchmarks_[it->second];

    Observation o{gpu, it->second, status_of(row.status), kNaN, kNaN, kNaN, kNaN, 0, 0};
    if (auto throughput = row.throughput(); row.ok() && throughput) {
      o.throughput = *throughput;
      if (benchmark.unit.empty()) benchmark.unit = row.throughput_unit();
      ++benchmark.with_throughput;
    } else if (row.ok()) {
      ++benchmark.ok_without;
    }
    if (row.median_s) o.time_s = *row.median_s;
    if (row.sm_clock_mhz) o.clock_mhz = *row.sm_clock_mhz;
    if (row.temp_c) o.temp_c = *row.temp_c;
    for (const std::string& reason : row.throttle_reasons) o.throttle |= uint64_t{1} << throttle_bit(reason);
    if (!row.ok()) {
      std::string why = row.reason;
      if (why.empty() && row.status == kStatusFailed && row.max_rel_err && row.tolerance) {
        why = "max_rel_err " + number(*row.max_rel_err) + " exceeds tolerance " + number(*row.tolerance);
      }
      o.reason = intern_reason(why);
    }
    observations_.push_back(o);
  }
}

// ==== Analysis

namespace {

// What analyse_fleet works with besides the report: indices that make the loops cheap.
struct Work {
  std::vector<uint32_t> model_of_gpu;           // index into model_names
  std::vector<std::string> model_names;
  std::vector<std::vector<size_t>> gpus_of_model;
  std::vector<std::vector<size_t>> distribution_of;  // [model][benchmark] -> distribution, or kNone
  std::vector<std::vector<size_t>> cells_of_distribution;
  std::vector<uint64_t> throttle_of_gpu;
};

// Per GPU, its findings before they are gathered per node.
using GpuFindings = std::vector<std::vector<Finding>>;

Finding finding(Reason reason, const Gpu& gpu, std::string detail) {
  Finding f{reason, {gpu.label}, "", kNaN, kNaN, kNaN, std::move(detail)};
  return f;
}

}  // namespace

FleetReport analyse_fleet(const FleetCollector& data, const FleetOptions& options) {
  using Observation = FleetCollector::Observation;
  FleetReport report;
  report.options = options;
  report.files = data.files_;
  report.gpus = data.gpus_;
  const size_t gpu_count = report.gpus.size();
  const size_t benchmark_count = data.benchmarks_.size();
  Work work;

  // ---- Models and nodes.
  std::map<std::string, uint32_t> model_id;
  for (const Gpu& gpu : report.gpus) {
    ++report.models[gpu.model];
    auto [it, fresh] = model_id.emplace(gpu.model, static_cast<uint32_t>(work.model_names.size()));
    if (fresh) work.model_names.push_back(gpu.model);
    work.model_of_gpu.push_back(it->second);
  }
  work.gpus_of_model.resize(work.model_names.size());
  for (size_t g = 0; g < gpu_count; ++g) work.gpus_of_model[work.model_of_gpu[g]].push_back(g);
  std::map<std::string, std::vector<size_t>> gpus_of_node;
  for (size_t g = 0; g < gpu_count; ++g) gpus_of_node[report.gpus[g].node].push_back(g);
  for (const auto& [node, gpus] : gpus_of_node) report.nodes.push_back(node);

  // ---- A benchmark's metric: its throughput when every ok row has one, else its time.
  std::vector<bool> uses_throughput(benchmark_count);
  for (size_t b = 0; b < benchmark_count; ++b) {
    const auto& benchmark = data.benchmarks_[b];
    uses_throughput[b] = benchmark.with_throughput > 0 && benchmark.ok_without == 0;
  }

  // ---- Distributions, one per (model, benchmark) seen, ordered by model, name, mode.
  std::vector<std::vector<bool>> seen(work.model_names.size(), std::vector<bool>(benchmark_count));
  for (const Observation& o : data.observations_) seen[work.model_of_gpu[o.gpu]][o.benchmark] = true;
  std::vector<std::tuple<std::string, std::string, std::string, uint32_t, uint32_t>> keys;
  for (uint32_t m = 0; m < work.model_names.size(); ++m) {
    for (uint32_t b = 0; b < benchmark_count; ++b) {
      if (seen[m][b]) keys.emplace_back(work.model_names[m], data.benchmarks_[b].name, data.benchmarks_[b].mode, m, b);
    }
  }
  std::sort(keys.begin(), keys.end());
  work.distribution_of.assign(work.model_names.size(), std::vector<size_t>(benchmark_count, kNone));
  for (const auto& [model, name, mode, m, b] : keys) {
    work.distribution_of[m][b] = report.distributions.size();
    Distribution d;
    d.benchmark = name;
    d.mode = mode;
    d.model = model;
    d.higher_is_better = uses_throughput[b];
    d.unit = uses_throughput[b] ? data.benchmarks_[b].unit : "s";
    report.distributions.push_back(std::move(d));
  }

  // ---- Cells: the observations of one GPU on one benchmark, repetitions folded into medians.
  std::vector<uint32_t> order(data.observations_.size());
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](uint32_t x, uint32_t y) {
    const Observation& a = data.observations_[x];
    const Observation& b = data.observations_[y];
    return std::tie(a.gpu, a.benchmark, x) < std::tie(b.gpu, b.benchmark, y);
  });
  work.throttle_of_gpu.assign(gpu_count, 0);
  std::vector<size_t> cell_at(gpu_count * benchmark_count, kNone);  // [gpu][benchmark] -> cell
  std::vector<double> values, clocks;
  for (size_t i = 0; i < order.size();) {
    const Observation& first = data.observations_[order[i]];
    Cell cell;
    cell.gpu = first.gpu;
    cell.distribution = work.distribution_of[work.model_of_gpu[first.gpu]][first.benchmark];
    values.clear();
    clocks.clear();
    bool failed = false, errored = false, skipped = false, ran = false;
    uint32_t failure = 0, skip = 0;
    Gpu& gpu = report.gpus[first.gpu];
    for (; i < order.size() && data.observations_[order[i]].gpu == first.gpu &&
           data.observations_[order[i]].benchmark == first.benchmark;
         ++i) {
      const Observation& o = data.observations_[order[i]];
      if (std::isfinite(o.temp_c) && !(o.temp_c <= gpu.max_temp_c)) gpu.max_temp_c = o.temp_c;
      work.throttle_of_gpu[o.gpu] |= o.throttle;
      switch (o.status) {
        case CellStatus::ok: {
          ran = true;
          const double v = uses_throughput[o.benchmark] ? o.throughput : o.time_s;
          if (std::isfinite(v) && v > 0) values.push_back(v);
          if (std::isfinite(o.clock_mhz)) clocks.push_back(o.clock_mhz);
          break;
        }
        case CellStatus::failed: failed = true; failure = failure ? failure : o.reason; break;
        case CellStatus::error: errored = true; failure = failure ? failure : o.reason; break;
        default: skipped = true; skip = skip ? skip : o.reason; break;
      }
    }
    cell.status = errored ? CellStatus::error : failed ? CellStatus::failed
                                              : (!ran && skipped) ? CellStatus::skipped : CellStatus::ok;
    if (cell.status != CellStatus::ok) cell.reason = data.reasons_[cell.status == CellStatus::skipped ? skip : failure];
    cell.repetitions = values.size();
    cell.value = median_of(values);
    cell.clock_mhz = median_of(clocks);
    cell_at[first.gpu * benchmark_count + first.benchmark] = report.cells.size();
    report.cells.push_back(std::move(cell));
  }

  // ---- Missing benchmarks: those most GPUs of a model ran (not skipped), absent or skipped on a GPU.
  std::vector<std::vector<std::string>> missing_of_gpu(gpu_count);
  std::vector<size_t> expected_of_gpu(gpu_count);
  for (size_t m = 0; m < work.model_names.size(); ++m) {
    const std::vector<size_t>& model_gpus = work.gpus_of_model[m];
    for (size_t b = 0; b < benchmark_count; ++b) {
      size_t ran = 0;
      for (size_t g : model_gpus) {
        const size_t c = cell_at[g * benchmark_count + b];
        ran += c != kNone && report.cells[c].status != CellStatus::skipped;
      }
      if (2 * ran <= model_gpus.size()) continue;
      const std::string label = benchmark_label(data.benchmarks_[b].name, data.benchmarks_[b].mode);
      for (size_t g : model_gpus) {
        ++expected_of_gpu[g];
        const size_t c = cell_at[g * benchmark_count + b];
        if (c == kNone) {
          Cell cell;
          cell.gpu = g;
          cell.distribution = work.distribution_of[m][b];
          cell.status = CellStatus::missing;
          report.cells.push_back(std::move(cell));
          missing_of_gpu[g].push_back(label);
        } else if (report.cells[c].status == CellStatus::skipped) {
          missing_of_gpu[g].push_back(label + " skipped" +
                                      (report.cells[c].reason.empty() ? "" : " (" + report.cells[c].reason + ")"));
        }
      }
    }
  }

  // ---- Distributions: robust statistics, every GPU's z, slow and low-clock verdicts.
  work.cells_of_distribution.resize(report.distributions.size());
  for (size_t c = 0; c < report.cells.size(); ++c) work.cells_of_distribution[report.cells[c].distribution].push_back(c);
  for (size_t d = 0; d < report.distributions.size(); ++d) {
    Distribution& dist = report.distributions[d];
    values.clear();
    clocks.clear();
    for (size_t c : work.cells_of_distribution[d]) {
      const Cell& cell = report.cells[c];
      if (cell.status != CellStatus::ok) continue;
      if (std::isfinite(cell.value)) values.push_back(cell.value);
      if (std::isfinite(cell.clock_mhz)) clocks.push_back(cell.clock_mhz);
    }
    const Robust r = describe(values, options.sigma_floor, 0);
    dist.count = r.n;
    dist.median = r.median;
    dist.mad = r.mad;
    dist.sigma = r.sigma;
    dist.p5 = r.p5;
    dist.p95 = r.p95;
    dist.min = r.min;
    dist.max = r.max;
    dist.judged = r.n >= options.min_gpus;
    const Robust clock = describe(clocks, options.sigma_floor, 0);
    dist.clock_median_mhz = clock.median;
    dist.clock_sigma_mhz = clock.sigma;
    const bool clock_judged = clock.n >= options.min_gpus;
    for (size_t c : work.cells_of_distribution[d]) {
      Cell& cell = report.cells[c];
      if (cell.status != CellStatus::ok) continue;
      if (std::isfinite(cell.value) && r.sigma > 0) {
        cell.z = (dist.higher_is_better ? cell.value - r.median : r.median - cell.value) / r.sigma;
        cell.relative = dist.higher_is_better ? cell.value / r.median : r.median / cell.value;
        cell.slow = dist.judged && cell.z < -options.k_sigma && cell.relative < 1 - options.slow_fraction;
        dist.slow += cell.slow;
      }
      if (std::isfinite(cell.clock_mhz) && clock.sigma > 0) {
        cell.clock_z = (cell.clock_mhz - clock.median) / clock.sigma;
        cell.clock_relative = cell.clock_mhz / clock.median;
        cell.clock_low = clock_judged && cell.clock_z < -options.k_sigma &&
                         cell.clock_relative < 1 - options.clock_fraction;
      }
    }
  }

  GpuFindings per_gpu(gpu_count);

  // ---- Slow, failing, low clock: per GPU over its cells.
  struct Tally {
    size_t judged = 0, slow = 0, clock_judged = 0, clock_low = 0;
    const Cell* worst_slow = nullptr;
    const Cell* worst_clock = nullptr;
    std::vector<const Cell*> failing;
  };
  std::vector<Tally> tallies(gpu_count);
  for (const Cell& cell : report.cells) {
    Tally& t = tallies[cell.gpu];
    const Distribution& dist = report.distributions[cell.distribution];
    if (dist.judged && std::isfinite(cell.z)) ++t.judged;
    if (cell.slow) {
      ++t.slow;
      if (!t.worst_slow || cell.relative < t.worst_slow->relative) t.worst_slow = &cell;
    }
    if (std::isfinite(cell.clock_z)) ++t.clock_judged;
    if (cell.clock_low) {
      ++t.clock_low;
      if (!t.worst_clock || cell.clock_relative < t.worst_clock->clock_relative) t.worst_clock = &cell;
    }
    if (cell.status == CellStatus::failed || cell.status == CellStatus::error) t.failing.push_back(&cell);
  }
  auto label_of = [&](const Cell& cell) {
    const Distribution& d = report.distributions[cell.distribution];
    return benchmark_label(d.benchmark, d.mode);
  };
  for (size_t g = 0; g < gpu_count; ++g) {
    const Gpu& gpu = report.gpus[g];
    const Tally& t = tallies[g];
    if (t.worst_slow) {
      const Cell& w = *t.worst_slow;
      const Distribution& d = report.distributions[w.distribution];
      Finding f = finding(Reason::slow, gpu,
                          "slow on " + std::to_string(t.slow) + " of " + std::to_string(t.judged) +
                              " benchmarks; worst " + label_of(w) + ": " + number(w.value) + " " + d.unit + ", " +
                              percent(1 - w.relative) + " below the median " + number(d.median) + " (z " +
                              signed_z(w.z) + ")");
      f.benchmark = label_of(w);
      f.value = w.value;
      f.fleet = d.median;
      f.z = w.z;
      per_gpu[g].push_back(std::move(f));
    }
    if (!t.failing.empty()) {
      std::vector<std::string> parts;
      for (size_t i = 0; i < t.failing.size() && i < kListed; ++i) {
        const Cell& c = *t.failing[i];
        parts.push_back(label_of(c) + " " + (c.status == CellStatus::failed ? "failed" : "error") +
                        (c.reason.empty() ? "" : ": " + c.reason));
      }
      if (t.failing.size() > kListed) parts.push_back("and " + std::to_string(t.failing.size() - kListed) + " more");
      Finding f = finding(Reason::failing, gpu,
                          (t.failing.size() > 1 ? std::to_string(t.failing.size()) + " benchmarks failing: " : "") +
                              join(parts, "; "));
      f.benchmark = label_of(*t.failing.front());
      per_gpu[g].push_back(std::move(f));
    }
  }

  // ---- Hot: a GPU's maximum temperature over all its rows, against its model's.
  for (size_t m = 0; m < work.model_names.size(); ++m) {
    values.clear();
    for (size_t g : work.gpus_of_model[m]) {
      if (std::isfinite(report.gpus[g].max_temp_c)) values.push_back(report.gpus[g].max_temp_c);
    }
    const Robust r = describe(values, 0, options.temp_floor_c);
    for (size_t g : work.gpus_of_model[m]) {
      Gpu& gpu = report.gpus[g];
      if (!std::isfinite(gpu.max_temp_c)) continue;
      gpu.temp_z = (gpu.max_temp_c - r.median) / r.sigma;
      std::string detail;
      if (gpu.max_temp_c > options.max_temp_c) {
        detail = "max temperature " + number(gpu.max_temp_c) + " C, above the " + number(options.max_temp_c) +
                 " C limit (median " + number(r.median) + " C)";
      } else if (r.n >= options.min_gpus && gpu.temp_z > options.k_sigma &&
                 gpu.max_temp_c - r.median > options.temp_margin_c) {
        detail = "max temperature " + number(gpu.max_temp_c) + " C, " + number(gpu.max_temp_c - r.median) +
                 " C above the median " + number(r.median) + " C (z " + signed_z(gpu.temp_z) + ")";
      }
      if (detail.empty()) continue;
      Finding f = finding(Reason::hot, gpu, detail);
      f.value = gpu.max_temp_c;
      f.fleet = r.median;
      f.z = gpu.temp_z;
      per_gpu[g].push_back(std::move(f));
    }
  }

  // ---- Throttled: SM clock below its model's on a benchmark, or throttle reasons few GPUs show.
  const std::vector<std::string>& throttle_names = data.throttle_names_;
  for (size_t m = 0; m < work.model_names.size(); ++m) {
    std::vector<size_t> having(throttle_names.size());
    for (size_t g : work.gpus_of_model[m]) {
      for (size_t bit = 0; bit < throttle_names.size(); ++bit) having[bit] += (work.throttle_of_gpu[g] >> bit) & 1;
    }
    for (size_t g : work.gpus_of_model[m]) {
      Gpu& gpu = report.gpus[g];
      std::vector<std::string> flagged;
      for (size_t bit = 0; bit < throttle_names.size(); ++bit) {
        if (!((work.throttle_of_gpu[g] >> bit) & 1)) continue;
        gpu.throttle_reasons.push_back(throttle_names[bit]);
        if (severe_throttle(throttle_names[bit])) {
          flagged.push_back(throttle_names[bit]);
        } else if (2 * having[bit] < work.gpus_of_model[m].size()) {
          flagged.push_back(throttle_names[bit] + " (on " + std::to_string(having[bit]) + " of " +
                            std::to_string(work.gpus_of_model[m].size()) + " GPUs)");
        }
      }
      const Tally& t = tallies[g];
      std::vector<std::string> parts;
      if (t.worst_clock) {
        const Cell& w = *t.worst_clock;
        const Distribution& d = report.distributions[w.distribution];
        parts.push_back("SM clock " + number(w.clock_mhz) + " MHz on " + label_of(w) + ", " +
                        percent(1 - w.clock_relative) + " below the median " + number(d.clock_median_mhz) +
                        " MHz (z " + signed_z(w.clock_z) + "), low on " + std::to_string(t.clock_low) + " of " +
                        std::to_string(t.clock_judged) + " benchmarks");
      }
      if (!flagged.empty()) parts.push_back("throttle reasons: " + join(flagged, ", "));
      if (parts.empty()) continue;
      Finding f = finding(Reason::throttled, gpu, join(parts, "; "));
      if (t.worst_clock) {
        f.benchmark = label_of(*t.worst_clock);
        f.value = t.worst_clock->clock_mhz;
        f.fleet = report.distributions[t.worst_clock->distribution].clock_median_mhz;
        f.z = t.worst_clock->clock_z;
      }
      per_gpu[g].push_back(std::move(f));
    }
  }

  // ---- Missing benchmarks on a GPU.
  for (size_t g = 0; g < gpu_count; ++g) {
    const std::vector<std::string>& missing = missing_of_gpu[g];
    if (missing.empty()) continue;
    std::vector<std::string> listed(missing.begin(), missing.begin() + std::min(missing.size(), kListed));
    if (missing.size() > kListed) listed.push_back("and " + std::to_string(missing.size() - kListed) + " more");
    Finding f = finding(Reason::missing, report.gpus[g],
                        std::to_string(missing.size()) + " of " + std::to_string(expected_of_gpu[g]) +
                            " benchmarks most GPUs of its model ran: " + join(listed, "; ") +
                            (report.gpus[g].complete ? "" : " (its run stopped early)"));
    f.benchmark = missing.front();
    per_gpu[g].push_back(std::move(f));
  }

  // ---- Odd provenance: versions, model, clock policy unlike what a strict majority of GPUs has.
  {
    std::map<std::string, std::map<std::string, size_t>> counts;  // key -> value -> GPUs
    for (const Gpu& gpu : report.gpus) {
      for (const auto& [key, value] : gpu.environment) counts[key];
    }
    for (auto& [key, by_value] : counts) {
      for (const Gpu& gpu : report.gpus) {
        auto it = gpu.environment.find(key);
        ++by_value[it == gpu.environment.end() ? "" : it->second];
      }
      auto top = std::max_element(by_value.begin(), by_value.end(),
                                  [](const auto& a, const auto& b) { return a.second < b.second; });
      if (2 * top->second > gpu_count) {
        report.majority_environment[key] = top->first;
      } else {
        std::vector<std::pair<size_t, std::string>> shares;
        for (const auto& [value, n] : by_value) shares.emplace_back(n, value);
        std::sort(shares.rbegin(), shares.rend());
        std::vector<std::string> parts;
        for (size_t i = 0; i < shares.size() && i < kListed; ++i) {
          parts.push_back((shares[i].second.empty() ? "(none)" : shares[i].second) + " on " +
                          std::to_string(shares[i].first) + " GPUs");
        }
        report.notes.push_back("no majority for " + key + ": " + join(parts, ", ") +
                               (shares.size() > kListed ? ", ..." : "") + "; nobody is called odd for it");
      }
    }
    for (size_t g = 0; g < gpu_count; ++g) {
      const Gpu& gpu = report.gpus[g];
      std::vector<std::string> parts;
      for (const auto& [key, majority] : report.majority_environment) {
        auto it = gpu.environment.find(key);
        const std::string value = it == gpu.environment.end() ? "" : it->second;
        if (value != majority) {
          parts.push_back(key + " " + (value.empty() ? "(none)" : value) + " (fleet: " +
                          (majority.empty() ? "(none)" : majority) + ")");
        }
      }
      if (!parts.empty()) per_gpu[g].push_back(finding(Reason::odd_provenance, gpu, join(parts, "; ")));
    }
  }

  // ---- Slow nodes: per distribution, a node's median over its GPUs against the other nodes'
  // medians (a node-wide slowdown too small to single out any one GPU stands out here), and a node
  // whose every GPU is slow. Either is one finding about the node.
  std::map<std::string, Finding> slow_nodes;
  {
    struct NodeTally {
      size_t judged = 0, slow = 0;
      double worst_relative = kNaN, worst_value = kNaN, worst_median = kNaN, worst_z = kNaN;
      std::string worst_benchmark, worst_unit;
    };
    std::map<std::string, NodeTally> tallies_of_node;
    std::map<std::string, std::vector<double>> node_values;
    std::vector<double> medians;
    for (size_t d = 0; d < report.distributions.size(); ++d) {
      const Distribution& dist = report.distributions[d];
      node_values.clear();
      for (size_t c : work.cells_of_distribution[d]) {
        const Cell& cell = report.cells[c];
        if (cell.status == CellStatus::ok && std::isfinite(cell.value)) node_values[report.gpus[cell.gpu].node].push_back(cell.value);
      }
      medians.clear();
      for (const auto& [node, v] : node_values) medians.push_back(median_of(v));
      const Robust r = describe(medians, options.sigma_floor, 0);
      if (r.n < options.min_gpus || !(r.sigma > 0)) continue;
      for (const auto& [node, v] : node_values) {
        const double value = median_of(v);
        const double z = (dist.higher_is_better ? value - r.median : r.median - value) / r.sigma;
        const double relative = dist.higher_is_better ? value / r.median : r.median / value;
        NodeTally& t = tallies_of_node[node];
        ++t.judged;
        if (!(z < -options.k_sigma && relative < 1 - options.slow_fraction)) continue;
        ++t.slow;
        if (!(relative >= t.worst_relative)) {
          t.worst_relative = relative;
          t.worst_value = value;
          t.worst_median = r.median;
          t.worst_z = z;
          t.worst_benchmark = benchmark_label(dist.benchmark, dist.mode);
          t.worst_unit = dist.unit;
        }
      }
    }
    for (const auto& [node, gpus] : gpus_of_node) {
      const size_t slow_gpus = static_cast<size_t>(std::count_if(gpus.begin(), gpus.end(), [&](size_t g) {
        return std::any_of(per_gpu[g].begin(), per_gpu[g].end(), [](const Finding& f) { return f.reason == Reason::slow; });
      }));
      const bool all_slow = gpus.size() >= 2 && slow_gpus == gpus.size();
      const auto t = tallies_of_node.find(node);
      const bool median_slow = t != tallies_of_node.end() && t->second.slow > 0;
      if (!all_slow && !median_slow) continue;
      std::vector<std::string> parts;
      if (all_slow) parts.push_back("all " + std::to_string(gpus.size()) + " GPUs slow");
      if (median_slow) {
        const NodeTally& n = t->second;
        parts.push_back("the node's median over its GPUs slow on " + std::to_string(n.slow) + " of " + std::to_string(n.judged) +
                        " benchmarks against the other nodes'; worst " + n.worst_benchmark + ": " + number(n.worst_value) + " " +
                        n.worst_unit + ", " + percent(1 - n.worst_relative) + " below the median node " + number(n.worst_median) +
                        " (z " + signed_z(n.worst_z) + ")");
      }
      Finding f{Reason::slow, {}, "", kNaN, kNaN, kNaN,
                "node-wide: " + join(parts, "; ") + " (look at what the GPUs share: power, cooling, PCIe, firmware)"};
      if (median_slow) {
        f.benchmark = t->second.worst_benchmark;
        f.value = t->second.worst_value;
        f.fleet = t->second.worst_median;
        f.z = t->second.worst_z;
      }
      slow_nodes.emplace(node, std::move(f));
    }
  }

  // ---- Nodes: GPUs missing against what most nodes report; every finding gathered per node, a
  // finding that several GPUs share in the same words listed once with all of them.
  std::map<size_t, size_t> nodes_with;  // GPUs reported -> nodes
  for (const auto& [node, gpus] : gpus_of_node) ++nodes_with[gpus.size()];
  for (const auto& [gpus, nodes] : nodes_with) {
    if (nodes >= nodes_with[report.usual_gpus_per_node]) report.usual_gpus_per_node = gpus;
  }
  for (const auto& [node, gpus] : gpus_of_node) {
    NodeVerdict verdict;
    verdict.node = node;
    verdict.gpus = gpus.size();
    for (Reason reason : kReasons) {
      if (reason == Reason::missing && gpus.size() < report.usual_gpus_per_node) {
        Finding f{Reason::missing, {}, "", static_cast<double>(gpus.size()),
                  static_cast<double>(report.usual_gpus_per_node), kNaN,
                  "reported " + std::to_string(gpus.size()) + " GPU" + (gpus.size() == 1 ? "" : "s") +
                      "; most nodes report " + std::to_string(report.usual_gpus_per_node)};
        verdict.findings.push_back(std::move(f));
      }
      if (auto slow = slow_nodes.find(node); reason == Reason::slow && slow != slow_nodes.end()) {
        verdict.findings.push_back(std::move(slow->second));
      }
      for (size_t g : gpus) {
        for (Finding& f : per_gpu[g]) {
          if (f.reason != reason) continue;
          auto same = std::find_if(verdict.findings.begin(), verdict.findings.end(), [&](const Finding& other) {
            return other.reason == f.reason && other.detail == f.detail && !other.gpus.empty();
          });
          if (same != verdict.findings.end()) {
            same->gpus.push_back(f.gpus.front());
          } else {
            verdict.findings.push_back(std::move(f));
          }
        }
      }
    }
    if (!verdict.findings.empty()) report.outliers.push_back(std::move(verdict));
  }

  // ---- Notes, and the cells in the order the CSV lists them.
  report.job_wide_rows = data.job_wide_rows_;
  if (report.job_wide_rows) {
    report.notes.push_back(std::to_string(report.job_wide_rows) +
                           " measurement(s) of job-wide collectives (several ranks, one row) are not a GPU's: they are "
                           "in no distribution here (aicbench report and compare show them)");
  }
  if (report.models.size() > 1) {
    report.notes.push_back(std::to_string(report.models.size()) +
                           " GPU models: every distribution is over the GPUs of one model");
  }
  size_t unjudged = 0;
  for (const Distribution& d : report.distributions) unjudged += d.count > 0 && !d.judged;
  if (unjudged) {
    report.notes.push_back(std::to_string(unjudged) + " distribution(s) over fewer than " +
                           std::to_string(options.min_gpus) + " GPUs: shown, but nobody is called slow there");
  }
  std::sort(report.cells.begin(), report.cells.end(), [](const Cell& a, const Cell& b) {
    return std::tie(a.gpu, a.distribution) < std::tie(b.gpu, b.distribution);
  });
  return report;
}

}  // namespace aicbench::fleet
