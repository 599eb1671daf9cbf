#pragma once
// Where specs/ is, and the GPU datasheets in specs/gpus/: the dense peak per precision that gives
// pct_of_peak (the harness) and MFU (`aicbench size`), with the memory and board power a sizing
// falls back on when no measurement says otherwise. CUDA-free, so the reports build reads them.
#include <filesystem>
#include <map>
#include <optional>
#include <string>

namespace aicbench {

// specs/ is found through $AICBENCH_SPECS, then beside an installed binary
// (<prefix>/share/aicbench/specs), then in the source tree the binary was built from.
std::filesystem::path specs_dir();

struct Datasheet {
  std::string sku;
  std::string source;
  std::map<std::string, double> peak_tflops;  // dense, per dtype
  // Optional: the board's memory and its power (TDP), with where they come from.
  std::optional<double> memory_gb;
  std::optional<double> tdp_w;
  std::string board_source;
};
// The datasheet whose name patterns match `gpu_name` (case-insensitive substring), if any; the
// longest matching pattern wins. Throws InputError naming the file and field for a malformed sheet.
std::optional<Datasheet> find_datasheet(const std::string& gpu_name);

}  // namespace aicbench
