#include "reports/output_paths.hpp"

#include "reports/result_file.hpp"

namespace aicbench::reports {

namespace fs = std::filesystem;

bool same_file(const fs::path& a, const fs::path& b) {
  std::error_code ec;
  if (fs::exists(a, ec) && fs::exists(b, ec)) {
    bool same = fs::equivalent(a, b, ec);
    if (!ec) return same;
  }
  // Absolute first: weakly_canonical leaves a relative path relative when its first component
  // does not exist ("sub/../x.json"), and the writer would create sub/ and write x.json.
  auto canonical = [](const fs::path& p) {
    std::error_code error;
    fs::path absolute = fs::absolute(p, error);
    if (error) return p.lexically_normal();
    fs::path resolved = fs::weakly_canonical(absolute, error);
    return error ? absolute.lexically_normal() : resolved;
  };
  return canonical(a) == canonical(b);
}

void check_output_paths(const std::vector<fs::path>& inputs, const std::vector<OutputPath>& outputs) {
  for (size_t o = 0; o < outputs.size(); ++o) {
    for (const fs::path& input : inputs) {
      if (same_file(outputs[o].path, input)) {
        throw InputError(outputs[o].option + " " + outputs[o].path.string() + " is the input file " + input.string() +
                         "; refusing to overwrite a result file: choose another output path");
      }
    }
    for (size_t earlier = 0; earlier < o; ++earlier) {
      if (same_file(outputs[o].path, outputs[earlier].path)) {
        throw InputError(outputs[earlier].option + " " + outputs[earlier].path.string() + " and " + outputs[o].option + " " +
                         outputs[o].path.string() + " are the same file: give each output its own path");
      }
    }
  }
}

}  // namespace aicbench::reports
