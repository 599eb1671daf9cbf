// libFuzzer target: any bytes as a suite file (specs/suites/*.json), read by the suite reader
// that `aicbench run` and `list` use, then expanded into its benchmarks on both backends.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include <unistd.h>

#include "harness/specs.hpp"
#include "tests/fuzz/fuzz_expect.hpp"

namespace {

// The reader takes a path: each input is written to one file in a directory of this process's
// own, removed at exit.
class SuiteFile {
 public:
  SuiteFile() {
    std::string pattern = (std::filesystem::temp_directory_path() / "aicbench-fuzz-suite-XXXXXX").string();
    if (!::mkdtemp(pattern.data())) std::abort();
    dir_ = pattern;
    path_ = dir_ / "suite.json";
  }
  ~SuiteFile() {
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }
  const std::filesystem::path& write(const uint8_t* data, size_t size) {
    std::ofstream(path_, std::ios::binary | std::ios::trunc).write(reinterpret_cast<const char*>(data), size);
    return path_;
  }

 private:
  std::filesystem::path dir_, path_;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static SuiteFile file;
  const std::filesystem::path& path = file.write(data, size);
  aicbench::fuzz::expect_accepted_or_rejected(path.string(), [&] {
    const aicbench::Suite suite = aicbench::load_suite_file(path);
    for (aicbench::Backend backend : {aicbench::Backend::cpu, aicbench::Backend::cuda}) {
      for (const aicbench::BenchmarkSpec& spec : suite.benchmarks(backend)) (void)spec.name();
    }
  });
  return 0;
}
