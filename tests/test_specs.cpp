// Suite files and datasheets: the shipped ones load, malformed ones are rejected with the file,
// the field and what was expected.
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "harness/specs.hpp"
#include "reports/result_file.hpp"
#include "tests/test_dir.hpp"

namespace aicbench {
namespace {

namespace fs = std::filesystem;

std::string load_error(const std::string& text) {
  const testing::TestDir dir;
  const fs::path path = dir / "suite.json";
  { std::ofstream(path) << text; }
  try {
    load_suite_file(path);
  } catch (const InputError& e) {
    EXPECT_EQ(e.exit_code(), 2);
    return e.what();
  }
  return "";
}

TEST(Specs, ShippedSuitesLoadWithVendorFirst) {
  for (std::string name : {"quick", "smoke"}) {
    Suite suite = load_suite(name);
    EXPECT_EQ(suite.name, name);
    auto cuda = suite.benchmarks(Backend::cuda);
    ASSERT_FALSE(cuda.empty());
    EXPECT_EQ(cuda.front().impl, "cublas");
    EXPECT_TRUE(cuda.front().vendor);
    auto cpu = suite.benchmarks(Backend::cpu);
    // The GEMMs; the quick suite's all-reduce (for jobs of 2 ranks or more) has its own test.
    std::erase_if(cpu, [](const BenchmarkSpec& s) { return s.family != "gemm"; });
    ASSERT_FALSE(cpu.empty());
    // The GEMMs and the memory rows (attention's cpu rows have no vendor baseline).
    std::erase_if(cpu, [](const BenchmarkSpec& b) { return b.family != "gemm" && b.family != "memory"; });
    // Per shape OpenBLAS, the cpu backend's vendor baseline, then our kernel; the quick suite's
    // memory rows likewise: the STREAM-like reference, then our triad.
    ASSERT_NE(find_implementation("gemm", "openblas"), nullptr) << "registered in every build";
    for (size_t i = 0; i < cpu.size(); ++i) {
      const bool baseline = i % 2 == 0;
      const bool gemm = cpu[i].family == "gemm";
      EXPECT_EQ(cpu[i].impl, baseline ? (gemm ? "openblas" : "stream_reference") : (gemm ? "cpu_blocked" : "cpu_triad"))
          << cpu[i].name();
      EXPECT_EQ(cpu[i].vendor, baseline) << cpu[i].name();
    }
    EXPECT_EQ(cpu.front().name().rfind("gemm/openblas/fp32/M:", 0), 0u) << cpu.front().name();
  }
}

TEST(Specs, UnknownSuiteListsTheValidOnes) {
  try {
    load_suite("no-such-suite");
    FAIL();
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("quick"), std::string::npos) << e.what();
    EXPECT_EQ(e.exit_code(), 2);
  }
}

TEST(Specs, MalformedSuitesNameFileAndField) {
  const std::string head = R"({"name": "t", "version": 1, "measurement": {"cpu": {"timeout_s": 2}}, )";
  auto group = [&](const std::string& impls, const std::string& dtypes, const std::string& shapes) {
    return head + R"("groups": [{"family": "gemm", "dtypes": [)" + dtypes + R"(], "impls": [)" + impls +
           R"(], "shapes": )" + shapes + "}]}";
  };
  const std::string cpu_shape = R"({"cpu": [{"M": 8, "N": 8, "K": 8}]})";
  auto expect = [](const std::string& message, const std::string& fragment) {
    EXPECT_NE(message.find(fragment), std::string::npos) << "expected '" << fragment << "' in: " << message;
    EXPECT_NE(message.find("suite.json"), std::string::npos) << message;
  };
  expect(load_error("{not json"), "not JSON");
  expect(load_error(R"({"version": 1, "groups": []})"), "missing field 'name'");
  expect(load_error(R"({"name": 3, "version": 1, "groups": [{"family": "gemm", "dtypes": ["fp32"], "impls": ["simt"], "shapes": {}}]})"),
         "field 'name' is integer 3, expected a string");
  expect(load_error(group(R"("nope")", R"("fp32")", cpu_shape)), "'groups[0].impls' names 'nope'");
  expect(load_error(group(R"("simtt")", R"("fp32")", cpu_shape)), "did you mean 'simt'?");
  expect(load_error(group(R"("simt")", R"("fp32", "fp64")", cpu_shape)),
         "names 'fp64', which none of the group's implementations provides");
  expect(load_error(group(R"("simt")", R"("bf16")", cpu_shape)),
         "'groups[0].dtypes' names none of the dtypes that implementation 'simt' provides (fp32)");
  expect(load_error(group(R"("simt")", R"("fp32")", R"({"cuda": [{"M": -4, "N": 1, "K": 1}]})")),
         "field 'groups[0].shapes.cuda[0].M' is -4, expected a number >= 0");
  // Sizes start at 1; only a flag (attention's causal) or a GPU index (p2p's src, dst) may be 0.
  expect(load_error(group(R"("simt")", R"("fp32")", R"({"cuda": [{"M": 0, "N": 1, "K": 1}]})")),
         "field 'groups[0].shapes.cuda[0].M' is 0, expected at least 1");
  expect(load_error(group(R"("simt")", R"("fp32")", R"({"tpu": []})")), "field 'groups[0].shapes.tpu' is unknown");
  // The classes of bad suites a new user met: each is named, none crashes or is read wrong.
  expect(load_error(group(R"("simt")", R"("fp32")", R"({"cpu": {"M": 8}})")),
         "field 'groups[0].shapes.cpu' is object, expected an array");
  expect(load_error(group(R"("simt")", R"("fp32")", R"({"cpu": [{"N": 8, "K": 8}]})")),
         "field 'groups[0].shapes.cpu[0]' has no 'M'; a gemm shape gives M, N, K");
  expect(load_error(group(R"("simt")", R"("fp32")", R"({"cpu": [{"M": 8, "N": 8, "K": 8, "k": 2}]})")),
         "'groups[0].shapes.cpu[0].k' is not a parameter of family 'gemm'; did you mean 'K'?");
  expect(load_error(group(R"("simt")", R"("fp32")", R"({"cpu": [{"M": 1e300, "N": 8, "K": 8}]})")),
         "field 'groups[0].shapes.cpu[0].M' is 1e+300, expected a number <= 2147483647");
  expect(load_error(group(R"("simt")", R"("fp32")", R"({"cpu": [{"M": 1e999, "N": 8, "K": 8}]})")),
         "field 'groups[0].shapes.cpu[0].M' is a number out of range");
  const std::string groups = R"("groups": [{"family": "gemm", "dtypes": ["fp32"], "impls": ["simt"], "shapes": {}}])";
  expect(load_error(R"({"name": "t", "version": 3.7, )" + groups + "}"), "field 'version' is number 3.7, expected an integer");
  expect(load_error(R"({"name": "t", "version": 3, "measurment": {}, )" + groups + "}"),
         "field 'measurment' is unknown; did you mean 'measurement'?");
  expect(load_error(R"({"name": "t", "version": 3, "measurement": {"cpu": {"timeout_s": 0}}, )" + groups + "}"),
         "field 'measurement.cpu.timeout_s' is 0, expected a number > 0");
  expect(load_error(R"({"name": "t", "version": 3, "measurement": {"modes": ["warm"]}, )" + groups + "}"),
         "field 'measurement.modes[0]' is \"warm\", expected one of cold, hot");
  expect(load_error(R"({"name": "t", "name": "u", "version": 3, )" + groups + "}"), "field 'name' appears twice");
  expect(load_error(R"({"name": "../../x", "version": 3, )" + groups + "}"), "expected a plain name");
  expect(load_error(R"({"name": "t\u0000", "version": 3, )" + groups + "}"), "without control characters");
  std::string deep = R"({"name": "t", "version": 3, "description": )" + std::string(70000, '[') + std::string(70000, ']') + "}";
  expect(load_error(deep), "field 'description[0][0]");
  expect(load_error(deep), "nests deeper than 32 levels");
}

TEST(Specs, AttentionShapesGiveEveryParameterAndCausalMayBeZero) {
  const std::string head = R"({"name": "t", "version": 1, "groups": [{"family": "attention", "dtypes": ["fp32"], )"
                           R"("impls": ["cpu_flash"], "shapes": {"cpu": [)";
  const testing::TestDir dir;
  const fs::path path = dir / "suite.json";
  { std::ofstream(path) << head + R"({"B": 1, "H": 4, "KVH": 2, "Sq": 8, "Sk": 8, "D": 64, "causal": 0}]}}]})"; }
  const Suite suite = load_suite_file(path);
  const auto specs = suite.benchmarks(Backend::cpu);
  ASSERT_EQ(specs.size(), 1u);
  EXPECT_EQ(specs[0].name(), "attention/cpu_flash/fp32/B:1/H:4/KVH:2/Sq:8/Sk:8/D:64/causal:0");
  const std::string zero_d = load_error(head + R"({"B": 1, "H": 4, "KVH": 2, "Sq": 8, "Sk": 8, "D": 0, "causal": 0}]}}]})");
  EXPECT_NE(zero_d.find("'groups[0].shapes.cpu[0].D' is 0, expected at least 1"), std::string::npos) << zero_d;
  const std::string no_causal = load_error(head + R"({"B": 1, "H": 4, "KVH": 2, "Sq": 8, "Sk": 8, "D": 64}]}}]})");
  EXPECT_NE(no_causal.find("an attention shape gives B, H, KVH, Sq, Sk, D, causal"), std::string::npos) << no_causal;

  // Shapes no machine can run are the suite's mistake, refused when it is read: grouped-query
  // heads that do not divide (in a list of values too), a causal flag that is not 0 or 1.
  const std::string gqa = load_error(head + R"({"B": 1, "H": 32, "KVH": [8, 6], "Sq": 8, "Sk": 8, "D": 64, "causal": 0}]}}]})");
  EXPECT_NE(gqa.find("'groups[0].shapes.cpu[0]' gives a shape no machine can run: KVH = 6 must divide H = 32"),
            std::string::npos)
      << gqa;
  const std::string causal = load_error(head + R"({"B": 1, "H": 4, "KVH": 2, "Sq": 8, "Sk": 8, "D": 64, "causal": 2}]}}]})");
  EXPECT_NE(causal.find("causal is 2, expected 0 or 1"), std::string::npos) << causal;
  const std::string decode = load_error(
      R"({"name": "t", "version": 1, "groups": [{"family": "attention_decode", "dtypes": ["fp32"], "impls": ["cpu_flash"], )"
      R"("shapes": {"cuda": [{"B": 1, "H": 4, "KVH": 3, "Sk": 8, "D": 64}]}}]})");
  EXPECT_NE(decode.find("'groups[0].shapes.cuda[0]' gives a shape no machine can run: KVH = 3 must divide H = 4"),
            std::string::npos)
      << decode;
}

TEST(Specs, FamilyShapeProblems) {
  auto problem = [](const char* family, std::vector<Param> params) { return family_shape_problem(family, params); };
  EXPECT_FALSE(problem("attention", {{"H", 32}, {"KVH", 8}, {"causal", 1}}));
  EXPECT_TRUE(problem("attention", {{"H", 32}, {"KVH", 8}, {"causal", -1}}));
  EXPECT_TRUE(problem("attention_decode", {{"H", 12}, {"KVH", 8}}));
  EXPECT_FALSE(problem("all_reduce", {{"bytes", 8}, {"in_place", 1}}));
  EXPECT_TRUE(problem("all_reduce", {{"bytes", 8}, {"in_place", 2}}));
  EXPECT_TRUE(problem("p2p", {{"src", 0}, {"dst", 1}, {"directions", 3}, {"bytes", 8}}));
  EXPECT_FALSE(problem("gemm", {{"M", 7}, {"N", 5}, {"K", 3}}));
}

// `--suite` takes a suite file of one's own by its path (a '/' or a .json ending), which is
// marked as such; a plain word is still a name from specs/suites/.
TEST(Specs, ASuiteFileOfOnesOwnByPath) {
  const testing::TestDir dir;
  const fs::path path = dir / "mine.json";
  { std::ofstream(path) << R"({"name": "mine", "version": 4, "groups": [{"family": "gemm", "dtypes": ["fp32"], )"
                           R"("impls": ["cpu_blocked"], "shapes": {"cpu": [{"M": 8, "N": 8, "K": 8}]}}]})"; }
  const Suite suite = load_suite_argument(path.string());
  EXPECT_TRUE(suite.user_file);
  EXPECT_EQ(suite.name, "mine");
  EXPECT_EQ(suite.version, 4);
  EXPECT_TRUE(suite.path.is_absolute()) << suite.path;
  EXPECT_FALSE(load_suite_argument("quick").user_file);
  try {
    load_suite_argument((dir / "absent.json").string());
    ADD_FAILURE() << "a missing suite file";
  } catch (const InputError& e) {
    EXPECT_EQ(e.exit_code(), 2);
    EXPECT_NE(std::string(e.what()).find("absent.json"), std::string::npos) << e.what();
  }
}

TEST(Specs, SuiteNamesArePlainNames) {
  for (const std::string& name : std::vector<std::string>{"../../x", "/etc/passwd", ".hidden", std::string(5000, 'a')}) {
    try {
      load_suite(name);
      ADD_FAILURE() << name;
    } catch (const InputError& e) {
      EXPECT_EQ(e.exit_code(), 2);
      EXPECT_NE(std::string(e.what()).find("unknown suite"), std::string::npos) << e.what();
      EXPECT_LT(std::string(e.what()).size(), 400u) << "a long name is shortened in the message";
    }
  }
}

TEST(Specs, DatasheetsMatchDeviceNames) {
  auto sxm = find_datasheet("NVIDIA H100 80GB HBM3");
  ASSERT_TRUE(sxm);
  EXPECT_DOUBLE_EQ(sxm->peak_tflops.at("fp32"), 67.0);
  auto pcie = find_datasheet("NVIDIA H100 PCIe");
  ASSERT_TRUE(pcie);
  EXPECT_DOUBLE_EQ(pcie->peak_tflops.at("fp32"), 51.0);
  EXPECT_TRUE(find_datasheet("NVIDIA H200"));
  EXPECT_TRUE(find_datasheet("NVIDIA A100-SXM4-80GB"));
  EXPECT_FALSE(find_datasheet("Some Unknown Accelerator"));
  // "NVIDIA GB200" contains "B200" too: the longer, more specific pattern wins.
  ASSERT_TRUE(find_datasheet("NVIDIA GB200"));
  EXPECT_NE(find_datasheet("NVIDIA GB200")->sku.find("GB200"), std::string::npos);
  ASSERT_TRUE(find_datasheet("NVIDIA B200"));
  EXPECT_EQ(find_datasheet("NVIDIA B200")->sku.find("GB200"), std::string::npos);
}

}  // namespace
}  // namespace aicbench
