#include "reports/report.hpp"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <utility>

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

namespace aicbench::reports {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// ==== Reading fields: every field but the few that check_result_json guarantees may be absent.

const json& field(const json& j, const char* key) {
  static const json kNull;
  return j.is_object() && j.contains(key) ? j.at(key) : kNull;
}

std::string text(const json& j, const char* key) {
  const json& v = field(j, key);
  if (v.is_null()) return "";
  if (v.is_string()) return v.get<std::string>();
  if (v.is_boolean()) return v.get<bool>() ? "yes" : "no";
  return v.dump();
}

std::optional<double> number(const json& j, const char* key) {
  const json& v = field(j, key);
  if (!v.is_number()) return std::nullopt;
  double d = v.get<double>();
  return std::isfinite(d) ? std::optional<double>(d) : std::nullopt;
}

std::string printf_double(const char* format, double v) {
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, format, v);
  return buffer;
}

// Three significant digits without an exponent in the usual range: 0.412, 5.20, 51.2, 512, 1234.
std::string sig3(double v) {
  double a = std::fabs(v);
  if (a == 0) return "0";
  if (a >= 100) return printf_double("%.0f", v);
  if (a >= 1e-4) return printf_double("%#.3g", v);
  return printf_double("%.2e", v);
}

std::string gib(double bytes) { return sig3(bytes / (1024.0 * 1024.0 * 1024.0)) + " GiB"; }

void replace_all(std::string& s, const std::string& from, const std::string& to) {
  for (size_t at = s.find(from); at != std::string::npos; at = s.find(from, at + to.size())) s.replace(at, from.size(), to);
}

std::string join(const std::vector<std::string>& parts, const std::string& separator) {
  std::string out;
  for (const auto& part : parts) {
    if (part.empty()) continue;
    if (!out.empty()) out += separator;
    out += part;
  }
  return out;
}

// ==== Provenance: one list of (label, plain text) per file, shared by the Markdown and HTML pages.

using Items = std::vector<std::pair<std::string, std::string>>;

std::string describe_gpu(const json& gpu) {
  std::vector<std::string> details;
  if (auto cc = text(gpu, "compute_capability"); !cc.empty()) details.push_back("CC " + cc);
  if (auto sms = number(gpu, "sm_count")) details.push_back(sig3(*sms) + " SMs");
  if (auto mem = number(gpu, "memory_bytes")) details.push_back(gib(*mem));
  if (auto clk = number(gpu, "max_sm_clock_mhz")) details.push_back(sig3(*clk) + " MHz");
  if (field(gpu, "ecc_enabled").is_boolean()) details.push_back(text(gpu, "ecc_enabled") == "yes" ? "ECC on" : "ECC off");
  std::string name = text(gpu, "name");
  return (name.empty() ? "unnamed GPU" : name) + (details.empty() ? "" : " (" + join(details, ", ") + ")");
}

Items provenance_items(const ResultFile& file) {
  const json& p = file.provenance();
  Items items;
  const json& host = field(p, "host");
  std::vector<std::string> cpu = {text(host, "cpu_model")};
  if (auto cores = number(host, "cpu_cores")) {
    cpu.push_back(std::to_string(static_cast<long long>(*cores)) + " hardware threads");
  }
  if (auto mem = number(host, "memory_bytes")) cpu.push_back(gib(*mem));
  items.emplace_back("Host", join({text(host, "hostname"), text(host, "os"), join(cpu, ", ")}, " · "));

  // Identical GPUs are counted, not listed one by one: a node has eight of the same.
  std::vector<std::pair<std::string, int>> gpus;
  for (const auto& gpu : field(p, "gpus")) {
    std::string d = describe_gpu(gpu);
    auto it = std::find_if(gpus.begin(), gpus.end(), [&](const auto& g) { return g.first == d; });
    if (it == gpus.end()) gpus.emplace_back(d, 1); else ++it->second;
  }
  std::vector<std::string> gpu_text;
  for (const auto& [d, count] : gpus) gpu_text.push_back((count > 1 ? std::to_string(count) + " × " : "") + d);
  std::string no_gpu = text(p, "gpu_unavailable_reason");
  items.emplace_back("GPUs", gpu_text.empty() ? "none: " + (no_gpu.empty() ? "no reason recorded" : no_gpu)
                                              : join(gpu_text, "; "));
  std::string backend_reason = text(p, "backend_reason");
  items.emplace_back("Backend", text(p, "backend") + (backend_reason.empty() ? "" : " (" + backend_reason + ")"));
  std::vector<std::string> versions;
  if (field(p, "versions").is_object()) {
    for (const auto& [name, value] : field(p, "versions").items()) {
      versions.push_back(name + " " + (value.is_string() ? value.get<std::string>() : value.dump()));
    }
  }
  items.emplace_back("Versions", join(versions, ", "));
  std::string suite_version = text(p, "suite_version");
  items.emplace_back("Suite", text(p, "suite") + (suite_version.empty() ? "" : " (version " + suite_version + ")"));
  std::string dirty = field(p, "git_dirty") == true ? " (dirty tree)" : "";
  items.emplace_back("aicbench", join({text(p, "aicbench_version"), "commit " + text(p, "git_commit") + dirty}, ", "));
  items.emplace_back("Command", text(p, "command_line"));
  if (const json& m = field(p, "methodology"); m.is_object()) {
    std::string rule = "at least " + text(m, "min_samples") + " samples and " + text(m, "min_time_s") +
                       " s measured, until the noise is under " + printf_double("%.2g", 100 * number(m, "max_noise").value_or(0)) +
                       " % or it stops changing, at most " + text(m, "timeout_s") + " s; samples below " +
                       printf_double("%.0f", 100 * number(m, "throttle_threshold").value_or(0)) +
                       " % of max SM clock discarded; " + text(m, "repetitions") + " repetition(s); " + text(m, "timer");
    items.emplace_back("Methodology", rule);
  }
  if (const json& t = field(p, "telemetry"); t.is_object()) {
    items.emplace_back("Telemetry", t.value("available", false)
                                        ? text(t, "source") + ", clock policy: " + text(t, "clock_policy")
                                        : "unavailable: " + text(t, "reason"));
  }
  if (auto ranks = number(p, "ranks"); ranks && *ranks > 1) items.emplace_back("Rank", text(p, "rank") + " of " + text(p, "ranks"));
  items.emplace_back("Started", text(p, "start_time"));
  items.emplace_back("Ended", text(p, "end_time").empty() ? "not recorded" : text(p, "end_time"));
  const json& complete = field(p, "complete");
  items.emplace_back("Complete", complete.is_boolean() ? (complete.get<bool>() ? "yes" : "no: the run stopped early")
                                                       : "not recorded");
  std::erase_if(items, [](const auto& item) { return item.second.empty(); });
  return items;
}

bool incomplete(const ResultFile& file) { return field(file.provenance(), "complete") == false; }

// What the files' machines are called in series names and in the Run column.
std::string device_of(const ResultFile& file) {
  const json& gpus = field(file.provenance(), "gpus");
  if (gpus.is_array() && !gpus.empty()) return text(gpus[0], "name");
  std::string cpu = text(field(file.provenance(), "host"), "cpu_model");
  return cpu.empty() ? "CPU" : cpu;
}
std::string host_of(const ResultFile& file) { return text(field(file.provenance(), "host"), "hostname"); }

// ==== Rows of the table: one per benchmark. With repetitions, Google Benchmark's median
// aggregate stands for its runs; the other aggregates (mean, stddev, cv) are left out.

struct Row {
  size_t file;
  const json* entry;
  std::string name, family, impl, dtype, status;
  bool unstable;  // measured, but its noise stayed above the target
};

std::vector<Row> collect_rows(const std::vector<ResultFile>& files) {
  std::vector<Row> rows;
  for (size_t f = 0; f < files.size(); ++f) {
    std::set<std::string> has_median;
    for (const auto& b : files[f].benchmarks()) {
      if (text(b, "run_type") == "aggregate" && text(b, "aggregate_name") == "median") has_median.insert(text(b, "run_name"));
    }
    for (const auto& b : files[f].benchmarks()) {
      bool aggregate = text(b, "run_type") == "aggregate";
      if (aggregate && text(b, "aggregate_name") != "median") continue;
      if (!aggregate && has_median.count(text(b, "run_name"))) continue;
      const json& info = b.at("aicbench");
      rows.push_back({f, &b, aggregate ? text(b, "run_name") : text(b, "name"), text(info, "family"),
                      text(info, "impl"), text(info, "dtype"), text(info, "status"),
                      field(info, "unstable") == true});
    }
  }
  return rows;
}

std::string shape_of(const json& params) {
  if (!params.is_object() || params.empty()) return "";
  if (params.size() == 3 && params.contains("M") && params.contains("N") && params.contains("K")) {
    return text(params, "M") + "x" + text(params, "N") + "x" + text(params, "K");
  }
  std::vector<std::string> parts;
  for (const auto& [key, value] : params.items()) parts.push_back(key + "=" + (value.is_string() ? value.get<std::string>() : value.dump()));
  return join(parts, " ");
}

// Status and why: "failed: validation failed: ... (measured max_rel_err 3.0e-01, tolerance 1.0e-05)".
std::string status_text(const Row& row) {
  if (row.status == kStatusOk) return row.status;
  const json& info = row.entry->at("aicbench");
  std::string reason = text(info, "reason");
  if (reason.empty()) reason = text(*row.entry, "error_message");
  const json& validation = field(info, "validation");
  auto err = number(validation, "max_rel_err");
  auto tol = number(validation, "tolerance");
  if (row.status == kStatusFailed && err && tol) {
    reason += " (measured max_rel_err " + printf_double("%.1e", *err) + ", tolerance " + printf_double("%.1e", *tol) + ")";
  }
  return row.status + (reason.empty() ? "" : ": " + reason);
}

struct Column { const char* header; const char* css_class; };  // "num": right-aligned in both pages
const std::vector<Column> kColumns = {
    {"Benchmark", "name"}, {"Impl", ""}, {"Dtype", ""}, {"Shape", ""}, {"Mode", ""},
    {"Median", "num"}, {"Noise", "num"}, {"Samples", "num"}, {"TFLOP/s", "num"},
    {"% of peak", "num"}, {"% of vendor", "num"}, {"SM MHz", "num"}, {"Power W", "num"},
    {"Energy J", "num"}, {"TFLOP/s/W", "num"}, {"Max rel err", "num"}, {"Status", "status"}};

// The table cells of a row, as plain text. Measured cells stay empty unless the status is ok.
std::vector<std::string> cells_of(const Row& row) {
  const json& b = *row.entry;
  const json& info = b.at("aicbench");
  const json& measurement = field(info, "measurement");
  const bool ok = row.status == kStatusOk;
  auto metric = [&](const char* key, auto format) { auto v = number(b, key); return ok && v ? format(*v) : std::string(); };
  auto percent = [](double v) { return printf_double("%.1f", v); };
  auto whole = [](double v) { return printf_double("%.0f", v); };
  auto err = number(field(info, "validation"), "max_rel_err");
  if (!err) err = number(b, "max_rel_err");
  std::string time = ok ? metric("real_time", sig3) : "";
  if (!time.empty()) time += " " + text(b, "time_unit");
  std::string noise, samples;
  if (ok) {
    if (auto rsd = number(measurement, "rel_stddev")) noise = printf_double("%.2f", 100 * *rsd) + " %";
    if (auto n = number(measurement, "samples")) samples = whole(*n);
  }
  std::string status = status_text(row);
  if (ok && row.unstable) {
    status = "ok, UNSTABLE: noise above target";
    if (field(measurement, "timed_out") == true) status += ", timed out";
  }
  if (auto discarded = number(measurement, "discarded_throttled"); ok && discarded && *discarded > 0) {
    status += "; " + whole(*discarded) + " throttled samples discarded";
  }
  return {row.name, row.impl, row.dtype, shape_of(field(info, "params")), text(info, "mode"), time, noise, samples,
          metric("tflops", sig3), metric("pct_of_peak", percent), metric("pct_of_vendor", percent),
          metric("sm_clock_mhz", whole), metric("power_w", whole), metric("energy_j", sig3),
          metric("tflops_per_w", sig3), err ? printf_double("%.1e", *err) : "", status};
}

// The results table: the columns that have a value in some row (a CPU run has no telemetry or
// peak, a run without vendor baselines no % of vendor), and each row's cells in those columns.
struct Table {
  std::vector<size_t> columns;  // indices into kColumns
  std::vector<std::vector<std::string>> cells;
};

Table make_table(const std::vector<Row>& rows) {
  Table table;
  std::vector<std::vector<std::string>> all;
  for (const Row& row : rows) all.push_back(cells_of(row));
  for (size_t c = 0; c < kColumns.size(); ++c) {
    const bool always = c == 0 || c + 1 == kColumns.size();  // the name and the status
    if (always || std::any_of(all.begin(), all.end(), [&](const auto& cells) { return !cells[c].empty(); })) {
      table.columns.push_back(c);
    }
  }
  for (const auto& cells : all) {
    std::vector<std::string> kept;
    for (size_t c : table.columns) kept.push_back(cells[c]);
    table.cells.push_back(std::move(kept));
  }
  return table;
}

std::string run_title(size_t index, const ResultFile& file) {
  return "Run " + std::to_string(index + 1) + ": " + file.path.filename().string();
}

// ==== Markdown

std::string md_escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '\n' || c == '\r') { out += ' '; continue; }
    if (std::string_view("\\|<*`").find(c) != std::string_view::npos) out += '\\';
    out += c;
  }
  return out;
}

}  // namespace

std::string render_markdown(const std::vector<ResultFile>& files) {
  std::ostringstream md;
  md << "# aicbench report\n";
  for (size_t f = 0; f < files.size(); ++f) {
    md << "\n## " << md_escape(run_title(f, files[f])) << "\n\n";
    if (incomplete(files[f])) md << "> **Incomplete run**: the run stopped before finishing every benchmark.\n\n";
    for (const auto& [label, value] : provenance_items(files[f])) md << "- **" << label << "**: " << md_escape(value) << "\n";
  }
  const bool many = files.size() > 1;
  const std::vector<Row> rows = collect_rows(files);
  const Table table = make_table(rows);
  md << "\n## Results\n\n|" << (many ? " Run |" : "");
  for (size_t c : table.columns) md << " " << kColumns[c].header << " |";
  md << "\n|" << (many ? "---|" : "");
  for (size_t c : table.columns) md << (kColumns[c].css_class == std::string_view("num") ? "---:|" : "---|");
  md << "\n";
  for (size_t r = 0; r < rows.size(); ++r) {
    md << "|" << (many ? " " + std::to_string(rows[r].file + 1) + " |" : "");
    for (const auto& cell : table.cells[r]) md << " " << md_escape(cell) << " |";
    md << "\n";
  }
  return md.str();
}

namespace {

// ==== gnuplot: temp files, finding the binary, running it

// A file under the temp directory, created with a unique name (mkstemps) and removed on scope exit.
class TempFile {
 public:
  explicit TempFile(const std::string& suffix, const std::string& content = "") {
    std::string name = (fs::temp_directory_path() / ("aicbench-report-XXXXXX" + suffix)).string();
    int fd = ::mkstemps(name.data(), static_cast<int>(suffix.size()));
    if (fd < 0) throw InputError("cannot create a temporary file in " + fs::temp_directory_path().string(), 3);
    ::close(fd);
    path_ = name;
    std::ofstream(path_, std::ios::binary) << content;
  }
  ~TempFile() { std::error_code ignored; fs::remove(path_, ignored); }
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;
  const fs::path& path() const { return path_; }
  std::string read() const { std::ostringstream s; s << std::ifstream(path_, std::ios::binary).rdbuf(); return s.str(); }

 private:
  fs::path path_;
};

constexpr const char* kInstallHint = "install gnuplot-nox (apt-get install gnuplot-nox) or set AICBENCH_GNUPLOT to its path";

std::string find_gnuplot() {
  if (const char* env = std::getenv("AICBENCH_GNUPLOT"); env && *env) {
    if (::access(env, X_OK) != 0) throw InputError("gnuplot not found: AICBENCH_GNUPLOT=" + std::string(env) + " is not an executable; " + kInstallHint, 3);
    return env;
  }
  std::stringstream path(std::getenv("PATH") ? std::getenv("PATH") : "");
  for (std::string dir; std::getline(path, dir, ':');) {
    fs::path candidate = fs::path(dir.empty() ? "." : dir) / "gnuplot";
    if (fs::is_regular_file(candidate) && ::access(candidate.c_str(), X_OK) == 0) return candidate.string();
  }
  throw InputError("gnuplot not found on PATH (the HTML report draws its charts with it); " + std::string(kInstallHint), 3);
}

}  // namespace

std::string render_svg_with_gnuplot(const std::string& gnuplot_script) {
  const std::string binary = find_gnuplot();
  TempFile script(".gp", gnuplot_script), out(".svg"), err(".txt");
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, out.path().c_str(), O_WRONLY | O_TRUNC, 0);
  posix_spawn_file_actions_addopen(&actions, 2, err.path().c_str(), O_WRONLY | O_TRUNC, 0);
  std::string arg0 = binary, arg1 = script.path().string();
  char* argv[] = {arg0.data(), arg1.data(), nullptr};
  pid_t pid = 0;
  int spawn_error = posix_spawn(&pid, binary.c_str(), &actions, nullptr, argv, environ);
  posix_spawn_file_actions_destroy(&actions);
  if (spawn_error != 0) throw InputError("cannot run " + binary + ": " + std::strerror(spawn_error) + "; " + kInstallHint, 3);
  int wait_status = 0;
  while (::waitpid(pid, &wait_status, 0) < 0 && errno == EINTR) {}
  if (!WIFEXITED(wait_status) || WEXITSTATUS(wait_status) != 0) {
    std::string how = WIFEXITED(wait_status) ? "exit status " + std::to_string(WEXITSTATUS(wait_status)) : "killed by a signal";
    throw InputError("gnuplot (" + binary + ") failed, " + how + ": " + err.read(), 3);
  }
  std::string svg = out.read();
  if (svg.empty()) throw InputError("gnuplot (" + binary + ") wrote nothing: " + err.read(), 3);
  return svg;
}

namespace {

// ==== Charts: throughput against problem size, per (family, dtype), one series per impl (@ device)

// x of a chart point: for gemm the cube root of M*N*K (the side of the square problem with as
// many FLOPs); otherwise the product of the numeric params, which the axis label names.
std::optional<double> problem_size(const std::string& family, const json& params, std::string* axis_label) {
  if (!params.is_object()) return std::nullopt;
  if (family == "gemm") {
    auto m = number(params, "M"), n = number(params, "N"), k = number(params, "K");
    *axis_label = "problem size: (M*N*K)^(1/3), log2 scale";
    return m && n && k ? std::optional<double>(std::cbrt(*m * *n * *k)) : std::nullopt;
  }
  double product = 1;
  std::vector<std::string> names;
  for (const auto& [key, value] : params.items()) {
    if (value.is_number()) { product *= value.get<double>(); names.push_back(key); }
  }
  *axis_label = "problem size: " + join(names, "*") + ", log2 scale";
  return names.empty() ? std::nullopt : std::optional<double>(product);
}

struct Chart {
  std::string family, dtype, x_label;
  std::vector<std::pair<const Row*, double>> points;  // (row, x)
};

// Tick labels at powers of two: 512, 1024, ... 32768, then 64K, 1M, 1G.
std::string power_of_two_label(int exponent) {
  if (exponent < 16) return printf_double("%g", std::ldexp(1.0, exponent));
  if (exponent >= 30) return printf_double("%g", std::ldexp(1.0, exponent - 30)) + "G";
  if (exponent >= 20) return printf_double("%g", std::ldexp(1.0, exponent - 20)) + "M";
  return printf_double("%g", std::ldexp(1.0, exponent - 10)) + "K";
}

std::string gnuplot_quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("''") : c == '\n' ? std::string(" ") : std::string(1, c);
  return out + "'";
}

std::string html_escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

// Draws one chart; returns the SVG element, its ids made unique on the page (every gnuplot SVG
// defines the same ids, and a page's ids must be unique for the <use> references to be right).
std::string chart_svg(const Chart& chart, const std::vector<std::string>& series_suffix, int chart_index) {
  // The y metric: TFLOP/s where the group has it, else a bandwidth (collectives, copies).
  const std::vector<std::pair<const char*, const char*>> metrics = {
      {"tflops", "TFLOP/s"}, {"busbw_gbps", "bus bandwidth (GB/s)"}, {"gbps", "GB/s"}};
  const std::pair<const char*, const char*>* metric = nullptr;
  for (const auto& m : metrics) {
    for (const auto& [row, x] : chart.points) if (!metric && number(*row->entry, m.first)) metric = &m;
  }
  if (!metric) return "";
  std::map<std::string, std::vector<std::pair<double, double>>> series;
  for (const auto& [row, x] : chart.points) {
    auto y = number(*row->entry, metric->first);
    if (y && x > 0) series[row->impl + series_suffix[row->file]].emplace_back(x, *y);
  }
  if (series.empty()) return "";
  double lo = INFINITY, hi = 0;
  std::ostringstream data;
  for (auto& [name, points] : series) {
    std::sort(points.begin(), points.end());
    for (const auto& [x, y] : points) {
      data << printf_double("%.9g", x) << ' ' << printf_double("%.9g", y) << '\n';
      lo = std::min(lo, x);
      hi = std::max(hi, x);
    }
    data << "\n\n";  // two blank lines end a gnuplot data block, addressed with `index`
  }
  TempFile data_file(".dat", data.str());
  int e_lo = static_cast<int>(std::floor(std::log2(lo))), e_hi = static_cast<int>(std::ceil(std::log2(hi)));
  if (e_lo == e_hi) { --e_lo; ++e_hi; }
  const int step = std::max(1, (e_hi - e_lo + 11) / 12);  // at most about a dozen ticks
  std::vector<std::string> ticks;
  for (int e = e_lo; e <= e_hi; e += step) ticks.push_back("\"" + power_of_two_label(e) + "\" " + printf_double("%.17g", std::ldexp(1.0, e)));

  std::ostringstream gp;
  gp << "set terminal svg size 640,400 dynamic noenhanced font 'sans,13' background '#ffffff'\n"
     << "set xlabel " << gnuplot_quote(chart.x_label) << "\nset ylabel " << gnuplot_quote(metric->second) << "\n"
     << "set logscale x 2\nset xrange [" << std::ldexp(1.0, e_lo) / 1.2 << ":" << std::ldexp(1.0, e_hi) * 1.2 << "]\n"
     << "set xtics (" << join(ticks, ", ") << ")\nset yrange [0:*]\n"
     << "set grid\nset key top left reverse Left\nset border 3\nset tics nomirror\n";
  gp << "plot ";
  int index = 0;
  for (const auto& [name, points] : series) {
    gp << (index ? ", \\\n     " : "") << gnuplot_quote(data_file.path().string()) << " index " << index
       << " using 1:2 with linespoints lw 2 pt 7 ps 0.8 title " << gnuplot_quote(name);
    ++index;
  }
  gp << "\n";
  std::string svg = render_svg_with_gnuplot(gp.str());
  size_t start = svg.find("<svg");
  if (start == std::string::npos) throw InputError("gnuplot wrote no <svg> element", 3);
  svg.erase(0, start);  // the <?xml?> prolog has no place inside HTML
  const std::string prefix = "c" + std::to_string(chart_index) + "-";
  for (const char* id_start : {" id='", " id=\"", "href='#", "href=\"#", "url(#"}) {
    replace_all(svg, id_start, id_start + prefix);
  }
  const std::string title = "<title>Gnuplot</title>";
  if (size_t at = svg.find(title); at != std::string::npos) {
    svg.replace(at, title.size(), "<title>" + html_escape(chart.family + " " + chart.dtype) + "</title>");
  }
  return svg;
}

constexpr const char* kStyle = R"(
body { font-family: system-ui, sans-serif; color: #222; max-width: 1600px; margin: 2rem auto; padding: 0 1rem; }
.scroll { overflow-x: auto; }
h1 { font-size: 1.6rem; }  h2 { font-size: 1.2rem; margin-top: 2rem; border-bottom: 1px solid #ddd; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: .2rem 1rem; font-size: .9rem; }
dt { font-weight: 600; color: #555; }  dd { margin: 0; }
.banner { background: #fff3cd; border: 1px solid #d9a400; border-radius: 4px; padding: .5rem 1rem; font-weight: 600; }
table { border-collapse: collapse; font-size: .85rem; width: 100%; }
th, td { padding: .3rem .5rem; border-bottom: 1px solid #e6e6e6; text-align: left; vertical-align: top; }
th { background: #f3f4f6; }  td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.name { min-width: 14rem; }  td.status { min-width: 12rem; }
tr.failed td, tr.error td { color: #b00020; background: #fdecee; }  tr.skipped td { color: #888; }
tr.unstable td.status { color: #8a5a00; background: #fff3cd; font-weight: 600; }
.charts { display: grid; grid-template-columns: repeat(auto-fill, minmax(560px, 1fr)); gap: 1rem; }
figure { margin: 0; border: 1px solid #e6e6e6; border-radius: 4px; padding: .5rem; }
figcaption { font-weight: 600; }  figure svg { width: 100%; height: auto; }
)";

}  // namespace

std::string render_html(const std::vector<ResultFile>& files) {
  std::ostringstream html;
  html << "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
       << "<title>aicbench report</title>\n<style>" << kStyle << "</style>\n</head>\n<body>\n"
       << "<h1>aicbench report</h1>\n";
  for (size_t f = 0; f < files.size(); ++f) {
    html << "<section>\n<h2>" << html_escape(run_title(f, files[f])) << "</h2>\n";
    if (incomplete(files[f])) html << "<p class=\"banner\">Incomplete run: the run stopped before finishing every benchmark.</p>\n";
    html << "<dl>\n";
    for (const auto& [label, value] : provenance_items(files[f])) {
      html << "<dt>" << html_escape(label) << "</dt><dd>" << html_escape(value) << "</dd>\n";
    }
    html << "</dl>\n</section>\n";
  }

  const std::vector<Row> rows = collect_rows(files);
  const Table table = make_table(rows);
  const bool many = files.size() > 1;
  html << "<h2>Results</h2>\n<div class=\"scroll\"><table>\n<thead><tr>" << (many ? "<th>Run</th>" : "");
  for (size_t c : table.columns) html << "<th>" << kColumns[c].header << "</th>";
  html << "</tr></thead>\n<tbody>\n";
  for (size_t r = 0; r < rows.size(); ++r) {
    const Row& row = rows[r];
    html << "<tr class=\"" << html_escape(row.status) << (row.unstable ? " unstable" : "") << "\">"
         << (many ? "<td>" + std::to_string(row.file + 1) + "</td>" : "");
    for (size_t i = 0; i < table.columns.size(); ++i) {
      const size_t c = table.columns[i];
      std::string cell = html_escape(table.cells[r][i]);
      // Long names may break after a '/' (family/impl/dtype/params), nowhere else.
      if (c == 0) replace_all(cell, "/", "/<wbr>");
      const std::string css_class = kColumns[c].css_class;
      html << (css_class.empty() ? "<td>" : "<td class=\"" + css_class + "\">") << cell << "</td>";
    }
    html << "</tr>\n";
  }
  html << "</tbody>\n</table></div>\n";

  // Series are named by impl alone, or impl @ device (and host) when the files differ in them.
  std::set<std::string> devices, hosts;
  for (const auto& file : files) { devices.insert(device_of(file)); hosts.insert(host_of(file)); }
  std::vector<std::string> suffix;
  for (const auto& file : files) {
    std::string where = join({devices.size() > 1 ? device_of(file) : "", hosts.size() > 1 ? host_of(file) : ""}, ", ");
    suffix.push_back(where.empty() ? "" : " @ " + where);
  }
  std::map<std::pair<std::string, std::string>, Chart> charts;
  for (const Row& row : rows) {
    if (row.status != kStatusOk) continue;  // failed and skipped entries are never plotted
    std::string x_label;
    auto x = problem_size(row.family, field(row.entry->at("aicbench"), "params"), &x_label);
    if (!x) continue;
    Chart& chart = charts[{row.family, row.dtype}];
    if (chart.points.empty()) chart = {row.family, row.dtype, x_label, {}};
    chart.points.emplace_back(&row, *x);
  }
  std::ostringstream figures;
  int chart_index = 0;
  for (const auto& [key, chart] : charts) {
    std::string svg = chart_svg(chart, suffix, chart_index++);
    if (svg.empty()) continue;
    figures << "<figure>\n<figcaption>" << html_escape(chart.family + " · " + chart.dtype) << "</figcaption>\n" << svg << "</figure>\n";
  }
  if (!figures.str().empty()) html << "<h2>Charts</h2>\n<div class=\"charts\">\n" << figures.str() << "</div>\n";
  html << "</body>\n</html>\n";
  return html.str();
}

}  // namespace aicbench::reports
