#include "reports/sizing_hardware.hpp"

#include <algorithm>
#include <cmath>
#include <set>
#include <tuple>

#include "reports/result_rows.hpp"
#include "reports/text_format.hpp"

namespace aicbench::sizing {

using json = nlohmann::json;
using reports::sig3;

namespace {

double log_volume(double m, double n, double k) { return std::log(m) + std::log(n) + std::log(k); }

double shape_distance(const GemmPoint& p, double m, double n, double k) {
  const double dm = std::log(p.m / m), dn = std::log(p.n / n), dk = std::log(p.k / k);
  return dm * dm + dn * dn + dk * dk;
}

std::string shape_text(double m, double n, double k) {
  auto one = [](double v) { return v == std::floor(v) ? reports::whole_number(v) : sig3(v); };
  return one(m) + "x" + one(n) + "x" + one(k);
}

std::string point_text(const GemmPoint& p) { return shape_text(p.m, p.n, p.k) + " (" + sig3(p.tflops) + " TFLOP/s)"; }

double median_of(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  const size_t n = values.size();
  return n % 2 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
}

std::optional<double> number(const json& object, const char* key) {
  if (!object.is_object() || !object.contains(key) || !object[key].is_number()) return std::nullopt;
  return object[key].get<double>();
}

}  // namespace

std::string_view to_string(Source source) {
  switch (source) {
    case Source::measured: return "measured";
    case Source::interpolated: return "interpolated";
    case Source::clamped: return "clamped";
    case Source::derived: return "derived";
    case Source::datasheet: return "DATASHEET";
    case Source::assumed: return "ASSUMED";
    case Source::option: return "option";
  }
  return "";
}

// ---------------------------------------------------------------------------------------------
// GEMM

void GemmTable::add(GemmPoint point) {
  cache_.clear();
  const double v = log_volume(point.m, point.n, point.k);
  auto at = std::upper_bound(points_.begin(), points_.end(), v,
                             [](double value, const GemmPoint& p) { return value < log_volume(p.m, p.n, p.k); });
  points_.insert(at, std::move(point));
}

double GemmTable::max_tflops() const {
  double best = 0;
  for (const GemmPoint& p : points_) best = std::max(best, p.tflops);
  return best;
}

Rate GemmTable::rate(double m, double n, double k) const {
  const auto key = std::make_tuple(m, n, k);
  if (auto it = cache_.find(key); it != cache_.end()) return it->second;
  return cache_.emplace(key, lookup(m, n, k)).first->second;
}

Rate GemmTable::lookup(double m, double n, double k) const {
  const double v = log_volume(m, n, k);
  // The measured point nearest in shape among those whose volume is `volume` (within rounding).
  auto nearest_at = [&](double volume) {
    const GemmPoint* best = nullptr;
    for (const GemmPoint& p : points_) {
      if (std::abs(log_volume(p.m, p.n, p.k) - volume) > 1e-9) continue;
      if (!best || shape_distance(p, m, n, k) < shape_distance(*best, m, n, k)) best = &p;
    }
    return best;
  };
  for (const GemmPoint& p : points_) {
    if (p.m == m && p.n == n && p.k == k) return {p.tflops, Source::measured, p.row};
  }
  const double v_min = log_volume(points_.front().m, points_.front().n, points_.front().k);
  const double v_max = log_volume(points_.back().m, points_.back().n, points_.back().k);
  if (v <= v_min) {
    const GemmPoint& p = *nearest_at(v_min);
    // The smallest measured GEMM's time is a floor: a smaller one is not faster than it.
    return {p.tflops * std::exp(v - v_min), Source::clamped,
            "below the smallest measured volume: the time of " + point_text(p)};
  }
  if (v >= v_max) {
    const GemmPoint& p = *nearest_at(v_max);
    return {p.tflops, Source::clamped, "above the largest measured volume: the rate of " + point_text(p)};
  }
  double below = v_min, above = v_max;
  for (const GemmPoint& p : points_) {
    const double pv = log_volume(p.m, p.n, p.k);
    if (pv <= v) below = std::max(below, pv);
    if (pv >= v) above = std::min(above, pv);
  }
  const GemmPoint& lo = *nearest_at(below);
  const GemmPoint& hi = *nearest_at(above);
  if (above - below < 1e-9) return {lo.tflops, Source::interpolated, "same volume as " + point_text(lo)};
  const double w = (v - below) / (above - below);
  return {lo.tflops + w * (hi.tflops - lo.tflops), Source::interpolated,
          "between " + point_text(lo) + " and " + point_text(hi) + " in log(M N K)"};
}

// ---------------------------------------------------------------------------------------------
// Candidate

double Candidate::peak(const std::string& dtype) const {
  auto it = peak_tflops.find(dtype);
  if (it == peak_tflops.end() || !(it->second > 0)) {
    throw InputError("candidate " + name + " (" + gpu_name + "): no dense datasheet peak for " + dtype +
                     " (" + (peak_source.empty() ? "no datasheet in specs/gpus/ matches the GPU" : peak_source) + ")");
  }
  return it->second;
}

std::optional<Rate> Candidate::power(const std::string& dtype) const {
  auto table = gemm.find(dtype);
  if (table != gemm.end()) {
    const double fastest = table->second.max_tflops();
    std::vector<double> watts;
    for (const GemmPoint& p : table->second.points()) {
      if (p.power_w && *p.power_w > 0 && p.tflops >= 0.8 * fastest) watts.push_back(*p.power_w);
    }
    if (!watts.empty()) {
      return Rate{median_of(watts), Source::measured,
                  "median power_w of " + std::to_string(watts.size()) + " " + dtype +
                      " GEMM rows at 80 % or more of the fastest rate"};
    }
  }
  if (datasheet && datasheet->tdp_w) {
    return Rate{*datasheet->tdp_w, Source::datasheet,
                "no measured power_w: the datasheet's TDP (" + datasheet->board_source + ")"};
  }
  return std::nullopt;
}

Candidate load_candidate(const std::string& name, const std::vector<ResultFile>& files, const CandidateOptions& options) {
  Candidate c;
  c.name = name;
  std::vector<std::string> paths;
  for (const ResultFile& f : files) paths.push_back(f.path.string());
  c.files = paths;
  const std::string where = "candidate " + name + " (" + reports::join(paths, ", ") + ")";

  std::optional<double> memory;
  std::string memory_file;
  for (const ResultFile& f : files) {
    const json& p = f.provenance();
    if (p.value("backend", "") != "cuda") {
      throw InputError(f.path.string() + ": field 'context.aicbench.backend' is '" + p.value("backend", "") +
                       "', expected cuda: `aicbench size` sizes GPUs from GPU results (a CPU run's numbers describe the CPU)");
    }
    const json gpus = p.value("gpus", json::array());
    if (!gpus.is_array() || gpus.empty() || !gpus[0].is_object() || !gpus[0].contains("name")) {
      throw InputError(f.path.string() + ": field 'context.aicbench.gpus' lists no GPU with a name; the candidate's GPU is "
                       "read from it");
    }
    const std::string gpu = gpus[0]["name"].get<std::string>();
    if (c.gpu_name.empty()) c.gpu_name = gpu;
    if (gpu != c.gpu_name) {
      throw InputError(where + ": the files hold different GPUs ('" + c.gpu_name + "' and '" + gpu +
                       "'); give each GPU model as its own --candidate");
    }
    if (!memory) {
      memory = number(gpus[0], "memory_bytes");
      memory_file = f.path.string();
    }
    if (p.value("fixture", false) == true) {
      c.fixture = true;
      if (c.fixture_note.empty()) c.fixture_note = p.value("fixture_note", std::string("(no note)"));
    }
  }

  c.datasheet = find_datasheet(c.gpu_name);
  if (c.datasheet) {
    c.peak_tflops = c.datasheet->peak_tflops;
    c.peak_source = "datasheet: " + c.datasheet->sku + " (" + c.datasheet->source + ")";
  }
  if (memory && *memory > 0) {
    c.memory_bytes = {*memory, Source::measured, "gpus[0].memory_bytes in " + memory_file};
  } else if (c.datasheet && c.datasheet->memory_gb) {
    c.memory_bytes = {*c.datasheet->memory_gb * 1e9, Source::datasheet, c.datasheet->board_source};
  } else {
    throw InputError(where + ": no GPU memory size: the files' gpus[0].memory_bytes is missing and no datasheet in "
                     "specs/gpus/ gives memory_gb for '" + c.gpu_name + "'");
  }

  // GEMM rows per dtype, impl and shape; repetitions of one row become their median.
  struct Key {
    std::string dtype, impl;
    int64_t m, n, k;
    bool operator<(const Key& o) const { return std::tie(dtype, impl, m, n, k) < std::tie(o.dtype, o.impl, o.m, o.n, o.k); }
  };
  struct Values {
    std::vector<double> tflops, power;
    bool vendor = false;
    std::string row, file;
    std::string mode;
  };
  std::map<Key, Values> rows;
  std::map<std::string, double> derived_peaks;  // from pct_of_peak where no datasheet matched
  size_t not_ok = 0;
  for (size_t i = 0; i < files.size(); ++i) {
    for (const ResultRow& row : result_rows(files[i], i)) {
      if (row.aggregate || row.family != "gemm") {
        if (!row.aggregate && row.family == "attention" && row.ok() && row.tflops && *row.tflops > 0) {
          auto get = [&](const char* p) { auto it = row.params.find(p); return it == row.params.end() ? int64_t{0} : it->second; };
          if ((row.dtype == "bf16" || row.dtype == "fp16") && get("Sq") > 0 && get("Sq") == get("Sk") && get("D") > 0) {
            c.attention.push_back({get("Sq"), get("D"), get("causal") != 0, *row.tflops, row.name, files[i].path.string()});
          }
        }
        continue;
      }
      if (!row.ok() || !row.tflops || !(*row.tflops > 0)) {
        ++not_ok;
        continue;
      }
      auto get = [&](const char* p) { auto it = row.params.find(p); return it == row.params.end() ? int64_t{0} : it->second; };
      if (get("M") <= 0 || get("N") <= 0 || get("K") <= 0) continue;
      if (row.pct_of_peak && *row.pct_of_peak > 0) derived_peaks[row.dtype] = *row.tflops / (*row.pct_of_peak / 100);
      Values& v = rows[{row.dtype, row.impl, get("M"), get("N"), get("K")}];
      // Cold (caches flushed) where a shape has both modes: the suites' default, and the
      // conservative one.
      if (!v.mode.empty() && v.mode != row.mode) {
        if (row.mode != "cold") continue;
        if (v.mode != "cold") v = Values{};
      }
      v.mode = row.mode;
      v.tflops.push_back(*row.tflops);
      if (row.power_w) v.power.push_back(*row.power_w);
      v.vendor = row.vendor;
      v.row = row.name;
      v.file = files[i].path.string();
    }
  }
  if (not_ok > 0) c.notes.push_back(std::to_string(not_ok) + " GEMM rows left out: not ok or without tflops");
  if (c.peak_tflops.empty() && !derived_peaks.empty()) {
    c.peak_tflops = derived_peaks;
    c.peak_source = "derived from the rows' pct_of_peak (no datasheet in specs/gpus/ matches '" + c.gpu_name + "')";
  }

  // Per dtype and shape, the implementation chosen by --gemm-impl.
  std::set<std::string> dtypes;
  for (const auto& [key, v] : rows) dtypes.insert(key.dtype);
  for (const std::string& dtype : dtypes) {
    bool any_vendor = false, any_named = false;
    for (const auto& [key, v] : rows) {
      if (key.dtype != dtype) continue;
      any_vendor |= v.vendor;
      any_named |= key.impl == options.gemm_impl;
    }
    std::map<std::tuple<int64_t, int64_t, int64_t>, GemmPoint> best;
    for (const auto& [key, v] : rows) {
      if (key.dtype != dtype) continue;
      const std::string& mode = options.gemm_impl;
      if (mode == "vendor" && any_vendor && !v.vendor) continue;
      if (mode != "vendor" && mode != "best" && key.impl != mode) continue;
      GemmPoint p{static_cast<double>(key.m), static_cast<double>(key.n), static_cast<double>(key.k), median_of(v.tflops),
                  v.power.empty() ? std::nullopt : std::optional<double>(median_of(v.power)), v.row, v.file};
      auto [it, fresh] = best.try_emplace({key.m, key.n, key.k}, p);
      if (!fresh && p.tflops > it->second.tflops) it->second = p;
    }
    if (options.gemm_impl == "vendor" && !any_vendor) {
      c.notes.push_back(dtype + " GEMM: no vendor (cuBLAS) rows, the fastest implementation per shape is used");
    }
    if (options.gemm_impl != "vendor" && options.gemm_impl != "best" && !any_named) continue;
    for (auto& [shape, p] : best) c.gemm[dtype].add(std::move(p));
  }
  if (c.gemm.empty()) {
    throw InputError(where + ": no ok GEMM row" +
                     (options.gemm_impl == "vendor" || options.gemm_impl == "best" ? std::string()
                                                                                     : " of --gemm-impl " + options.gemm_impl) +
                     " (family gemm with M, N, K and tflops): the step time is built from the candidate's GEMM rates");
  }
  c.collectives = model::collective_points(files, "");
  return c;
}

Rate attention_rate(const Candidate& c, int64_t seq, int64_t head_dim, double fallback_fraction) {
  if (c.attention.empty()) {
    auto bf16 = c.gemm.find("bf16");
    const GemmTable& table = bf16 != c.gemm.end() ? bf16->second : c.gemm.begin()->second;
    const std::string dtype = bf16 != c.gemm.end() ? "bf16" : c.gemm.begin()->first;
    return {fallback_fraction * table.max_tflops(), Source::derived,
            "no attention rows: " + sig3(100 * fallback_fraction) + " % of the fastest " + dtype + " GEMM rate (" +
                sig3(table.max_tflops()) + " TFLOP/s), an assumption (--attention-fraction)"};
  }
  // Rows at the head width nearest this one (log distance), causal rows first.
  double best_distance = 1e300;
  for (const AttentionPoint& p : c.attention) {
    best_distance = std::min(best_distance, std::abs(std::log(static_cast<double>(p.head_dim) / head_dim)));
  }
  std::vector<const AttentionPoint*> near;
  for (const AttentionPoint& p : c.attention) {
    if (std::abs(std::abs(std::log(static_cast<double>(p.head_dim) / head_dim)) - best_distance) < 1e-9) near.push_back(&p);
  }
  const bool any_causal = std::any_of(near.begin(), near.end(), [](const AttentionPoint* p) { return p->causal; });
  std::map<int64_t, std::vector<const AttentionPoint*>> by_seq;
  for (const AttentionPoint* p : near) {
    if (p->causal == any_causal) by_seq[p->seq].push_back(p);
  }
  auto rate_at = [&](int64_t s) {
    std::vector<double> values;
    for (const AttentionPoint* p : by_seq[s]) values.push_back(p->tflops);
    return median_of(values);
  };
  const std::string what = std::string(any_causal ? "causal" : "non-causal (no causal rows)") + " attention rows at D=" +
                           std::to_string(near.front()->head_dim) +
                           (near.front()->head_dim == head_dim ? "" : " (nearest to " + std::to_string(head_dim) + ")");
  if (by_seq.count(seq)) return {rate_at(seq), Source::measured, what + ", S=" + std::to_string(seq)};
  if (seq < by_seq.begin()->first) {
    return {rate_at(by_seq.begin()->first), Source::clamped, what + ": the shortest measured, S=" + std::to_string(by_seq.begin()->first)};
  }
  if (seq > by_seq.rbegin()->first) {
    return {rate_at(by_seq.rbegin()->first), Source::clamped, what + ": the longest measured, S=" + std::to_string(by_seq.rbegin()->first)};
  }
  auto hi = by_seq.lower_bound(seq);
  auto lo = std::prev(hi);
  const double w = std::log(static_cast<double>(seq) / lo->first) / std::log(static_cast<double>(hi->first) / lo->first);
  const double r = rate_at(lo->first) + w * (rate_at(hi->first) - rate_at(lo->first));
  return {r, Source::interpolated,
          what + ", between S=" + std::to_string(lo->first) + " and S=" + std::to_string(hi->first) + " in log(S)"};
}

}  // namespace aicbench::sizing
