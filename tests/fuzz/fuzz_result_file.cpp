// libFuzzer target: any bytes as a result file, read from memory as `aicbench report` reads a
// file (the same bounds and checks), then, if accepted, rendered as the Markdown report.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "reports/report.hpp"
#include "reports/result_file.hpp"
#include "tests/fuzz/fuzz_expect.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const std::string origin = "<fuzz input>";
  aicbench::fuzz::expect_accepted_or_rejected(origin, [&] {
    const aicbench::ResultFile file = aicbench::parse_result_file(text, origin);
    (void)aicbench::reports::render_markdown({file});
  });
  return 0;
}
