#pragma once
// `aicbench run --console nccl-tests`: collective results printed in nccl-tests' own column layout
// (src/common.cu and util.cu of NVIDIA/nccl-tests: size, count, type, redop, root, then time,
// algbw, busbw and #wrong out of place and in place), so a run and an all_reduce_perf run can be
// compared line by line. One table per operation, implementation and dtype; a line per size, its
// out-of-place and in-place rows side by side.
#include <cstdint>
#include <iosfwd>
#include <optional>
#include <string>
#include <string_view>

namespace aicbench {

// nccl-tests' getFloatStr: `value` in `width` characters, with 2 decimals if they fit, else 1,
// else 0, else in exponent form.
std::string nccl_tests_float(double value, int width);
// nccl-tests' type names: float, bfloat16, half, double, int32, f8e4m3.
std::string nccl_tests_type_name(std::string_view dtype);

struct NcclTestsResult {
  std::optional<double> time_s;  // the median; absent when not measured (skipped, failed, error)
  double algbw_gbps = 0, busbw_gbps = 0;
  std::optional<int64_t> wrong;  // absent when not validated
};

// The three header lines nccl-tests prints before its table (no timestamps, no per-iteration columns).
std::string nccl_tests_header();
std::string nccl_tests_line(int64_t size, int64_t count, std::string_view type, std::string_view redop, int root,
                            const std::optional<NcclTestsResult>& out_of_place,
                            const std::optional<NcclTestsResult>& in_place);

// Collects rows as they are measured and prints a line once a size has both its rows (or the
// next size begins), a title and the header when the table changes, and nccl-tests' closing
// "Avg bus bandwidth" line when it ends.
class NcclTestsTable {
 public:
  explicit NcclTestsTable(std::ostream& out) : out_(out) {}
  ~NcclTestsTable();
  // `table`: what the rows are ("all_reduce/ring/fp32 (cpu, 4 ranks on 1 node)"); a new value
  // closes the previous table.
  void add(const std::string& table, int64_t size, int64_t count, std::string_view type, std::string_view redop,
           int root, bool in_place, const NcclTestsResult& result);
  void finish();

 private:
  void flush_line();
  std::ostream& out_;
  std::string table_;
  bool line_open_ = false;
  int64_t size_ = 0, count_ = 0;
  std::string type_, redop_;
  int root_ = -1;
  std::optional<NcclTestsResult> oop_, ip_;
  double busbw_sum_ = 0;
  int busbw_count_ = 0;
  int errors_ = 0;  // results with wrong elements
};

}  // namespace aicbench
