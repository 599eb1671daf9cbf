#include "reports/result_file.hpp"

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <algorithm>
#include <map>
#include <set>
#include <sstream>
#include <tuple>

#include <fcntl.h>
#include <unistd.h>

#include "collectives/collective_ops.hpp"
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

[[noreturn]] void field_error(const std::string& origin, const std::string& field, const std::string& value,
                              const std::string& expected) {
  fail(origin, "field '" + field + "' is " + value + ", expected " + expected);
}

// Enough digits to show why two numbers that must agree do not.
std::string precise_text(double v) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.10g", v);
  return buffer;
}

// nccl-tests' bus bandwidth factor as a formula, for messages.
std::string factor_formula(CollectiveOp op) {
  switch (op) {
    case CollectiveOp::all_reduce: return "2(n-1)/n";
    case CollectiveOp::all_gather:
    case CollectiveOp::reduce_scatter:
    case CollectiveOp::all_to_all: return "(n-1)/n";
    case CollectiveOp::broadcast: return "1";
  }
  return "?";
}

// A collective row's bandwidths agree with its factor, and the factor is nccl-tests' for the
// operation and rank count: busbw_gbps = algbw_gbps x busbw_factor, within the rounding of the
// numbers as written.
void check_bus_bandwidth(const json& b, const std::string& where, const std::string& origin) {
  const json& c = b["aicbench"].value("collective", json::object());
  if (!c.contains("busbw_factor")) return;
  const double factor = c["busbw_factor"].get<double>();
  const auto op = parse_collective_op(b["aicbench"]["family"].get<std::string>());
  if (op && c.contains("ranks")) {
    const int ranks = c["ranks"].get<int>();
    const double expected = busbw_factor(*op, ranks);
    if (std::fabs(factor - expected) > 1e-9 * expected) {
      field_error(origin, where + ".aicbench.collective.busbw_factor", number_text(factor),
                  number_text(expected) + ", nccl-tests' factor " + factor_formula(*op) + " for " + std::string(to_string(*op)) +
                      " over n = " + std::to_string(ranks) + " ranks");
    }
  }
  if (b.contains("algbw_gbps") && b.contains("busbw_gbps")) {
    const double algbw = b["algbw_gbps"].get<double>(), busbw = b["busbw_gbps"].get<double>();
    const double expected = algbw * factor;
    if (std::fabs(busbw - expected) > 1e-6 * std::max(std::fabs(expected), 1e-9)) {
      field_error(origin, where + ".busbw_gbps", precise_text(busbw),
                  precise_text(expected) + " = algbw_gbps " + precise_text(algbw) + " x aicbench.collective.busbw_factor " +
                      precise_text(factor));
    }
  }
}

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
    if (const json& c = info.value("collective", json::object()); c.contains("wrong_elements") &&
                                                                   c["wrong_elements"].get<double>() > 0) {
      inconsistent("status is ok but aicbench.collective.wrong_elements is " + c["wrong_elements"].dump() +
                   "; a collective that computed a wrong element is never ok");
    }
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
  check_bus_bandwidth(b, where, origin);
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

// What a row's aicbench.origin is checked against: the job and the GPUs the file lists.
struct FileLayout {
  int64_t default_rank = 0;                 // a row without origin: context.aicbench.rank
  bool job = false;
  int64_t ranks = 0, nodes = 0;
  std::vector<int64_t> node_ranks;          // in the file's order
  std::set<int64_t> node_rank_set;
  std::vector<std::string> gpu_uuids;       // gpus[i].uuid, "" where absent
  std::map<int64_t, std::pair<int64_t, size_t>> gpu_of_rank;  // rank -> (gpu_index, the row that said so)
};

std::string list_text(const std::vector<int64_t>& values) {
  std::string out;
  for (size_t i = 0; i < values.size() && i < 16; ++i) out += (i ? ", " : "") + std::to_string(values[i]);
  return values.size() > 16 ? out + ", ..." : out;
}

// context.aicbench.job agrees with itself: the ranks this file holds are ranks of the job, each
// once, and the per-node counts add up to the job's.
FileLayout check_job(const json& p, const std::string& origin) {
  FileLayout layout;
  layout.default_rank = p.value("rank", int64_t{0});
  for (const json& gpu : p.value("gpus", json::array())) layout.gpu_uuids.push_back(gpu.value("uuid", std::string()));
  const int64_t version = p["format_version"].get<int64_t>();
  // `aicbench run` names the job in every file it writes; a file without one (written by other
  // tools through ResultWriter) is one process's, and its rows' ranks are not checked against it.
  if (!p.contains("job")) return layout;
  const json& job = p["job"];
  const std::string at = "context.aicbench.job";
  if (version >= 3) {
    // A node's file says which node it is and which ranks' rows it holds; in earlier files the
    // job block, where there is one, may say less (rows there carry no origin to check).
    for (const char* key : {"node", "node_ranks"}) {
      if (!job.contains(key)) {
        fail(origin, "missing field '" + at + "." + key + "': a format_version 3 file names its node and the world ranks "
                     "whose rows it holds (node, node_ranks)");
      }
    }
  }
  layout.job = job.contains("node_ranks");
  layout.ranks = job["ranks"].get<int64_t>();
  layout.nodes = job["nodes"].get<int64_t>();
  if (layout.nodes > layout.ranks) {
    field_error(origin, at + ".nodes", std::to_string(layout.nodes), "at most job.ranks " + std::to_string(layout.ranks) + " (every node runs a rank)");
  }
  const json& node_ranks = job.value("node_ranks", json::array());
  for (size_t i = 0; i < node_ranks.size(); ++i) {
    const int64_t rank = node_ranks[i].get<int64_t>();
    const std::string field = json_path_index(at + ".node_ranks", i);
    if (rank >= layout.ranks) field_error(origin, field, std::to_string(rank), "below job.ranks " + std::to_string(layout.ranks));
    if (!layout.node_rank_set.insert(rank).second) {
      field_error(origin, field, std::to_string(rank), "a rank not listed before in node_ranks (each rank once)");
    }
    layout.node_ranks.push_back(rank);
  }
  if (job.contains("node_index") && job["node_index"].get<int64_t>() >= layout.nodes) {
    field_error(origin, at + ".node_index", job["node_index"].dump(), "below job.nodes " + std::to_string(layout.nodes));
  }
  if (job.contains("ranks_per_node")) {
    const json& per_node = job["ranks_per_node"];
    if (static_cast<int64_t>(per_node.size()) != layout.nodes) {
      field_error(origin, at + ".ranks_per_node", "an array of " + std::to_string(per_node.size()),
                  "one count per node: job.nodes is " + std::to_string(layout.nodes));
    }
    int64_t sum = 0;
    for (const json& n : per_node) sum += n.get<int64_t>();
    if (sum != layout.ranks) {
      field_error(origin, at + ".ranks_per_node", per_node.dump(), "counts that add up to job.ranks " + std::to_string(layout.ranks));
    }
    if (job.contains("node_index") && layout.job) {
      const size_t node = job["node_index"].get<size_t>();
      if (per_node[node].get<int64_t>() != static_cast<int64_t>(layout.node_ranks.size())) {
        field_error(origin, json_path_index(at + ".ranks_per_node", node), per_node[node].dump(),
                    std::to_string(layout.node_ranks.size()) + ", the ranks of job.node_ranks (this file is node " +
                        std::to_string(node) + ")");
      }
    }
  }
  return layout;
}

// A row's aicbench.origin names a rank of this file and a GPU it lists; returns the row's rank.
int64_t check_origin(const json& b, size_t row, const std::string& where, FileLayout& layout, const std::string& origin) {
  const json& info = b["aicbench"];
  if (!info.contains("origin")) return layout.default_rank;
  const json& o = info["origin"];
  const std::string at = where + ".aicbench.origin";
  const int64_t rank = o.value("rank", layout.default_rank);
  if (layout.job && o.contains("rank") && !layout.node_rank_set.count(rank)) {
    field_error(origin, at + ".rank", std::to_string(rank),
                "one of context.aicbench.job.node_ranks (" + list_text(layout.node_ranks) + "): the ranks whose rows this file holds");
  }
  if (layout.job && o.contains("local_rank") && o["local_rank"].get<int64_t>() >= static_cast<int64_t>(layout.node_ranks.size())) {
    field_error(origin, at + ".local_rank", o["local_rank"].dump(),
                "below " + std::to_string(layout.node_ranks.size()) + ", the ranks of this node (job.node_ranks)");
  }
  const size_t gpus = layout.gpu_uuids.size();
  if (o.contains("gpu_index")) {
    const int64_t index = o["gpu_index"].get<int64_t>();
    if (index >= static_cast<int64_t>(gpus)) {
      field_error(origin, at + ".gpu_index", std::to_string(index),
                  gpus == 0 ? std::string("no gpu_index: context.aicbench.gpus lists no GPU")
                            : "an index into context.aicbench.gpus (" + std::to_string(gpus) + " GPUs: 0 to " + std::to_string(gpus - 1) + ")");
    }
    const std::string& listed = layout.gpu_uuids[static_cast<size_t>(index)];
    if (o.contains("gpu_uuid") && o["gpu_uuid"].get<std::string>() != listed) {
      field_error(origin, at + ".gpu_uuid", o["gpu_uuid"].dump(),
                  json(listed).dump() + ", the uuid of context.aicbench.gpus[" + std::to_string(index) + "] (its gpu_index)");
    }
    // A rank drives one GPU: rows of one rank on two GPUs would put one GPU's numbers under another.
    const auto [known, fresh] = layout.gpu_of_rank.try_emplace(rank, index, row);
    if (!fresh && known->second.first != index) {
      field_error(origin, at + ".gpu_index", std::to_string(index),
                  std::to_string(known->second.first) + ", the GPU of rank " + std::to_string(rank) + " in benchmarks[" +
                      std::to_string(known->second.second) + "] (a rank measures one GPU)");
    }
  }
  if (o.contains("spans")) {
    const json& spans = o["spans"];
    const int64_t ranks = spans["ranks"].get<int64_t>(), nodes = spans["nodes"].get<int64_t>();
    if (spans["hosts"].size() != static_cast<size_t>(nodes)) {
      field_error(origin, at + ".spans.hosts", "an array of " + std::to_string(spans["hosts"].size()),
                  "one host per node: origin.spans.nodes is " + std::to_string(nodes));
    }
    if (nodes > ranks) field_error(origin, at + ".spans.nodes", std::to_string(nodes), "at most origin.spans.ranks " + std::to_string(ranks));
    if (layout.job && ranks > layout.ranks) {
      field_error(origin, at + ".spans.ranks", std::to_string(ranks), "at most context.aicbench.job.ranks " + std::to_string(layout.ranks));
    }
    const json& c = info.value("collective", json::object());
    if (c.contains("ranks") && c["ranks"].get<int64_t>() != ranks) {
      field_error(origin, where + ".aicbench.collective.ranks", c["ranks"].dump(), std::to_string(ranks) + ", origin.spans.ranks");
    }
  }
  return rank;
}

}  // namespace

void check_result_json(const json& j, const std::string& origin) {
  check_kind_and_version(j, origin);
  result_format_schema().validate(j, origin);
  FileLayout layout = check_job(j["context"][ResultFile::kProvenanceKey], origin);
  // One row per (name, repetition, aggregate, rank): a benchmark listed twice would be counted twice.
  std::map<std::tuple<std::string, std::string, int64_t, std::string, int64_t>, size_t> seen;
  const json& benchmarks = j["benchmarks"];
  for (size_t i = 0; i < benchmarks.size(); ++i) {
    const json& b = benchmarks[i];
    const std::string where = "benchmarks[" + std::to_string(i) + "]";
    const int64_t rank = check_origin(b, i, where, layout, origin);
    const auto key = std::make_tuple(b["name"].get<std::string>(), b.value("run_type", std::string("iteration")),
                                     b.contains("repetition_index") ? b["repetition_index"].get<int64_t>() : -1,
                                     b.value("aggregate_name", std::string()), rank);
    if (auto [it, fresh] = seen.emplace(key, i); !fresh) {
      fail(origin, where + " repeats benchmarks[" + std::to_string(it->second) + "]: the same benchmark '" +
                       std::get<0>(key) + "' (same run type, repetition and aggregate) of the same rank (aicbench.origin.rank " +
                       std::to_string(rank) + ") is listed twice");
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
