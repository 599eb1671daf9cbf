#include "reports/result_file.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <map>
#include <sstream>
#include <tuple>

#include <fcntl.h>
#include <unistd.h>

#include "reports/json_input.hpp"
#include "reports/schemas.hpp"

namespace aicbench {

void write_file_atomically(const std::filesystem::path& path, const std::string& content) {
  namespace fs = std::filesystem;
  if (path.has_parent_path()) {
    std::error_code ec;
    fs::create_directories(path.parent_path(), ec);
    if (ec) {
      throw InputError("cannot write " + path.string() + ": cannot create its directory (" +
                           ec.message() + ")", 2);
    }
  }
  fs::path tmp = path;
  tmp += ".tmp." + std::to_string(::getpid());

  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0) {
    throw InputError("cannot write " + tmp.string() + ": " + std::strerror(errno), 2);
  }
  const char* data = content.data();
  size_t left = content.size();
  while (left > 0) {
    ssize_t n = ::write(fd, data, left);
    if (n < 0) {
      if (errno == EINTR) continue;
      int err = errno;
      ::close(fd);
      ::unlink(tmp.c_str());
      throw InputError("cannot write " + tmp.string() + ": " + std::strerror(err), 2);
    }
    data += n;
    left -= static_cast<size_t>(n);
  }
  // fsync before rename: otherwise a crash can leave the new name pointing at empty data.
  ::fsync(fd);
  ::close(fd);
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    int err = errno;
    ::unlink(tmp.c_str());
    throw InputError("cannot move " + tmp.string() + " to " + path.string() + ": " +
                         std::strerror(err), 2);
  }
}

namespace {

using json = nlohmann::json;

[[noreturn]] void fail(const std::string& origin, const std::string& what) {
  throw InputError(origin + ": " + what, 2);
}

// Before the schema: a file that is not an aicbench result at all, or is one from a newer
// aicbench, is told so in those words rather than by the first field that differs.
void check_kind_and_version(const json& j, const std::string& origin) {
  if (!j.is_object()) {
    fail(origin, "not an aicbench result: the document is " + std::string(j.type_name()) +
                     ", expected an object with 'context' and 'benchmarks' (Google Benchmark JSON)");
  }
  const bool has_context = j.contains("context") && j["context"].is_object();
  if (has_context && !j["context"].contains(ResultFile::kProvenanceKey) && j.contains("benchmarks")) {
    fail(origin, "not an aicbench result: missing field 'context.aicbench' (this looks like plain "
                 "Google Benchmark output, without aicbench's provenance)");
  }
  // const operator[] on a missing key is undefined behaviour: look before indexing.
  if (!has_context || !j["context"].contains(ResultFile::kProvenanceKey) ||
      !j["context"][ResultFile::kProvenanceKey].is_object()) {
    return;  // the schema names what is missing
  }
  const json& version = j["context"][ResultFile::kProvenanceKey].value("format_version", json());
  if (version.is_number_integer() && version.get<int64_t>() > kResultFormatVersion) {
    fail(origin, "field 'context.aicbench.format_version' is " + version.dump() +
                     ": written by a newer aicbench; this one reads versions " +
                     std::to_string(kOldestResultFormatVersion) + " to " + std::to_string(kResultFormatVersion));
  }
  if (version.is_number_integer() && version.get<int64_t>() < kOldestResultFormatVersion) {
    fail(origin, "field 'context.aicbench.format_version' is " + version.dump() + ", expected " +
                     std::to_string(kOldestResultFormatVersion) + " to " + std::to_string(kResultFormatVersion));
  }
}

std::string number_text(double v) {
  std::ostringstream s;
  s << v;
  return s.str();
}

// Counters that are a throughput or derived from one: never on a row that is not ok.
constexpr const char* kThroughputCounters[] = {"tflops", "gbps", "algbw_gbps", "busbw_gbps", "pct_of_peak",
                                               "pct_of_vendor", "tflops_per_w", "gbps_per_w"};

// What the schema cannot say about one row: it agrees with itself.
void check_row_consistency(const json& b, const std::string& where, const std::string& origin) {
  const json& info = b["aicbench"];
  const std::string status = info["status"].get<std::string>();
  auto inconsistent = [&](const std::string& what) { fail(origin, where + " is inconsistent: " + what); };

  // The name is family/impl/dtype/... as its aicbench block says.
  const std::string base = b.value("run_name", b["name"].get<std::string>());
  const std::string prefix = info["family"].get<std::string>() + "/" + info["impl"].get<std::string>() + "/" +
                             info["dtype"].get<std::string>();
  if (base != prefix && base.rfind(prefix + "/", 0) != 0) {
    inconsistent("its name '" + base + "' does not start with '" + prefix + "', its aicbench family/impl/dtype");
  }
  // Parameters are sizes, from 1; only flags (attention's causal, the collectives' in_place) and
  // peer-to-peer's GPU indices (src, dst) may be 0, which the schema cannot say per family.
  const std::string family = info["family"].get<std::string>();
  const auto may_be_zero = [&family](const std::string& key) {
    if (family == "attention") return key == "causal";
    if (family == "p2p" || family == "p2p_latency") return key == "src" || key == "dst";
    if (family == "all_reduce" || family == "all_gather" || family == "reduce_scatter" || family == "all_to_all" ||
        family == "broadcast") {
      return key == "in_place";
    }
    return false;
  };
  const json params = info.value("params", json::object());
  if (params.is_object()) {
    for (const auto& [key, value] : params.items()) {
      if (value.is_number_integer() && value.get<int64_t>() < 1 && !may_be_zero(key)) {
        fail(origin, "field '" + where + ".aicbench.params." + key + "' is " + value.dump() +
                         ", expected a number >= 1 (a size; only flags such as causal and in_place, and p2p's "
                         "src and dst, may be 0)");
      }
    }
  }
  if (status == "ok") {
    if (b.value("error_occurred", false)) inconsistent("status is ok but error_occurred is true");
    const json& validation = info.value("validation", json::object());
    if (validation.contains("tolerance")) {
      const double tolerance = validation["tolerance"].get<double>();
      if (validation.contains("max_rel_err") && validation["max_rel_err"].get<double>() > tolerance) {
        inconsistent("status is ok but aicbench.validation.max_rel_err " + number_text(validation["max_rel_err"].get<double>()) +
                     " exceeds its tolerance " + number_text(tolerance) + "; a result that failed validation is never ok");
      }
      // The counter is a spread on stddev and cv aggregate rows; elsewhere it is the error.
      const std::string aggregate = b.value("aggregate_name", "");
      if (b.contains("max_rel_err") && aggregate != "stddev" && aggregate != "cv" &&
          b["max_rel_err"].get<double>() > tolerance) {
        inconsistent("status is ok but max_rel_err " + number_text(b["max_rel_err"].get<double>()) +
                     " exceeds aicbench.validation.tolerance " + number_text(tolerance));
      }
    }
  } else {
    for (const char* counter : kThroughputCounters) {
      if (b.contains(counter)) {
        inconsistent("status is '" + status + "' but the row carries '" + counter +
                     "'; a result that is not ok is never reported as a number");
      }
    }
  }
  if (const json& m = info.value("measurement", json::object()); m.is_object()) {
    const char* order[] = {"min_s", "q1_s", "median_s", "q3_s", "max_s"};
    double previous = 0;
    const char* previous_name = nullptr;
    for (const char* key : order) {
      if (!m.contains(key)) continue;
      const double v = m[key].get<double>();
      if (previous_name && v < previous * (1 - 1e-12)) {
        inconsistent("aicbench.measurement." + std::string(key) + " " + number_text(v) + " is below " + previous_name +
                     " " + number_text(previous) + " (expected min_s <= q1_s <= median_s <= q3_s <= max_s)");
      }
      previous = v;
      previous_name = key;
    }
  }
}

// The world rank a row was measured on (format 3's aicbench.origin.rank), 0 where it has none.
int64_t origin_rank(const json& b) {
  if (!b.contains("aicbench") || !b["aicbench"].is_object() || !b["aicbench"].contains("origin")) return 0;
  const json& o = b["aicbench"]["origin"];
  return o.is_object() && o.contains("rank") && o["rank"].is_number_integer() ? o["rank"].get<int64_t>() : 0;
}

}  // namespace

void check_result_json(const json& j, const std::string& origin) {
  check_kind_and_version(j, origin);
  result_format_schema().validate(j, origin);
  // One row per (name, repetition, aggregate, rank): a benchmark listed twice would be counted twice.
  std::map<std::tuple<std::string, std::string, int64_t, std::string, int64_t>, size_t> seen;
  const json& benchmarks = j["benchmarks"];
  for (size_t i = 0; i < benchmarks.size(); ++i) {
    const json& b = benchmarks[i];
    const std::string where = "benchmarks[" + std::to_string(i) + "]";
    const auto key = std::make_tuple(b["name"].get<std::string>(), b.value("run_type", std::string("iteration")),
                                     b.contains("repetition_index") ? b["repetition_index"].get<int64_t>() : -1,
                                     b.value("aggregate_name", std::string()), origin_rank(b));
    if (auto [it, fresh] = seen.emplace(key, i); !fresh) {
      fail(origin, where + " repeats benchmarks[" + std::to_string(it->second) + "]: the same benchmark '" +
                       std::get<0>(key) + "' (same run type, repetition, aggregate and rank) is listed twice");
    }
    check_row_consistency(b, where, origin);
  }
}

ResultFile parse_result_file(std::string_view text, const std::string& origin) {
  ResultFile file;
  file.path = origin;
  file.json = parse_json_text(text, origin, kResultFileLimits);
  check_result_json(file.json, origin);
  return file;
}

ResultFile load_result_file(const std::filesystem::path& path, std::string& bytes) {
  bytes = read_regular_file(path, "result file", kResultFileLimits);
  ResultFile file = parse_result_file(bytes, path.string());
  file.path = path;
  return file;
}

ResultFile load_result_file(const std::filesystem::path& path) {
  ResultFile file;
  file.path = path;
  file.json = read_json_file(path, "result file", kResultFileLimits);
  check_result_json(file.json, path.string());
  return file;
}

}  // namespace aicbench
