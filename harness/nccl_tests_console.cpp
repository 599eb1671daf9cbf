#include "harness/nccl_tests_console.hpp"

#include <cstdio>
#include <ostream>

namespace aicbench {

std::string nccl_tests_float(double value, int width) {
  char buf[64];
  for (const char* format : {"%*.2f", "%*.1f", "%*.0f"}) {
    if (std::snprintf(buf, sizeof buf, format, width, value) <= width) return buf;
  }
  std::snprintf(buf, sizeof buf, width >= 7 ? "%*.1e" : "%*.0e", width, value);
  return std::string(buf).substr(0, static_cast<size_t>(width));
}

std::string nccl_tests_type_name(std::string_view dtype) {
  if (dtype == "fp32") return "float";
  if (dtype == "bf16") return "bfloat16";
  if (dtype == "fp16") return "half";
  if (dtype == "fp64") return "double";
  if (dtype == "int32") return "int32";
  if (dtype == "fp8") return "f8e4m3";
  return std::string(dtype);
}

namespace {

std::string body(const std::optional<NcclTestsResult>& r) {
  char buf[96];
  if (!r || !r->time_s) {
    // Not measured: nccl-tests has no such line; dashes keep the columns.
    const std::string wrong = r && r->wrong ? std::to_string(*r->wrong) : "N/A";
    std::snprintf(buf, sizeof buf, "  %7s  %6s  %6s  %6s", "-", "-", "-", wrong.c_str());
    return buf;
  }
  std::snprintf(buf, sizeof buf, "  %7s  %6s  %6s  %6g", nccl_tests_float(*r->time_s * 1e6, 7).c_str(),
                nccl_tests_float(r->algbw_gbps, 6).c_str(), nccl_tests_float(r->busbw_gbps, 6).c_str(),
                static_cast<double>(r->wrong.value_or(0)));
  return buf;
}

}  // namespace

std::string nccl_tests_header() {
  char buf[512];
  std::string out = "#\n";
  std::snprintf(buf, sizeof buf, "# %10s  %12s  %8s  %6s  %6s           out-of-place                       in-place          \n",
                "", "", "", "", "");
  out += buf;
  std::snprintf(buf, sizeof buf, "# %10s  %12s  %8s  %6s  %6s  %7s  %6s  %6s  %6s  %7s  %6s  %6s  %6s\n", "size", "count",
                "type", "redop", "root", "time", "algbw", "busbw", "#wrong", "time", "algbw", "busbw", "#wrong");
  out += buf;
  std::snprintf(buf, sizeof buf, "# %10s  %12s  %8s  %6s  %6s  %7s  %6s  %6s  %6s  %7s  %6s  %6s  %6s\n", "(B)",
                "(elements)", "", "", "", "(us)", "(GB/s)", "(GB/s)", "", "(us)", "(GB/s)", "(GB/s)", "");
  return out + buf;
}

std::string nccl_tests_line(int64_t size, int64_t count, std::string_view type, std::string_view redop, int root,
                            const std::optional<NcclTestsResult>& out_of_place,
                            const std::optional<NcclTestsResult>& in_place) {
  char buf[128];
  std::snprintf(buf, sizeof buf, "%12lld  %12lld  %8s  %6s  %6d", static_cast<long long>(size),
                static_cast<long long>(count), std::string(type).c_str(), std::string(redop).c_str(), root);
  return buf + body(out_of_place) + body(in_place) + "\n";
}

NcclTestsTable::~NcclTestsTable() { finish(); }

void NcclTestsTable::flush_line() {
  if (!line_open_) return;
  out_ << nccl_tests_line(size_, count_, type_, redop_, root_, oop_, ip_);
  for (const auto& side : {oop_, ip_}) {
    if (side && side->time_s) {
      busbw_sum_ += side->busbw_gbps;
      ++busbw_count_;
    }
    if (side && side->wrong && *side->wrong > 0) ++errors_;
  }
  line_open_ = false;
  oop_.reset();
  ip_.reset();
}

void NcclTestsTable::finish() {
  flush_line();
  if (table_.empty()) return;
  // nccl-tests closes with the results that had wrong elements and the mean busbw over every
  // measured result, out of place and in place.
  char buf[128];
  std::snprintf(buf, sizeof buf, "# %-20s : %d %s\n", "Out of bounds values", errors_, errors_ ? "FAILED" : "OK");
  out_ << buf;
  std::snprintf(buf, sizeof buf, "# %-20s : %g \n#\n", "Avg bus bandwidth", busbw_count_ ? busbw_sum_ / busbw_count_ : 0.0);
  out_ << buf << std::flush;
  table_.clear();
  busbw_sum_ = 0;
  busbw_count_ = 0;
  errors_ = 0;
}

void NcclTestsTable::add(const std::string& table, int64_t size, int64_t count, std::string_view type,
                         std::string_view redop, int root, bool in_place, const NcclTestsResult& result) {
  if (table != table_) {
    finish();
    table_ = table;
    out_ << "# " << table << "\n" << nccl_tests_header();
  }
  std::optional<NcclTestsResult>& side = in_place ? ip_ : oop_;
  if (line_open_ && (size != size_ || side)) flush_line();
  if (!line_open_) {
    line_open_ = true;
    size_ = size;
    count_ = count;
    type_ = std::string(type);
    redop_ = std::string(redop);
    root_ = root;
  }
  (in_place ? ip_ : oop_) = result;
  if (oop_ && ip_) flush_line();
}

}  // namespace aicbench
