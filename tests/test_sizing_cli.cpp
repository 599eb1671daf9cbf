// `aicbench size` end to end with the reports-only binary on the FIXTURE candidates
// (specs/procurement/fixtures/): the issue's example (days, MFU and a time breakdown for Llama 3
// 70B on 10,000 GPUs, and the GPUs for a 90-day deadline), JSON and HTML outputs, and the
// refusals: every bad input is exit 2 naming the option, file or field.
#include <filesystem>
#include <fstream>
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

const fs::path kFixtures = fs::path(AICBENCH_SPECS_DIR) / "procurement" / "fixtures";

Outcome aicbench(const std::string& args) { return testing::run_binary(AICBENCH_REPORTS_BINARY, "size " + args); }

std::string fixture(const std::string& name) { return (kFixtures / (name + ".json")).string(); }

const std::string kExample = "--model llama3-70b --tokens 15e12 --gpus 10000 --candidate " + fixture("h100_sxm") +
                             " --candidate " + fixture("h200") + " --candidate " + fixture("b200");

void expect_refused(const std::string& args, const std::string& named) {
  const Outcome out = aicbench(args);
  EXPECT_EQ(out.exit_code, 2) << args << "\n" << out.output;
  EXPECT_NE(out.output.find(named), std::string::npos) << "expected '" << named << "' in:\n" << out.output;
}

TEST(SizeCli, TheIssuesExampleGivesDaysMfuAndABreakdownPerCandidate) {
  const Outcome out = aicbench(kExample + " --deadline-days 90");
  ASSERT_EQ(out.exit_code, 0) << out.output;
  for (const char* part : {"## Summary", "days", "MFU", "Where the step time goes", "pipeline bubble",
                           "tensor-parallel communication", "GPUs needed to finish in 90.0 days", "FIXTURE",
                           "Candidate NVIDIA H100", "Candidate NVIDIA H200", "Candidate NVIDIA B200", "## Assumptions"}) {
    EXPECT_NE(out.output.find(part), std::string::npos) << part;
  }
}

TEST(SizeCli, JsonCarriesEveryAnswerWithItsSources) {
  const Outcome out = aicbench(kExample + " --deadline-days 90 --won-per-kwh 150 --pue 1.3 --json");
  ASSERT_EQ(out.exit_code, 0) << out.output;
  const json j = json::parse(out.output);
  ASSERT_EQ(j["candidates"].size(), 3u);
  for (const json& c : j["candidates"]) {
    EXPECT_TRUE(c["fixture"].get<bool>());
    const json& at = c["at_gpus"];
    EXPECT_EQ(at["gpus"], 10000);
    EXPECT_GT(at["days"].get<double>(), 0);
    const json& step = at["step"];
    EXPECT_GT(step["mfu"].get<double>(), 0.1);
    EXPECT_LT(step["mfu"].get<double>(), 1.0);
    double parts = 0;
    for (const char* k : {"gemm", "attention", "other", "tp_comm", "ep_comm", "pp_comm", "dp_comm", "bubble"}) {
      parts += step["breakdown_s"][k].get<double>();
    }
    EXPECT_NEAR(parts, step["step_time_s"].get<double>(), 1e-9 * parts);
    EXPECT_EQ(step["layout"]["tp"].get<int64_t>() * step["layout"]["pp"].get<int64_t>() * step["layout"]["dp"].get<int64_t>(),
              10000);
    EXPECT_GT(at["energy"]["mwh"].get<double>(), 0);
    EXPECT_DOUBLE_EQ(at["energy"]["cost_won"].get<double>(), at["energy"]["mwh"].get<double>() * 1000 * 150);
    EXPECT_EQ(at["energy"]["pue"], 1.3);
    EXPECT_EQ(at["energy"]["power_w"]["source"], "measured");  // the fixture's power_w rows
    for (const json& g : step["gemms"]) EXPECT_FALSE(g["forward_tflops"]["source"].get<std::string>().empty());
    EXPECT_GT(c["deadline"]["needed"]["gpus"].get<int64_t>(), 0);
    EXPECT_LE(c["deadline"]["needed"]["days"].get<double>(), 90);
  }
}

TEST(SizeCli, WritesMarkdownAndHtml) {
  testing::TestDir dir;
  const Outcome out = aicbench(kExample + " --md " + (dir / "size.md").string() + " --html " + (dir / "size.html").string());
  ASSERT_EQ(out.exit_code, 0) << out.output;
  std::ifstream html(dir / "size.html");
  const std::string page((std::istreambuf_iterator<char>(html)), std::istreambuf_iterator<char>());
  EXPECT_EQ(page.rfind("<!DOCTYPE html>", 0), 0u) << page.substr(0, 100);
  EXPECT_NE(page.find("<table>"), std::string::npos);
  EXPECT_NE(page.find("Where the step time goes"), std::string::npos);
  EXPECT_TRUE(fs::exists(dir / "size.md"));
}

TEST(SizeCli, EntriesSharingANameAreOneCandidate) {
  // The same name groups files into one candidate; its files must hold one GPU model.
  const Outcome mixed = aicbench("--model llama3-8b --tokens 1e12 --gpus 64 --candidate offer=" + fixture("h100_sxm") +
                                 " --candidate offer=" + fixture("h200"));
  EXPECT_EQ(mixed.exit_code, 2) << mixed.output;
  EXPECT_NE(mixed.output.find("the files hold different GPUs"), std::string::npos) << mixed.output;
  // Unnamed entries, or entries separated by a comma, are candidates of their own.
  const Outcome two = aicbench("--model llama3-8b --tokens 1e12 --gpus 64 --json --candidate offer=" + fixture("h100_sxm") +
                               "," + fixture("h200"));
  ASSERT_EQ(two.exit_code, 0) << two.output;
  const json j = json::parse(two.output);
  ASSERT_EQ(j["candidates"].size(), 2u);
  EXPECT_EQ(j["candidates"][0]["name"], "offer");
  EXPECT_EQ(j["candidates"][1]["name"], "NVIDIA H200 SXM 141GB");
}

TEST(SizeCli, MixtureOfExpertsAndFp8) {
  const Outcome out = aicbench("--model deepseek-v3 --tokens 14.8e12 --gpus 2048 --dtype fp8 --candidate " +
                               fixture("h100_sxm") + " --json");
  ASSERT_EQ(out.exit_code, 0) << out.output;
  const json j = json::parse(out.output);
  const json& step = j["candidates"][0]["at_gpus"]["step"];
  EXPECT_GT(step["layout"]["ep"].get<int64_t>(), 1);
  EXPECT_GT(step["breakdown_s"]["ep_comm"].get<double>(), 0);
  // The fp8 dense peak is twice bf16's (to the datasheet's rounding).
  EXPECT_NEAR(step["mfu_bf16"].get<double>(), 2 * step["mfu"].get<double>(), 1e-3 * step["mfu_bf16"].get<double>());
}

TEST(SizeCli, BadInputIsExitTwoNamingWhatIsWrong) {
  const std::string h100 = " --candidate " + fixture("h100_sxm");
  expect_refused("--model llama3-7b --tokens 1e12 --gpus 8" + h100, "--model llama3-7b");
  expect_refused("--model llama3-70b --tokens 0 --gpus 8" + h100, "--tokens 0");
  expect_refused("--model llama3-70b --tokens -5 --gpus 8" + h100, "--tokens -5");
  expect_refused("--model llama3-70b --tokens many --gpus 8" + h100, "--tokens many");
  expect_refused("--model llama3-70b --tokens 1e12" + h100, "--gpus or --deadline-days");
  expect_refused("--model llama3-70b --tokens 1e12 --gpus 64", "--candidate");
  expect_refused("--model llama3-70b --tokens 1e12 --gpus 64 --tp 3" + h100, "--tp 3");
  expect_refused("--model llama3-70b --tokens 1e12 --gpus 64 --ep 8" + h100, "--ep 8");
  expect_refused("--model llama3-70b --tokens 1e12 --gpus 64 --dtype fp4" + h100, "--dtype fp4");
  expect_refused("--model llama3-405b --tokens 1e12 --gpus 8" + h100, "no layout of 8 GPUs fits");
  expect_refused("--model llama3-70b --tokens 1e12 --gpus 12" + h100, "--gpus 12");
  expect_refused("--model llama3-70b --tokens 1e12 --gpus 64 --candidate /nonexistent.json", "/nonexistent.json");
  // A CPU run is not a GPU candidate.
  expect_refused("--model llama3-70b --tokens 1e12 --gpus 64 --candidate " +
                     (fs::path(AICBENCH_TEST_DATA_DIR) / "result-cpu-smoke.json").string(),
                 "context.aicbench.backend");

  testing::TestDir dir;
  std::ofstream(dir / "model.json") << R"({"name": "m", "description": "d", "source": "s", "layers": 4, "hidden": 256,
      "heads": 4, "kv_heads": 4, "head_dim": 64, "mlp": "gated", "vocab": 1000, "seq_len": 128})";
  expect_refused("--model " + (dir / "model.json").string() + " --tokens 1e9 --gpus 8" + h100, "ffn_hidden");
  std::ofstream(dir / "nobatch.json") << R"({"name": "m", "description": "d", "source": "s", "layers": 4, "hidden": 256,
      "heads": 4, "kv_heads": 4, "head_dim": 64, "ffn_hidden": 512, "mlp": "gated", "vocab": 1000, "seq_len": 128})";
  expect_refused("--model " + (dir / "nobatch.json").string() + " --tokens 1e9 --gpus 8" + h100, "--global-batch");
  const Outcome ok = aicbench("--model " + (dir / "nobatch.json").string() + " --tokens 1e9 --gpus 8 --global-batch 64" + h100);
  EXPECT_EQ(ok.exit_code, 0) << ok.output;
}

}  // namespace
}  // namespace aicbench
