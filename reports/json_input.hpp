#pragma once
// Reading JSON that comes from outside: result files from a vendor's lab, suite files a user
// edited. Whatever the bytes, reading either returns a document within these bounds or throws
// InputError (exit 2) naming the file, the field path and what was expected. Never a crash, a hang
// or an exhausted memory:
//
//   - regular files only (a FIFO, /dev/zero, a directory or a symlink loop is named as such), opened
//     without blocking, and read up to a size bound;
//   - the nesting depth is bounded while parsing, so nothing downstream (dump, the schema walk,
//     the reports) ever recurses over unbounded input;
//   - a key given twice in one object is an error (nlohmann::json would keep the last silently);
//   - every number is finite (1e999 parses to infinity otherwise).
#include <cstddef>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace aicbench {

struct JsonLimits {
  size_t max_bytes;
  int max_depth;
};
// Result files: a full procurement sweep with repetitions on an 8-GPU node is tens of MB.
inline constexpr JsonLimits kResultFileLimits = {256u << 20, 32};
// Suites, datasheets, acceptance specs: written by hand, small.
inline constexpr JsonLimits kSpecFileLimits = {4u << 20, 32};

// Parses `text` under `limits`. `origin` (a file name, or "<memory>") starts every error message.
nlohmann::json parse_json_text(std::string_view text, const std::string& origin, const JsonLimits& limits);

// Reads the regular file `path` within `limits.max_bytes` and returns its bytes, unparsed. `what`
// says what the file should be, for messages: "result file", "suite file".
std::string read_regular_file(const std::filesystem::path& path, const std::string& what, const JsonLimits& limits);

// Reads the regular file `path` and parses it. `what` says what the file should be, for messages:
// "result file", "suite file".
nlohmann::json read_json_file(const std::filesystem::path& path, const std::string& what,
                              const JsonLimits& limits);

// A JSON path as the messages print it: benchmarks[3].aicbench.status.
std::string json_path_join(const std::string& parent, const std::string& key);
std::string json_path_index(const std::string& parent, size_t index);

// The candidate closest to `word` by edit distance, when it is close enough to be a likely typo
// ("measurment" -> "measurement"); empty otherwise.
std::string nearest_word(const std::string& word, const std::vector<std::string>& candidates);

}  // namespace aicbench
