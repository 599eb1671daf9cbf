// libFuzzer target: any bytes as a result file, read from memory as `aicbench report` reads a
// file (the same bounds and checks), then, if accepted, read as the typed rows every command
// works from and rendered as the Markdown report.
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "reports/report.hpp"
#include "reports/result_file.hpp"
#include "reports/result_rows.hpp"
#include "tests/fuzz/fuzz_expect.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const std::string origin = "<fuzz input>";
  aicbench::fuzz::expect_accepted_or_rejected(origin, [&] {
    const std::vector<aicbench::ResultFile> files = {aicbench::parse_result_file(text, origin)};
    for (const aicbench::ResultRow& row : aicbench::result_rows(files)) (void)row.throughput();
    (void)aicbench::measurement_rows(files);
    (void)aicbench::environment_of(files.front());
    (void)aicbench::reports::render_markdown(files);
  });
  return 0;
}
