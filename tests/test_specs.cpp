// Suite files and datasheets: the shipped ones load, malformed ones are rejected with the file,
// the field and what was expected.
#include <filesystem>
#include <fstream>

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
    ASSERT_FALSE(cpu.empty());
    for (const auto& spec : cpu) EXPECT_EQ(spec.impl, "cpu_blocked");
    EXPECT_EQ(cpu.front().name().rfind("gemm/cpu_blocked/fp32/M:", 0), 0u) << cpu.front().name();
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
  EXPECT_NE(load_error("{not json").find("not valid JSON"), std::string::npos);
  EXPECT_NE(load_error(R"({"version": 1})").find("missing field 'name'"), std::string::npos);
  EXPECT_NE(load_error(R"({"name": 3, "version": 1})").find("field 'name' is number"), std::string::npos);
  EXPECT_NE(load_error(head + R"("groups": [{"family": "gemm", "dtypes": ["fp32"], "impls": ["nope"], "shapes": {}}]})")
                .find("'groups[0].impls' names 'nope'"),
            std::string::npos);
  EXPECT_NE(load_error(head + R"("groups": [{"family": "gemm", "dtypes": ["fp32", "fp64"], "impls": ["simt"], "shapes": {}}]})")
                .find("names 'fp64', which none of the group's implementations provides"),
            std::string::npos);
  EXPECT_NE(load_error(head + R"("groups": [{"family": "gemm", "dtypes": ["bf16"], "impls": ["simt"], "shapes": {}}]})")
                .find("'groups[0].dtypes' names none of the dtypes that implementation 'simt' provides (fp32)"),
            std::string::npos);
  EXPECT_NE(load_error(head + R"("groups": [{"family": "gemm", "dtypes": ["fp32"], "impls": ["simt"], "shapes": {"cuda": [{"M": -4, "N": 1, "K": 1}]}}]})")
                .find("'groups[0].shapes.cuda[0].M' must be a positive integer"),
            std::string::npos);
  EXPECT_NE(load_error(head + R"("groups": [{"family": "gemm", "dtypes": ["fp32"], "impls": ["simt"], "shapes": {"tpu": []}}]})")
                .find("unknown backend"),
            std::string::npos);
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
}

}  // namespace
}  // namespace aicbench
