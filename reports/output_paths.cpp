#include "reports/output_paths.hpp"

#include <sys/stat.h>

#include "reports/result_file.hpp"

namespace aicbench::reports {

namespace fs = std::filesystem;

namespace {

// What a path names, looked up once per path (a fleet's check has 10,000 inputs): the device and
// inode of the file it names, or of the file it would name once written (sub/../x.json is x.json
// when sub/ is created), and else its absolute weakly canonical form.
struct Identity {
  explicit Identity(const fs::path& path) {
    if (stat_file(path)) return;
    // Absolute first: weakly_canonical leaves a relative path relative when its first component
    // does not exist ("sub/../x.json"), and the writer would create sub/ and write x.json.
    std::error_code error;
    fs::path absolute = fs::absolute(path, error);
    if (error) {
      canonical = path.lexically_normal();
    } else {
      fs::path resolved = fs::weakly_canonical(absolute, error);
      canonical = error ? absolute.lexically_normal() : resolved;
    }
    stat_file(canonical);
  }
  bool stat_file(const fs::path& path) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) return false;
    exists = true;
    device = st.st_dev;
    inode = st.st_ino;
    return true;
  }
  bool exists = false;
  dev_t device = 0;
  ino_t inode = 0;
  fs::path canonical;  // set where the path itself does not exist
};

// The same file: the same inode where both name an existing file (links included), else the same
// weakly canonical path. A path that names an existing file and one that does not are never one.
bool same_file(const Identity& a, const Identity& b) {
  if (a.exists && b.exists) return a.device == b.device && a.inode == b.inode;
  if (a.exists != b.exists) return false;
  return a.canonical == b.canonical;
}

}  // namespace

bool same_file(const fs::path& a, const fs::path& b) { return same_file(Identity(a), Identity(b)); }

void check_output_paths(const std::vector<fs::path>& inputs, const std::vector<OutputPath>& outputs) {
  if (outputs.empty()) return;
  std::vector<Identity> input_ids(inputs.begin(), inputs.end());
  std::vector<Identity> output_ids;
  for (const OutputPath& output : outputs) output_ids.emplace_back(output.path);
  for (size_t o = 0; o < outputs.size(); ++o) {
    for (size_t i = 0; i < inputs.size(); ++i) {
      if (same_file(output_ids[o], input_ids[i])) {
        throw InputError(outputs[o].option + " " + outputs[o].path.string() + " is the input file " + inputs[i].string() +
                         "; refusing to overwrite a result file: choose another output path");
      }
    }
    for (size_t earlier = 0; earlier < o; ++earlier) {
      if (same_file(output_ids[o], output_ids[earlier])) {
        throw InputError(outputs[earlier].option + " " + outputs[earlier].path.string() + " and " + outputs[o].option + " " +
                         outputs[o].path.string() + " are the same file: give each output its own path");
      }
    }
  }
}

}  // namespace aicbench::reports
