#pragma once
// Runs a binary through the shell and keeps its exit code and everything it printed: for the
// end-to-end tests of the aicbench binaries.
#include <array>
#include <cstdio>
#include <string>

#include <sys/wait.h>

namespace aicbench::testing {

struct Outcome {
  int exit_code;       // -1 when killed by a signal (a crash) or not started
  std::string output;  // stdout and stderr together
};

// `args` is passed to the shell as written, so quote what needs quoting.
inline Outcome run_binary(const std::string& binary, const std::string& args) {
  const std::string command = binary + " " + args + " 2>&1";
  FILE* pipe = ::popen(command.c_str(), "r");
  if (!pipe) return {-1, "popen failed"};
  std::string output;
  std::array<char, 4096> buffer;
  while (size_t n = std::fread(buffer.data(), 1, buffer.size(), pipe)) output.append(buffer.data(), n);
  const int status = ::pclose(pipe);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, output};
}

}  // namespace aicbench::testing
