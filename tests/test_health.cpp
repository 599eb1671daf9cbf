// GPU health through NVML (harness/health.hpp), read through a fake NVML table: every field's
// value and type, each way NVML can fail to say (not supported, a function this NVML lacks, no
// NVML at all) leaving the field null with the reason, retired pages counted through NVML's
// "insufficient size" answer, and the hardware slowdown states from the clocks-event mask.
#include <cstring>
#include <map>
#include <string>

#include <gtest/gtest.h>

#include "harness/health.hpp"

namespace aicbench {
namespace {

using json = nlohmann::json;
using Device = NvmlHealthApi::Device;
constexpr int kNotSupported = 3, kInsufficientSize = 7;

// The fake GPU every fake function reads; one per test (reset in SetUp).
struct FakeGpu {
  unsigned long long ecc[2][2] = {{0, 3}, {0, 0}};  // [corrected, uncorrected][volatile, aggregate]
  unsigned retired[2] = {0, 0};                     // [single bit, double bit]
  int retired_rc = 0;
  int pending_pages = 0;
  unsigned remap[4] = {2, 0, 0, 0};  // correctable, uncorrectable, pending, failure
  int remap_rc = 0;
  unsigned long long reasons = 0x1;  // gpu_idle
  int persistence = 1;
  unsigned width = 16;
} gpu;

int fill(char* out, unsigned length, const char* text) {
  std::strncpy(out, text, length);
  return 0;
}

NvmlHealthApi fake_api() {
  NvmlHealthApi api;
  api.error_string = [](int rc) -> const char* { return rc == kNotSupported ? "Not Supported" : "Unknown Error"; };
  api.system_driver_version = [](char* out, unsigned n) { return fill(out, n, "570.86.15"); };
  api.vbios_version = [](Device, char* out, unsigned n) { return fill(out, n, "96.00.99.00.01"); };
  api.inforom_image_version = [](Device, char* out, unsigned n) { return fill(out, n, "G520.0200.00.05"); };
  api.serial = [](Device, char* out, unsigned n) { return fill(out, n, "1654922012345"); };
  api.persistence_mode = [](Device, int* mode) {
    *mode = gpu.persistence;
    return 0;
  };
  api.ecc_mode = [](Device, int* current, int* pending) {
    *current = 1;
    *pending = 1;
    return 0;
  };
  api.total_ecc_errors = [](Device, int type, int counter, unsigned long long* count) {
    *count = gpu.ecc[type][counter];
    return 0;
  };
  api.retired_pages = [](Device, int cause, unsigned* count, unsigned long long* addresses) {
    if (gpu.retired_rc) return gpu.retired_rc;
    const unsigned have = gpu.retired[cause];
    // NVML's rule: a buffer too small (0 asks for the count) is "insufficient size", with the count.
    const bool fits = *count >= have;
    if (fits && addresses == nullptr && have > 0) return 2;  // invalid argument
    *count = have;
    return fits ? 0 : kInsufficientSize;
  };
  api.retired_pages_pending = [](Device, int* pending) {
    if (gpu.retired_rc) return gpu.retired_rc;
    *pending = gpu.pending_pages;
    return 0;
  };
  api.remapped_rows = [](Device, unsigned* c, unsigned* u, unsigned* p, unsigned* f) {
    if (gpu.remap_rc) return gpu.remap_rc;
    *c = gpu.remap[0];
    *u = gpu.remap[1];
    *p = gpu.remap[2];
    *f = gpu.remap[3];
    return 0;
  };
  api.clocks_event_reasons = [](Device, unsigned long long* mask) {
    *mask = gpu.reasons;
    return 0;
  };
  api.curr_pcie_gen = [](Device, unsigned* v) {
    *v = 5;
    return 0;
  };
  api.max_pcie_gen = [](Device, unsigned* v) {
    *v = 5;
    return 0;
  };
  api.curr_pcie_width = [](Device, unsigned* v) {
    *v = gpu.width;
    return 0;
  };
  api.max_pcie_width = [](Device, unsigned* v) {
    *v = 16;
    return 0;
  };
  api.pcie_replay_counter = [](Device, unsigned* v) {
    *v = 0;
    return 0;
  };
  return api;
}

class Health : public ::testing::Test {
 protected:
  void SetUp() override { gpu = FakeGpu{}; }
  json read(const NvmlHealthApi& api) { return read_gpu_health(api, reinterpret_cast<Device>(0x1), "run start"); }
};

TEST_F(Health, EveryFieldFromAHealthyGpu) {
  const json h = read(fake_api());
  EXPECT_TRUE(h["available"].get<bool>());
  EXPECT_EQ(h["source"], "NVML");
  EXPECT_EQ(h["read_at"], "run start");
  EXPECT_EQ(h["driver_version"], "570.86.15");
  EXPECT_EQ(h["vbios_version"], "96.00.99.00.01");
  EXPECT_EQ(h["inforom_image_version"], "G520.0200.00.05");
  EXPECT_EQ(h["serial"], "1654922012345");
  EXPECT_EQ(h["persistence_mode"], true);
  EXPECT_EQ(h["ecc_mode"], true);
  EXPECT_EQ(h["ecc_mode_pending"], true);
  EXPECT_EQ(h["ecc_corrected_volatile"], 0);
  EXPECT_EQ(h["ecc_corrected_aggregate"], 3);
  EXPECT_EQ(h["ecc_uncorrected_volatile"], 0);
  EXPECT_EQ(h["ecc_uncorrected_aggregate"], 0);
  EXPECT_EQ(h["retired_pages_single_bit"], 0);
  EXPECT_EQ(h["retired_pages_double_bit"], 0);
  EXPECT_EQ(h["retired_pages_pending"], false);
  EXPECT_EQ(h["remapped_rows_correctable"], 2);
  EXPECT_EQ(h["remapped_rows_uncorrectable"], 0);
  EXPECT_EQ(h["remapped_rows_pending"], false);
  EXPECT_EQ(h["remapped_rows_failure"], false);
  EXPECT_EQ(h["clocks_event_reasons"], json::array({"gpu_idle"}));
  for (const char* slowdown : {"hw_slowdown", "hw_thermal_slowdown", "sw_thermal_slowdown", "hw_power_brake_slowdown"}) {
    EXPECT_EQ(h[slowdown], false) << slowdown;
  }
  EXPECT_EQ(h["pcie_link_gen_current"], 5);
  EXPECT_EQ(h["pcie_link_width_current"], 16);
  EXPECT_EQ(h["pcie_link_width_max"], 16);
  EXPECT_EQ(h["pcie_replay_counter"], 0);
  EXPECT_TRUE(h["unavailable"].empty()) << h["unavailable"].dump();
}

TEST_F(Health, ErrorsAndPendingStatesAreCountedAndShown) {
  gpu.ecc[1][0] = 1;  // an uncorrected error since the driver loaded
  gpu.ecc[1][1] = 4;
  gpu.retired[1] = 2;  // NVML answers "insufficient size" with the count
  gpu.pending_pages = 1;
  gpu.remap[1] = 3;
  gpu.remap[2] = 1;
  gpu.remap[3] = 1;
  gpu.reasons = 0x80 | 0x4;  // power brake and power cap
  gpu.persistence = 0;
  gpu.width = 8;
  const json h = read(fake_api());
  EXPECT_EQ(h["ecc_uncorrected_volatile"], 1);
  EXPECT_EQ(h["ecc_uncorrected_aggregate"], 4);
  EXPECT_EQ(h["retired_pages_double_bit"], 2);
  EXPECT_EQ(h["retired_pages_pending"], true);
  EXPECT_EQ(h["remapped_rows_uncorrectable"], 3);
  EXPECT_EQ(h["remapped_rows_pending"], true);
  EXPECT_EQ(h["remapped_rows_failure"], true);
  EXPECT_EQ(h["hw_power_brake_slowdown"], true);
  EXPECT_EQ(h["hw_thermal_slowdown"], false);
  EXPECT_EQ(h["clocks_event_reasons"], json::array({"sw_power_cap", "hw_power_brake_slowdown"}));
  EXPECT_EQ(h["persistence_mode"], false);
  EXPECT_EQ(h["pcie_link_width_current"], 8);
  const std::string text = describe_health(h);
  EXPECT_NE(text.find("ECC uncorrected 1 volatile / 4 aggregate"), std::string::npos) << text;
  EXPECT_NE(text.find("hardware slowdown now: hw_power_brake_slowdown"), std::string::npos) << text;
  EXPECT_NE(text.find("x8 (max gen 5 x16)"), std::string::npos) << text;
  EXPECT_NE(text.find("persistence mode no"), std::string::npos) << text;
}

TEST_F(Health, WhatNvmlCannotSayIsNullWithTheReason) {
  gpu.retired_rc = kNotSupported;  // Ampere and newer: rows are remapped, pages not retired
  NvmlHealthApi api = fake_api();
  api.remapped_rows = nullptr;  // an NVML from before row remapping
  api.serial = [](Device, char*, unsigned) { return 999; };
  api.error_string = nullptr;   // and no error strings either
  const json h = read(api);
  for (const char* field : {"retired_pages_single_bit", "retired_pages_double_bit", "retired_pages_pending"}) {
    ASSERT_TRUE(h.contains(field)) << field;
    EXPECT_TRUE(h[field].is_null()) << field;
    EXPECT_EQ(h["unavailable"][field], std::string("NVML ") +
                                           (std::string(field) == "retired_pages_pending" ? "nvmlDeviceGetRetiredPagesPendingStatus"
                                                                                          : "nvmlDeviceGetRetiredPages") +
                                           ": error 3");
  }
  for (const char* field : {"remapped_rows_correctable", "remapped_rows_uncorrectable", "remapped_rows_pending",
                            "remapped_rows_failure"}) {
    EXPECT_TRUE(h[field].is_null()) << field;
    EXPECT_EQ(h["unavailable"][field], "this NVML has no nvmlDeviceGetRemappedRows");
  }
  EXPECT_TRUE(h["serial"].is_null());
  EXPECT_EQ(h["unavailable"]["serial"], "NVML nvmlDeviceGetSerial: error 999");
  // The rest is still read.
  EXPECT_EQ(h["ecc_uncorrected_aggregate"], 0);
  EXPECT_EQ(h["persistence_mode"], true);
  EXPECT_NE(describe_health(h).find("retired pages n/a single-bit"), std::string::npos) << describe_health(h);
}

TEST_F(Health, AnEmptyTableLeavesEveryFieldNullWithAReason) {
  const json h = read(NvmlHealthApi{});
  EXPECT_TRUE(h["available"].get<bool>());
  size_t fields = 0;
  for (const auto& [key, value] : h.items()) {
    if (key == "available" || key == "source" || key == "read_at" || key == "unavailable") continue;
    ++fields;
    EXPECT_TRUE(value.is_null()) << key;
    EXPECT_TRUE(h["unavailable"].contains(key)) << key;
  }
  EXPECT_EQ(fields, 28u);
  EXPECT_EQ(h["unavailable"].size(), fields);
}

TEST_F(Health, WithoutNvmlEveryGpuSaysWhy) {
  std::string why;
  EXPECT_EQ(open_health_reader(&why, "libnvidia-ml-does-not-exist.so.1"), nullptr);
  EXPECT_NE(why.find("NVML not available"), std::string::npos) << why;

  json prov = {{"gpus", json::array({{{"index", 0}, {"pci_bus_id", "00000000:19:00.0"}}})}};
  if (open_health_reader(&why)) GTEST_SKIP() << "this machine has NVML";
  record_health(prov, "info");
  const json& h = prov["gpus"][0]["health"];
  EXPECT_EQ(h["available"], false);
  EXPECT_NE(h["reason"].get<std::string>().find("NVML not available"), std::string::npos) << h.dump();
  EXPECT_NE(describe_health(h).find("unavailable (NVML not available"), std::string::npos);

  json no_gpus = {{"gpus", json::array()}};
  record_health(no_gpus, "run start");
  EXPECT_TRUE(no_gpus["gpus"].empty());
}

}  // namespace
}  // namespace aicbench
