#pragma once
#include <string>

namespace aicbench {

// Filled in at build time from git (cmake/WriteBuildInfo.cmake).
struct BuildInfo {
  std::string version;
  std::string git_commit;
  bool git_dirty;
};
const BuildInfo& build_info();

}  // namespace aicbench
