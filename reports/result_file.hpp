#pragma once
// The result file: Google Benchmark's JSON (`context` + `benchmarks`) with aicbench's additions.
// This is the contract between `aicbench run` and everything downstream, so it lives here, in the
// CUDA-free reports library, and the harness writes through it.
//
//   context.aicbench        provenance (ResultFile::kProvenanceKey), format_version, complete flag
//   benchmarks[i]           Google Benchmark fields (name, iterations, real_time, time_unit, ...)
//                           plus counters as top-level numbers (tflops, pct_of_peak, ...)
//   benchmarks[i].aicbench  family, impl, dtype, params, backend, status, validation

#include <filesystem>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace aicbench {

// Bad input from a user: a file or an option. Carries the exit code docs/command-line.md assigns.
class InputError : public std::runtime_error {
 public:
  explicit InputError(const std::string& message, int exit_code = 2)
      : std::runtime_error(message), exit_code_(exit_code) {}
  int exit_code() const { return exit_code_; }

 private:
  int exit_code_;
};

// Writes `content` to `path` so that a reader sees either the old file or the new one, never a
// half-written one: write a temporary beside it, flush it to disk, rename over the target.
void write_file_atomically(const std::filesystem::path& path, const std::string& content);

// Version 3: a node's file holds the rows of all its GPUs (ranks), each naming its origin
// (aicbench.origin), and a job-wide collective's row once, with the ranks and nodes it spanned
// (context.aicbench.job). Version 2: aggregates over repetitions are named as Google Benchmark
// names them (<name>_mean, ...). Version 1 files (aggregates under the bare name) are still read.
inline constexpr int kResultFormatVersion = 3;
inline constexpr int kOldestResultFormatVersion = 1;

// Statuses of a benchmark entry (benchmarks[i].aicbench.status).
inline constexpr const char* kStatusOk = "ok";
inline constexpr const char* kStatusFailed = "failed";    // validation failed: error vs tolerance
inline constexpr const char* kStatusSkipped = "skipped";  // not runnable here, with the reason
inline constexpr const char* kStatusError = "error";      // the run itself failed (CUDA error...)

struct ResultFile {
  static constexpr const char* kProvenanceKey = "aicbench";
  std::filesystem::path path;
  nlohmann::json json;

  const nlohmann::json& provenance() const { return json.at("context").at(kProvenanceKey); }
  const nlohmann::json& benchmarks() const { return json.at("benchmarks"); }
};

// Reads and checks a result file (docs/result-format.md). Throws InputError (exit 2) naming the
// file, the field and what was expected when the file is missing or not a regular file, is too
// large or too deeply nested, is not JSON, or is JSON that is not a valid aicbench result.
ResultFile load_result_file(const std::filesystem::path& path);

// The same, and `bytes` receives the file exactly as it was read and checked: what `history add`
// hashes and stores, so that a run can be exported again byte for byte.
ResultFile load_result_file(const std::filesystem::path& path, std::string& bytes);

// The same for a result file's text in memory (what the fuzz target feeds). `origin` names it.
ResultFile parse_result_file(std::string_view text, const std::string& origin);

// The checks both apply, for JSON already in memory: the schema (docs/result-format.schema.json),
// then the format version, duplicate rows and each row's consistency.
void check_result_json(const nlohmann::json& json, const std::string& origin);

}  // namespace aicbench
