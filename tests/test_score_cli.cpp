// `aicbench score` end to end through the reports-only binary, on specs/procurement/example.json
// and the FIXTURE result files of tests/data/procurement/ (tests/make_score_fixtures.py): the
// ranking and every figure traced, the outputs (Markdown, HTML with charts, JSON), the options, and
// the refusals (exit 2 naming the file, the field and what was expected).
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tests/run_binary.hpp"
#include "tests/test_dir.hpp"

namespace aicbench {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;
using testing::Outcome;

const fs::path kSpecs = AICBENCH_SPECS_DIR;
const fs::path kData = AICBENCH_TEST_DATA_DIR;
const std::string kExample = (kSpecs / "procurement" / "example.json").string();

Outcome score(const std::string& args) { return testing::run_binary(AICBENCH_REPORTS_BINARY, "score " + args); }

std::string read_text(const fs::path& path) {
  std::ifstream in(path);
  return std::string((std::istreambuf_iterator<char>(in)), {});
}

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

json example_json() {
  const Outcome out = score("--candidates " + kExample + " --json -");
  EXPECT_EQ(out.exit_code, 0) << out.output;
  return json::parse(out.output);
}

TEST(ScoreCli, TheExampleRanksTheFixtureCandidates) {
  const Outcome out = score("--candidates " + kExample);
  ASSERT_EQ(out.exit_code, 0) << out.output;
  const std::string& md = out.output;
  EXPECT_TRUE(contains(md, "# Procurement scorecard: Example: 10,000-GPU AI centre, phase 1")) << md;
  EXPECT_TRUE(contains(md, "FIXTURE data: the result files of H100-class, H200-class, B200-class are fixtures")) << md;
  EXPECT_TRUE(contains(md, "| 1 | B200-class FIXTURE | NVIDIA B200 (HGX B200, 8 GPUs) |")) << md;
  // The H200 class is faster than the reference but dearer per unit of performance: the budget
  // buys less of it.
  EXPECT_TRUE(contains(md, "| 2 | H100-class (reference) FIXTURE |")) << md;
  EXPECT_TRUE(contains(md, "| 3 | H200-class FIXTURE |")) << md;
  EXPECT_TRUE(contains(md, "1000 W STATED")) << md;  // the B200-class files carry no telemetry
  // Traced: files, formulas, rows; what is left out and why.
  EXPECT_TRUE(contains(md, "Result files (../../tests/data/procurement/b200/\\*.json): F1 ../../tests/data/procurement/b200/gpu0.json"))
      << md;
  EXPECT_TRUE(contains(md, "Purchase per GPU = (420M won per node + network 40.0M won + rack_and_cooling 12.0M won) / 8 GPUs per node"))
      << md;
  EXPECT_TRUE(contains(md, "| gemm/fp16/M:4096/N:4096/K:4096 | gemm_half | not measured: H200-class, B200-class |")) << md;
  EXPECT_TRUE(contains(md, "not measured: B200-class")) << md;  // the long decode shape
  EXPECT_TRUE(contains(md, "wgmma_sm90 F1#1 F2#1")) << md;     // best valid: ours on Hopper
  EXPECT_TRUE(contains(md, "Training capacity (llama3-70b)")) << md;
  EXPECT_TRUE(contains(md, "not available: the sizing model is not wired into score in this build")) << md;
}

TEST(ScoreCli, JsonHoldsEveryFigureAndItsRows) {
  const json j = example_json();
  ASSERT_EQ(j["candidates"].size(), 3u);
  const json& h100 = j["candidates"][0];
  const json& b200 = j["candidates"][2];
  EXPECT_EQ(h100["name"], "H100-class");
  EXPECT_TRUE(h100["reference"].get<bool>());
  EXPECT_DOUBLE_EQ(h100["index"].get<double>(), 1.0);
  EXPECT_EQ(b200["rank"], 1);
  EXPECT_FALSE(b200["power"]["measured"].get<bool>());
  EXPECT_TRUE(h100["power"]["measured"].get<bool>());
  EXPECT_TRUE(b200["fixture"].get<bool>());
  // 1e12 won / (420M + 40M + 12M) per node = 2118 nodes.
  EXPECT_EQ(h100["budget"]["nodes"], 2118);
  EXPECT_EQ(h100["budget"]["gpus"], 2118 * 8);
  EXPECT_DOUBLE_EQ(h100["costs"]["purchase_per_gpu_won"].get<double>(), 472e6 / 8);
  const double index = b200["index"].get<double>();
  EXPECT_GT(index, 1.6);
  EXPECT_LT(index, 2.4);
  EXPECT_NEAR(b200["fleet_performance"].get<double>(), index * b200["budget"]["gpus"].get<double>(), 1e-6);
  // Every scored benchmark traced to its rows, with the file's path.
  size_t scored = 0;
  for (const json& b : j["benchmarks"]) {
    if (!b["scored"].get<bool>()) {
      EXPECT_FALSE(b["left_out"].get<std::string>().empty());
      continue;
    }
    ++scored;
    for (const json& c : b["candidates"]) {
      ASSERT_FALSE(c["rows"].empty()) << b["benchmark"];
      EXPECT_TRUE(contains(c["rows"][0]["path"].get<std::string>(), "tests/data/procurement/")) << c;
    }
  }
  EXPECT_EQ(j["scored_benchmarks"], scored);
  EXPECT_EQ(scored, 13u);
}

TEST(ScoreCli, WritesMarkdownHtmlAndJson) {
  testing::TestDir dir;
  const fs::path md = dir / "score.md", html = dir / "score.html", js = dir / "score.json";
  const Outcome out = score("--candidates " + kExample + " --md " + md.string() + " --html " + html.string() + " --json " + js.string());
  ASSERT_EQ(out.exit_code, 0) << out.output;
  EXPECT_TRUE(contains(out.output, "aicbench score: 1 B200-class")) << out.output;
  EXPECT_TRUE(contains(read_text(md), "## Ranking"));
  EXPECT_NO_THROW((void)json::parse(read_text(js)));
  const std::string page = read_text(html);
  EXPECT_TRUE(contains(page, "<h1>Procurement scorecard: Example: 10,000-GPU AI centre, phase 1</h1>"));
  EXPECT_TRUE(contains(page, "<h2>Ranking</h2>"));
  // The charts where gnuplot is installed, else a note saying how to get them.
  if (contains(page, "<svg")) {
    EXPECT_TRUE(contains(page, "Performance index against cost per GPU")) << page.substr(0, 2000);
    EXPECT_TRUE(contains(page, "performance the budget buys"));
  } else {
    EXPECT_TRUE(contains(page, "Charts are not drawn")) << page.substr(0, 2000);
  }
}

TEST(ScoreCli, OptionsChangeProfileReferenceAndImplementations) {
  const Outcome inference = score("--candidates " + kExample + " --profile inference-heavy --json -");
  ASSERT_EQ(inference.exit_code, 0) << inference.output;
  EXPECT_EQ(json::parse(inference.output)["input"]["profile"]["name"], "inference-heavy");

  const Outcome reference = score("--candidates " + kExample + " --reference B200-class --json -");
  ASSERT_EQ(reference.exit_code, 0) << reference.output;
  const json r = json::parse(reference.output);
  EXPECT_DOUBLE_EQ(r["candidates"][2]["index"].get<double>(), 1.0);
  EXPECT_LT(r["candidates"][0]["index"].get<double>(), 0.7);

  const Outcome vendor = score("--candidates " + kExample + " --impls vendor --json -");
  ASSERT_EQ(vendor.exit_code, 0) << vendor.output;
  for (const json& b : json::parse(vendor.output)["benchmarks"]) {
    for (const json& c : b["candidates"]) {
      if (c["state"] == "ok") EXPECT_TRUE(c["vendor"].get<bool>()) << b["benchmark"];
    }
  }
  const Outcome bad = score("--candidates " + kExample + " --impls fastest");
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_TRUE(contains(bad.output, "--impls is 'fastest', expected best or vendor")) << bad.output;
}

class ScoreCliBadInput : public ::testing::Test {
 protected:
  // The example rewritten into the test directory with its result globs made absolute.
  json example() {
    json j = json::parse(read_text(kExample));
    for (json& c : j["candidates"]) {
      for (json& r : c["results"]) r = (kSpecs / "procurement" / r.get<std::string>()).lexically_normal().string();
    }
    return j;
  }
  Outcome run(const json& j, const std::string& extra = "") {
    std::ofstream(path_) << j.dump(1);
    return score("--candidates " + path_.string() + extra);
  }
  testing::TestDir dir_;
  fs::path path_ = dir_ / "candidates.json";
};

TEST_F(ScoreCliBadInput, ExitTwoNamingFileFieldAndExpectation) {
  EXPECT_EQ(run(example()).exit_code, 0);

  json j = example();
  j["candidates"][1]["price"].erase("per_node_won");
  Outcome o = run(j);
  EXPECT_EQ(o.exit_code, 2);
  EXPECT_TRUE(contains(o.output, "aicbench score: " + path_.string() + ": field 'candidates[1].price' gives no price; expected per_gpu_won"))
      << o.output;

  j = example();
  j["profile"] = "research-heavy";
  o = run(j);
  EXPECT_EQ(o.exit_code, 2);
  EXPECT_TRUE(contains(o.output, "field 'profile' is 'research-heavy', which is no known profile")) << o.output;
  EXPECT_TRUE(contains(o.output, "profiles: inference-heavy, mixed, training-heavy")) << o.output;

  j = example();
  j["candidates"][2]["results"] = {(kData / "procurement" / "b300" / "*.json").string()};
  o = run(j);
  EXPECT_EQ(o.exit_code, 2);
  EXPECT_TRUE(contains(o.output, "field 'candidates[2].results[0]' is '" + (kData / "procurement" / "b300" / "*.json").string() +
                                     "', which matches no file"))
      << o.output;

  j = example();
  j["centre"]["utilisation"] = 1.5;
  o = run(j);
  EXPECT_EQ(o.exit_code, 2);
  EXPECT_TRUE(contains(o.output, "field 'centre.utilisation' is 1.5, expected a number <= 1")) << o.output;

  std::ofstream(path_) << "{\"name\": \"x\",";
  o = score("--candidates " + path_.string());
  EXPECT_EQ(o.exit_code, 2);
  EXPECT_TRUE(contains(o.output, path_.string())) << o.output;

  // A result file that is not one: named.
  std::ofstream(dir_ / "broken.json") << "[]";
  j = example();
  j["candidates"][0]["results"] = {"broken.json"};
  o = run(j);
  EXPECT_EQ(o.exit_code, 2);
  EXPECT_TRUE(contains(o.output, "broken.json: not an aicbench result")) << o.output;

  // No power measured and none stated.
  j = example();
  j["candidates"][2].erase("power_per_gpu_w");
  o = run(j);
  EXPECT_EQ(o.exit_code, 2);
  EXPECT_TRUE(contains(o.output, "candidate 'B200-class' has no power figure")) << o.output;

  o = run(example(), " --reference B100-class");
  EXPECT_EQ(o.exit_code, 2);
  EXPECT_TRUE(contains(o.output, "--reference is 'B100-class', which names no candidate")) << o.output;
  EXPECT_TRUE(contains(o.output, "did you mean")) << o.output;

  // An output over an input is refused before anything is written.
  o = run(example(), " --md " + path_.string());
  EXPECT_EQ(o.exit_code, 2);
  EXPECT_EQ(score("").exit_code, 2);
}

}  // namespace
}  // namespace aicbench
