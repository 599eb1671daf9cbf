// CSV and JUnit exports, and the refusal to write a report over its inputs. The files are also
// read back by real consumers (Python's csv module, junitparser, xmllint) in
// test_report_exports_cli.cpp; here their content is checked field by field.

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "reports/exports.hpp"
#include "reports/output_paths.hpp"
#include "tests/report_fixtures.hpp"
#include "tests/test_dir.hpp"

namespace {

namespace fs = std::filesystem;
using namespace aicbench::testing;
using aicbench::InputError;
using aicbench::ResultFile;
using aicbench::reports::csv_text_field;

// ---------------------------------------------------------------------------------------------
// A small RFC 4180 reader, to check what a consumer gets back
// ---------------------------------------------------------------------------------------------

std::vector<std::vector<std::string>> parse_csv(const std::string& text) {
  std::vector<std::vector<std::string>> rows(1);
  std::string cell;
  bool quoted = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (quoted) {
      if (c == '"' && i + 1 < text.size() && text[i + 1] == '"') { cell += '"'; ++i; }
      else if (c == '"') quoted = false;
      else cell += c;
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      rows.back().push_back(cell);
      cell.clear();
    } else if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') {
      rows.back().push_back(cell);
      cell.clear();
      rows.emplace_back();
      ++i;
    } else {
      cell += c;
    }
  }
  if (rows.back().empty()) rows.pop_back();
  return rows;
}

std::string cell(const std::vector<std::vector<std::string>>& rows, size_t row, const std::string& column) {
  const auto& header = rows.at(0);
  auto it = std::find(header.begin(), header.end(), column);
  if (it == header.end()) {
    ADD_FAILURE() << "no column " << column;
    return "";
  }
  return rows.at(row).at(static_cast<size_t>(it - header.begin()));
}

// A run with every status, an unstable result, a repeated benchmark and a hot one.
std::vector<ResultFile> mixed_run(bool complete = true) {
  json failed = gemm("simt", "fp32", 1000, 0, "failed", "validation failed: max_rel_err 0.3 > tolerance 1e-5");
  failed["aicbench"]["validation"]["max_rel_err"] = 0.3;
  json noisy = gemm("cublas", "fp32", 2048, 6.0);
  noisy["aicbench"]["unstable"] = true;
  std::vector<json> entries = {gemm("cublas", "fp32", 1024, 5.0), noisy, failed,
                               gemm("cublas", "fp32", 4096, 0, "error", "CUDA error: an illegal memory access"),
                               gemm("wgmma_sm90", "bf16", 4096, 0, "skipped", "needs sm_90"),
                               hot(gemm_shape("cublas", "fp32", 500, 300, 101, 1.0))};
  const std::vector<Repetition> reps = {{1.0, 0.001, 30, false}, {1.1, 0.001, 30, false}, {1.2, 0.001, 30, false}};
  for (const json& e : repeated(gemm("simt", "fp32", 1024, 2.0), reps, 1.1, 0.02, true)) entries.push_back(e);
  return {in_memory("mixed.json", result(provenance(true, complete), entries))};
}

// ---------------------------------------------------------------------------------------------
// CSV
// ---------------------------------------------------------------------------------------------

TEST(Csv, OneRowPerEntryWithEveryKeyField) {
  const auto rows = parse_csv(aicbench::reports::render_csv(mixed_run()));
  ASSERT_EQ(rows.size(), 1u + 6 + 7);  // header, six results, three repetitions and four aggregates
  for (const auto& row : rows) EXPECT_EQ(row.size(), rows[0].size());
  std::vector<std::string> expected_header = aicbench::reports::kCsvColumns;
  auto mode = std::find(expected_header.begin(), expected_header.end(), "mode");
  expected_header.insert(mode + 1, {"param:M", "param:N", "param:K"});
  EXPECT_EQ(rows[0], expected_header);

  EXPECT_EQ(cell(rows, 1, "file"), "mixed.json");
  EXPECT_EQ(cell(rows, 1, "host"), "node-a");
  EXPECT_EQ(cell(rows, 1, "gpu_uuid"), "GPU-1");
  EXPECT_EQ(cell(rows, 1, "gpu_name"), "NVIDIA H100 80GB HBM3");
  EXPECT_EQ(cell(rows, 1, "suite"), "quick");
  EXPECT_EQ(cell(rows, 1, "param:M"), "1024");
  EXPECT_EQ(cell(rows, 1, "real_time_s"), "0.00041");  // 0.41 ms, in seconds
  EXPECT_EQ(cell(rows, 1, "q3_s"), "0.00045");
  EXPECT_EQ(cell(rows, 1, "samples"), "40");
  EXPECT_EQ(cell(rows, 1, "tflops"), "5.0");
  EXPECT_EQ(cell(rows, 1, "tolerance"), "1e-05");
  EXPECT_EQ(cell(rows, 2, "unstable"), "true");
  EXPECT_EQ(cell(rows, 3, "status"), "failed");
  EXPECT_EQ(cell(rows, 3, "max_rel_err"), "0.3");
  EXPECT_EQ(cell(rows, 3, "tflops"), "");
  EXPECT_EQ(cell(rows, 4, "reason"), "CUDA error: an illegal memory access");
  EXPECT_EQ(cell(rows, 6, "mode"), "hot");
  EXPECT_EQ(cell(rows, 6, "param:N"), "300");
  EXPECT_EQ(cell(rows, 7, "repetition_index"), "0");
  EXPECT_EQ(cell(rows, 11, "name"), "gemm/simt/fp32/M:1024/N:1024/K:1024_median");
  EXPECT_EQ(cell(rows, 11, "run_name"), "gemm/simt/fp32/M:1024/N:1024/K:1024");
  EXPECT_EQ(cell(rows, 11, "run_type"), "aggregate");
  EXPECT_EQ(cell(rows, 11, "aggregate_name"), "median");
  EXPECT_EQ(cell(rows, 11, "real_time_s"), "0.0011");
  EXPECT_EQ(cell(rows, 13, "aggregate_name"), "cv");
  EXPECT_EQ(cell(rows, 13, "real_time_s"), "");  // a ratio, not a time:
  EXPECT_EQ(cell(rows, 13, "rel_stddev"), "0.02");
}

TEST(Csv, ParamsAreTheUnionOverRows) {
  json other = gemm("x", "fp32", 64, 1.0);
  other["aicbench"]["params"]["batch"] = 8;
  const auto rows = parse_csv(aicbench::reports::render_csv({unchecked("a.json", result(provenance(true), {gemm("x", "fp32", 32, 1.0), other}))}));
  EXPECT_EQ(cell(rows, 1, "param:batch"), "");
  EXPECT_EQ(cell(rows, 2, "param:batch"), "8");
}

TEST(Csv, QuotesLikeRfc4180) {
  EXPECT_EQ(csv_text_field("plain"), "plain");
  EXPECT_EQ(csv_text_field("a,b"), "\"a,b\"");
  EXPECT_EQ(csv_text_field("say \"hi\""), "\"say \"\"hi\"\"\"");
  EXPECT_EQ(csv_text_field("two\nlines"), "\"two\nlines\"");
  EXPECT_EQ(csv_text_field(std::string("nul\0here", 8)), "nul\xEF\xBF\xBDhere");
  json b = gemm("cublas", "fp32", 1024, 0, "error", "line one, \"quoted\"\r\nline two");
  const auto rows = parse_csv(aicbench::reports::render_csv({in_memory("q.json", result(provenance(true), {b}))}));
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(cell(rows, 1, "reason"), "line one, \"quoted\"\r\nline two");
}

TEST(Csv, NoFormulaInjection) {
  for (const std::string formula : {"=HYPERLINK(\"http://x\")", "+1+1", "-2+3+cmd|' /C calc'!A0", "@SUM(A1)", "\tx", "\rx"}) {
    const std::string field = csv_text_field(formula);
    ASSERT_GE(field.size(), 3u) << formula;
    EXPECT_EQ(field.substr(0, 2), "\"'") << "quoted, with an apostrophe first: " << field;
  }
  json b = gemm("cublas", "fp32", 1024, 0, "error", "=cmd|' /C calc'!A0");
  const std::string csv = aicbench::reports::render_csv({in_memory("f.json", result(provenance(true), {b}))});
  const auto rows = parse_csv(csv);
  EXPECT_EQ(cell(rows, 1, "reason"), "'=cmd|' /C calc'!A0");
  for (const auto& row : rows) {
    for (const auto& c : row) EXPECT_TRUE(c.empty() || std::string_view("=+@\t\r").find(c[0]) == std::string_view::npos) << c;
  }
}

// ---------------------------------------------------------------------------------------------
// JUnit
// ---------------------------------------------------------------------------------------------

TEST(Junit, ATestcasePerBenchmarkWithFailuresErrorsAndSkips) {
  const std::string xml = aicbench::reports::render_junit(mixed_run());
  EXPECT_EQ(xml.rfind("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"aicbench\" tests=\"7\" failures=\"1\" errors=\"1\" skipped=\"1\">", 0), 0u) << xml;
  EXPECT_NE(xml.find("<testsuite name=\"mixed.json\" tests=\"7\" failures=\"1\" errors=\"1\" skipped=\"1\" hostname=\"node-a\" timestamp=\"2026-11-24T22:00:00Z\">"), std::string::npos) << xml;
  EXPECT_EQ(count_of(xml, "<testcase "), 7u);  // the repeated benchmark is one testcase
  EXPECT_NE(xml.find("<testcase classname=\"gemm/cublas/fp32\" name=\"gemm/cublas/fp32/M:1024/N:1024/K:1024\" time=\"0.000410000\">"), std::string::npos) << xml;
  EXPECT_NE(xml.find("<failure type=\"validation\" message=\"failed: validation failed: max_rel_err 0.3 &gt; tolerance 1e-5 (measured max_rel_err 3.0e-01, tolerance 1.0e-05)\">"), std::string::npos) << xml;
  EXPECT_NE(xml.find("<error type=\"error\" message=\"error: CUDA error: an illegal memory access\">"), std::string::npos) << xml;
  EXPECT_NE(xml.find("<skipped message=\"skipped: needs sm_90\"/>"), std::string::npos) << xml;
  EXPECT_NE(xml.find("ok, UNSTABLE: noise above target</system-out>"), std::string::npos) << xml;
  EXPECT_NE(xml.find("<property name=\"gpu_uuid\" value=\"GPU-1\"/>"), std::string::npos) << xml;
  EXPECT_NE(xml.find("name=\"gemm/cublas/fp32/M:500/N:300/K:101/mode:hot\""), std::string::npos) << xml;
}

TEST(Junit, AnIncompleteRunIsAnError) {
  const std::string xml = aicbench::reports::render_junit(mixed_run(/*complete=*/false));
  EXPECT_NE(xml.find("tests=\"8\" failures=\"1\" errors=\"2\" skipped=\"1\""), std::string::npos) << xml;
  EXPECT_NE(xml.find("<testcase classname=\"aicbench\" name=\"run complete\">"), std::string::npos) << xml;
}

TEST(Junit, TextIsEscapedAndCharactersXmlForbidsReplaced) {
  json b = gemm("cublas", "fp32", 1024, 0, "error", std::string("a<b & \"c\" \0 \x1f \xEF\xBF\xBF end", 21));
  const std::string xml = aicbench::reports::render_junit({unchecked("x&y.json", result(provenance(true), {b}))});
  EXPECT_NE(xml.find("<testsuite name=\"x&amp;y.json\""), std::string::npos) << xml;
  EXPECT_NE(xml.find("a&lt;b &amp; &quot;c&quot; \xEF\xBF\xBD \xEF\xBF\xBD \xEF\xBF\xBD end"), std::string::npos) << xml;
  EXPECT_EQ(xml.find('\0'), std::string::npos);
  EXPECT_EQ(xml.find('\x1f'), std::string::npos);
  EXPECT_EQ(xml.find("\xEF\xBF\xBF"), std::string::npos);
}

// ---------------------------------------------------------------------------------------------
// Outputs never overwrite inputs or each other
// ---------------------------------------------------------------------------------------------

class OutputPaths : public ::testing::Test {
 protected:
  void SetUp() override {
    old_cwd_ = fs::current_path();
    fs::current_path(dir_.path());
    std::ofstream("x.json") << "{}";
  }
  void TearDown() override { fs::current_path(old_cwd_); }
  static std::string refusal(const std::vector<fs::path>& inputs, const std::vector<aicbench::reports::OutputPath>& outputs) {
    try {
      aicbench::reports::check_output_paths(inputs, outputs);
    } catch (const InputError& e) {
      EXPECT_EQ(e.exit_code(), 2);
      return e.what();
    }
    return "";
  }
  TestDir dir_;
  fs::path old_cwd_;
};

TEST_F(OutputPaths, AnOutputThatIsAnInputIsRefusedNamingBoth) {
  EXPECT_EQ(refusal({"x.json"}, {{"--md", "x.json"}}),
            "--md x.json is the input file x.json; refusing to overwrite a result file: choose another output path");
  EXPECT_NE(refusal({"./x.json"}, {{"--html", "x.json"}}), "");
  EXPECT_NE(refusal({"x.json"}, {{"--csv", dir_.path() / "x.json"}}), "");
  EXPECT_NE(refusal({"x.json"}, {{"--junit", "sub/../x.json"}}), "") << "the writer would create sub/ and write x.json";
  fs::create_symlink("x.json", "link.json");
  EXPECT_NE(refusal({"x.json"}, {{"--md", "link.json"}}), "");
  fs::create_hard_link("x.json", "hard.json");
  EXPECT_NE(refusal({"hard.json"}, {{"--md", "x.json"}}), "");
}

TEST_F(OutputPaths, TwoOutputsThatAreOneFileAreRefused) {
  EXPECT_EQ(refusal({"x.json"}, {{"--md", "out.md"}, {"--html", "./out.md"}}),
            "--md out.md and --html ./out.md are the same file: give each output its own path");
  EXPECT_EQ(refusal({"x.json"}, {{"--md", "r.md"}, {"--html", "r.html"}, {"--csv", "r.csv"}, {"--junit", "r.xml"}}), "");
}

}  // namespace
