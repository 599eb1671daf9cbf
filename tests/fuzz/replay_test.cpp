// Replays every committed fuzz input of one target (its seed corpus and its regressions, the
// inputs that once crashed a reader) through the target's LLVMFuzzerTestOneInput in an ordinary
// test build, so a fixed crash stays fixed without clang or libFuzzer. The target aborts on a
// finding (fuzz_expect.hpp); the file being replayed is printed first, so the log names it.
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <string>
#include <vector>

#include <gtest/gtest.h>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace {

namespace fs = std::filesystem;

TEST(FuzzReplay, EveryCommittedInputIsAcceptedOrRejectedCleanly) {
  std::vector<fs::path> inputs;
  for (const fs::path& dir : {fs::path(AICBENCH_FUZZ_CORPUS), fs::path(AICBENCH_FUZZ_REGRESSIONS)}) {
    if (!fs::is_directory(dir)) continue;  // a target may have no regressions yet
    for (const auto& entry : fs::recursive_directory_iterator(dir)) {
      if (entry.is_regular_file()) inputs.push_back(entry.path());
    }
  }
  ASSERT_FALSE(inputs.empty()) << "no seed corpus in " << AICBENCH_FUZZ_CORPUS;
  for (const fs::path& input : inputs) {
    std::cerr << "replaying " << input.string() << std::endl;
    std::ifstream in(input, std::ios::binary);
    const std::string bytes((std::istreambuf_iterator<char>(in)), {});
    EXPECT_EQ(LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()), 0);
  }
}

}  // namespace
