// Reading a candidates file and its weight profile (reports/score.hpp): the bounded JSON reader,
// the compiled-in schema (docs/candidates.schema.json), then what a schema cannot say. Every error
// names the file, the field and what was expected (exit 2).
#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <cstdlib>
#include <set>

#include <glob.h>
#include <unistd.h>

#include "reports/json_input.hpp"
#include "reports/schemas.hpp"
#include "reports/score.hpp"
#include "reports/text_format.hpp"

#ifndef AICBENCH_SOURCE_SPECS_DIR
#define AICBENCH_SOURCE_SPECS_DIR "specs"
#endif

namespace aicbench::score {

namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

// specs/ as the harness finds it (harness/specs.cpp): $AICBENCH_SPECS, then beside an installed
// binary, then the source tree the binary was built from.
fs::path specs_directory() {
  if (const char* env = std::getenv("AICBENCH_SPECS")) return env;
  char exe[4096] = {};
  const ssize_t n = ::readlink("/proc/self/exe", exe, sizeof exe - 1);
  if (n > 0) {
    fs::path installed = fs::path(exe).parent_path().parent_path() / "share" / "aicbench" / "specs";
    if (fs::is_directory(installed)) return installed;
  }
  return AICBENCH_SOURCE_SPECS_DIR;
}

fs::path shipped_profiles_dir() { return specs_directory() / "procurement" / "profiles"; }

fs::path directory_of(const fs::path& file) {
  const fs::path parent = file.parent_path();
  return parent.empty() ? fs::path(".") : parent;
}

// A directory's name as the start of a glob pattern: its own metacharacters taken literally.
std::string glob_escaped(const std::string& text) {
  std::string out;
  for (char c : text) {
    if (c == '*' || c == '?' || c == '[' || c == ']' || c == '\\') out += '\\';
    out += c;
  }
  return out;
}

// The first directory glob could not read for a reason other than its absence (a permission):
// said with "matches no file", since it may be why.
thread_local std::string glob_trouble;

int note_glob_error(const char* path, int error) {
  if (error != ENOENT && error != ENOTDIR && glob_trouble.empty()) {
    glob_trouble = std::string(path) + " could not be read: " + std::strerror(error);
  }
  return 0;  // go on
}

std::vector<fs::path> expand_glob(const std::string& pattern, const fs::path& base, std::string& trouble) {
  const fs::path as_path(pattern);
  const std::string full = as_path.is_absolute() ? pattern : glob_escaped((base / "").string()) + pattern;
  glob_t found{};
  glob_trouble.clear();
  const int rc = ::glob(full.c_str(), 0, note_glob_error, &found);
  std::vector<fs::path> paths;
  if (rc == 0) {
    for (size_t i = 0; i < found.gl_pathc; ++i) paths.emplace_back(found.gl_pathv[i]);
  }
  ::globfree(&found);
  trouble = glob_trouble;
  std::sort(paths.begin(), paths.end());
  return paths;
}

// A file's identity for "the same file twice": its canonical path where it exists.
std::string identity(const fs::path& path) {
  std::error_code ec;
  const fs::path canonical = fs::weakly_canonical(path, ec);
  return (ec ? fs::absolute(path) : canonical).string();
}

bool plain_name(const std::string& s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](unsigned char c) {
    return std::isalnum(c) || c == '.' || c == '_' || c == '-';
  });
}

std::vector<std::string> profile_names_in(const fs::path& dir) {
  std::vector<std::string> names;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    if (entry.path().extension() == ".json") names.push_back(entry.path().stem().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

class CandidatesReader {
 public:
  CandidatesReader(const json& j, const fs::path& path) : j_(j), path_(path), origin_(path.string()) {}

  CandidatesFile read(const std::string& profile_override) {
    candidates_schema().validate(j_, origin_);
    file_.path = path_;
    file_.name = j_["name"].get<std::string>();
    file_.description = j_.value("description", std::string());
    const json& c = j_["centre"];
    file_.centre.budget_won = c["budget_won"].get<double>();
    file_.centre.budget_covers_tco = c.value("budget_covers", std::string("purchase")) == "tco";
    file_.centre.electricity_won_per_kwh = c["electricity_won_per_kwh"].get<double>();
    file_.centre.pue = c["pue"].get<double>();
    file_.centre.service_years = c["service_years"].get<double>();
    file_.centre.utilisation = c["utilisation"].get<double>();
    if (j_.contains("training")) file_.training_model = j_["training"]["model"].get<std::string>();

    const json& candidates = j_["candidates"];
    std::map<std::string, std::string> used_by;  // a result file's identity -> the field that matched it
    for (size_t i = 0; i < candidates.size(); ++i) {
      file_.candidates.push_back(read_candidate(candidates[i], json_path_index("candidates", i), used_by));
    }
    if (j_.contains("reference")) {
      file_.reference = j_["reference"].get<std::string>();
      check_reference(file_.reference, "field 'reference'");
    }

    if (profile_override.empty()) {
      file_.profile_as_given = j_["profile"].get<std::string>();
      file_.profile = load_profile(find_profile(file_.profile_as_given, path_, origin_ + ": field 'profile'"));
    } else {
      file_.profile_as_given = profile_override;
      file_.profile = load_profile(find_profile(profile_override, path_, "--profile"));
    }
    return file_;
  }

  // Throws naming `where` when `name` is not a candidate's.
  void check_reference(const std::string& name, const std::string& where) const {
    std::vector<std::string> names;
    for (const CandidateSpec& c : file_.candidates) names.push_back(c.name);
    if (std::find(names.begin(), names.end(), name) != names.end()) return;
    const std::string nearest = nearest_word(name, names);
    throw InputError(origin_ + ": " + where + " is '" + name + "', which names no candidate" +
                     (nearest.empty() ? "" : "; did you mean '" + nearest + "'?") + " (candidates: " +
                     reports::join(names, ", ") + ")");
  }

 private:
  [[noreturn]] void fail(const std::string& field, const std::string& what) const {
    throw InputError(origin_ + ": field '" + field + "' " + what);
  }

  CandidateSpec read_candidate(const json& c, const std::string& where, std::map<std::string, std::string>& used_by) {
    CandidateSpec spec;
    spec.name = c["name"].get<std::string>();
    for (size_t k = 0; k < file_.candidates.size(); ++k) {
      if (file_.candidates[k].name == spec.name) {
        fail(where + ".name", "is '" + spec.name + "', the name of candidates[" + std::to_string(k) +
                                  "] too; each candidate needs a name of its own");
      }
    }
    spec.sku = c["sku"].get<std::string>();
    spec.description = c.value("description", std::string());
    if (c.contains("gpus_per_node")) spec.gpus_per_node = c["gpus_per_node"].get<int64_t>();

    const json& price = c["price"];
    if (price.contains("per_gpu_won")) spec.price.per_gpu_won = price["per_gpu_won"].get<double>();
    if (price.contains("per_node_won")) spec.price.per_node_won = price["per_node_won"].get<double>();
    spec.price.source = price.value("source", std::string());
    if (spec.price.per_gpu_won.has_value() == spec.price.per_node_won.has_value()) {
      fail(where + ".price", spec.price.per_gpu_won ? "gives both per_gpu_won and per_node_won; expected exactly one"
                                                    : "gives no price; expected per_gpu_won (won per GPU) or "
                                                      "per_node_won (won per node of gpus_per_node GPUs)");
    }
    if (c.contains("node_costs_won")) {
      for (const auto& [name, won] : c["node_costs_won"].items()) spec.node_costs_won[name] = won.get<double>();
    }
    if (c.contains("power_per_gpu_w")) spec.power_per_gpu_w = c["power_per_gpu_w"].get<double>();
    spec.idle_power_per_gpu_w = c.value("idle_power_per_gpu_w", 0.0);
    spec.node_power_w = c.value("node_power_w", 0.0);
    if (!spec.gpus_per_node) {
      for (const char* needs : {"node_costs_won", "node_power_w"}) {
        if (c.contains(needs)) fail(where + "." + needs, "is per node, so the candidate needs gpus_per_node (GPUs in one node)");
      }
      if (spec.price.per_node_won) {
        fail(where + ".price.per_node_won", "is a price per node, so the candidate needs gpus_per_node (GPUs in one node)");
      }
    }

    const json& results = c["results"];
    std::set<std::string> mine;
    for (size_t r = 0; r < results.size(); ++r) {
      const std::string field = json_path_index(where + ".results", r);
      spec.result_patterns.push_back(results[r].get<std::string>());
      const fs::path base = directory_of(path_);
      std::string trouble;
      const std::vector<fs::path> found = expand_glob(spec.result_patterns.back(), base, trouble);
      if (found.empty()) {
        const fs::path looked = fs::path(spec.result_patterns.back()).is_absolute() ? fs::path(spec.result_patterns.back())
                                                                                   : base / spec.result_patterns.back();
        fail(field, "is '" + spec.result_patterns.back() + "', which matches no file (looked for " + looked.string() +
                        (trouble.empty() ? "" : "; " + trouble) + "); expected result files of " + spec.name +
                        ", relative to the candidates file");
      }
      for (const fs::path& path : found) {
        const std::string id = identity(path);
        if (!mine.insert(id).second) continue;  // matched by two patterns of one candidate: once
        if (auto [it, fresh] = used_by.emplace(id, field); !fresh) {
          fail(field, "matches " + path.string() + ", which " + it->second +
                          " matches too; a result file is measured on one candidate");
        }
        spec.files.push_back(path);
      }
    }
    return spec;
  }

  const json& j_;
  fs::path path_;
  std::string origin_;
  CandidatesFile file_;
};

class ProfileReader {
 public:
  ProfileReader(const json& j, const std::string& origin) : j_(j), origin_(origin) {}

  Profile read() {
    procurement_profile_schema().validate(j_, origin_);
    Profile profile;
    profile.path = origin_;
    profile.name = j_["name"].get<std::string>();
    profile.description = j_["description"].get<std::string>();
    const json& groups = j_["groups"];
    bool weighted = false;
    for (size_t i = 0; i < groups.size(); ++i) {
      const std::string where = json_path_index("groups", i);
      Group g;
      g.name = groups[i]["group"].get<std::string>();
      g.family = groups[i]["family"].get<std::string>();
      if (groups[i].contains("dtypes")) g.dtypes = groups[i]["dtypes"].get<std::vector<std::string>>();
      g.weight = groups[i]["weight"].get<double>();
      g.why = groups[i].value("why", std::string());
      weighted = weighted || g.weight > 0;
      for (size_t k = 0; k < profile.groups.size(); ++k) {
        const Group& other = profile.groups[k];
        if (other.name == g.name) fail(where + ".group", "is '" + g.name + "', the name of groups[" + std::to_string(k) + "] too");
        if (other.family != g.family) continue;
        const bool overlap = other.dtypes.empty() || g.dtypes.empty() ||
                             std::any_of(g.dtypes.begin(), g.dtypes.end(), [&](const std::string& d) {
                               return std::find(other.dtypes.begin(), other.dtypes.end(), d) != other.dtypes.end();
                             });
        if (overlap) {
          fail(where, "(group '" + g.name + "') selects benchmarks of family '" + g.family + "' that groups[" +
                          std::to_string(k) + "] ('" + other.name +
                          "') selects too; a benchmark belongs to one group: give the groups dtypes that do not overlap");
        }
      }
      profile.groups.push_back(std::move(g));
    }
    if (!weighted) fail("groups", "gives every group weight 0; expected at least one weight above 0");
    return profile;
  }

 private:
  [[noreturn]] void fail(const std::string& field, const std::string& what) const {
    throw InputError(origin_ + ": field '" + field + "' " + what);
  }

  const json& j_;
  std::string origin_;
};

}  // namespace

bool Group::selects(const std::string& f, const std::string& dtype) const {
  return f == family && (dtypes.empty() || std::find(dtypes.begin(), dtypes.end(), dtype) != dtypes.end());
}

std::optional<size_t> Profile::group_of(const std::string& family, const std::string& dtype) const {
  for (size_t i = 0; i < groups.size(); ++i) {
    if (groups[i].selects(family, dtype)) return i;
  }
  return std::nullopt;
}

std::vector<std::string> shipped_profiles() { return profile_names_in(shipped_profiles_dir()); }

fs::path find_profile(const std::string& profile, const fs::path& candidates_path, const std::string& field) {
  // The option's paths are the shell's (relative to the working directory); the file's are the
  // file's (relative to it).
  const bool option = field.rfind("--", 0) == 0;
  const fs::path base = option ? fs::path(".") : directory_of(candidates_path);
  if (profile.find('/') != std::string::npos || fs::path(profile).extension() == ".json") {
    const fs::path path = fs::path(profile).is_absolute() ? fs::path(profile) : base / profile;
    std::error_code ec;
    if (!fs::is_regular_file(path, ec)) {
      throw InputError(field + " is '" + profile + "', which is not a file (looked for " + path.string() +
                       "); expected a weight profile (.json) or a profile's name (" +
                       reports::join(shipped_profiles(), ", ") + ")");
    }
    return path;
  }
  const fs::path beside = directory_of(candidates_path) / "profiles";
  const std::vector<fs::path> places = {beside, shipped_profiles_dir()};
  if (plain_name(profile)) {
    for (const fs::path& dir : places) {
      std::error_code ec;
      if (fs::is_regular_file(dir / (profile + ".json"), ec)) return dir / (profile + ".json");
    }
  }
  std::vector<std::string> known;
  for (const fs::path& dir : places) {
    for (const std::string& name : profile_names_in(dir)) {
      if (std::find(known.begin(), known.end(), name) == known.end()) known.push_back(name);
    }
  }
  const std::string nearest = nearest_word(profile, known);
  throw InputError(field + " is '" + profile + "', which is no known profile" +
                   (nearest.empty() ? "" : "; did you mean '" + nearest + "'?") + " (looked in " + beside.string() +
                   " and " + shipped_profiles_dir().string() + "; profiles: " +
                   (known.empty() ? std::string("none found") : reports::join(known, ", ")) +
                   "; or give a profile file's path)");
}

Profile load_profile(const fs::path& path) {
  const json j = read_json_file(path, "weight profile", kSpecFileLimits);
  Profile profile = parse_profile(j, path.string());
  profile.path = path;
  return profile;
}

Profile parse_profile(const json& j, const std::string& origin) { return ProfileReader(j, origin).read(); }

CandidatesFile load_candidates(const fs::path& path, const std::string& profile_override) {
  const json j = read_json_file(path, "candidates file", kSpecFileLimits);
  return CandidatesReader(j, path).read(profile_override);
}

}  // namespace aicbench::score
