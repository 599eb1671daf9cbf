#include "reports/json_input.hpp"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <unordered_set>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "reports/result_file.hpp"

namespace aicbench {

namespace {

using json = nlohmann::json;

// "field 'a.b[3]'", shortened when a path is too long to read.
std::string field_phrase(const std::string& path) {
  if (path.empty()) return "the document";
  return "field '" + (path.size() > 120 ? path.substr(0, 117) + "..." : path) + "'";
}

// Follows the parse as nlohmann's callback parser reports it, keeping the path of the value being
// read, so that a depth, duplicate-key or number error names its field.
class ParseGuard {
 public:
  ParseGuard(const std::string& origin, const JsonLimits& limits) : origin_(origin), limits_(limits) {}

  // The field being read when the parser stopped, for errors the parser raises itself.
  std::string current_path() const { return child_path(); }

  bool operator()(int /*depth*/, json::parse_event_t event, json& parsed) {
    switch (event) {
      case json::parse_event_t::object_start:
      case json::parse_event_t::array_start:
        if (static_cast<int>(frames_.size()) >= limits_.max_depth) {
          fail(child_path(), "nests deeper than " + std::to_string(limits_.max_depth) +
                                 " levels of objects and arrays");
        }
        frames_.push_back({event == json::parse_event_t::object_start, child_path(), 0, "", {}});
        break;
      case json::parse_event_t::key: {
        Frame& frame = frames_.back();
        frame.key = parsed.get<std::string>();
        if (!frame.keys.insert(frame.key).second) fail(child_path(), "appears twice in one object");
        break;
      }
      case json::parse_event_t::value:
        if (parsed.is_number_float() && !std::isfinite(parsed.get<double>())) {
          fail(child_path(), "is a number out of range (" + std::string(parsed.get<double>() > 0 ? "+" : "-") +
                                 "infinity as a double); expected a finite number");
        }
        child_done();
        break;
      case json::parse_event_t::object_end:
      case json::parse_event_t::array_end:
        frames_.pop_back();
        child_done();
        break;
    }
    return true;
  }

 private:
  struct Frame {
    bool object;
    std::string path;
    size_t index;      // arrays: the index of the next element
    std::string key;   // objects: the key of the value being read
    std::unordered_set<std::string> keys;
  };

  std::string child_path() const {
    if (frames_.empty()) return "";
    const Frame& frame = frames_.back();
    return frame.object ? json_path_join(frame.path, frame.key) : json_path_index(frame.path, frame.index);
  }
  void child_done() {
    if (!frames_.empty() && !frames_.back().object) ++frames_.back().index;
  }
  [[noreturn]] void fail(const std::string& path, const std::string& what) const {
    throw InputError(origin_ + ": " + field_phrase(path) + " " + what);
  }

  const std::string& origin_;
  const JsonLimits& limits_;
  std::vector<Frame> frames_;
};

// nlohmann's messages start with "[json.exception.parse_error.101] "; the rest is for people.
std::string without_exception_id(const std::string& message) {
  if (!message.empty() && message.front() == '[') {
    if (size_t end = message.find("] "); end != std::string::npos) return message.substr(end + 2);
  }
  return message;
}

std::string file_kind(mode_t mode) {
  if (S_ISDIR(mode)) return "a directory";
  if (S_ISFIFO(mode)) return "a FIFO (named pipe)";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  if (S_ISSOCK(mode)) return "a socket";
  return "not a regular file";
}

// Closes a file descriptor on every path out.
struct FdCloser {
  int fd;
  ~FdCloser() { if (fd >= 0) ::close(fd); }
};

}  // namespace

std::string json_path_join(const std::string& parent, const std::string& key) {
  return parent.empty() ? key : parent + "." + key;
}

std::string json_path_index(const std::string& parent, size_t index) {
  return parent + "[" + std::to_string(index) + "]";
}

json parse_json_text(std::string_view text, const std::string& origin, const JsonLimits& limits) {
  if (text.size() > limits.max_bytes) {
    throw InputError(origin + ": is " + std::to_string(text.size()) + " bytes, more than the limit of " +
                     std::to_string(limits.max_bytes));
  }
  ParseGuard guard(origin, limits);
  try {
    return json::parse(text.begin(), text.end(), std::ref(guard));
  } catch (const json::parse_error& e) {
    throw InputError(origin + ": not JSON: " + without_exception_id(e.what()));
  } catch (const json::out_of_range& e) {  // a number beyond double's range: 1e999
    throw InputError(origin + ": " + field_phrase(guard.current_path()) +
                     " is a number out of range (" + without_exception_id(e.what()) + "); expected a finite number");
  } catch (const json::exception& e) {
    throw InputError(origin + ": not JSON: " + without_exception_id(e.what()));
  }
}

std::string read_regular_file(const std::filesystem::path& path, const std::string& what, const JsonLimits& limits) {
  const std::string name = path.string();
  // O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer forever.
  FdCloser file{::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY)};
  if (file.fd < 0) {
    const int err = errno;
    std::string why = err == ENOENT ? "no such file"
                      : err == ELOOP ? "too many levels of symbolic links (a symlink loop?)"
                                     : std::strerror(err);
    throw InputError(name + ": cannot open " + what + ": " + why);
  }
  struct stat st {};
  if (::fstat(file.fd, &st) != 0) throw InputError(name + ": cannot read " + what + ": " + std::strerror(errno));
  if (!S_ISREG(st.st_mode)) {
    throw InputError(name + ": is " + file_kind(st.st_mode) + ", expected a " + what + " (a regular file)");
  }
  if (static_cast<unsigned long long>(st.st_size) > limits.max_bytes) {
    throw InputError(name + ": is " + std::to_string(st.st_size) + " bytes, more than the " +
                     std::to_string(limits.max_bytes) + "-byte limit for a " + what);
  }
  std::string text;
  text.resize(static_cast<size_t>(st.st_size));
  size_t got = 0;
  for (;;) {
    if (got == text.size()) {
      // The file may have grown since fstat: read on, within the bound.
      if (text.size() > limits.max_bytes) {
        throw InputError(name + ": grew past the " + std::to_string(limits.max_bytes) + "-byte limit for a " + what);
      }
      text.resize(std::min(limits.max_bytes + 1, std::max<size_t>(4096, 2 * text.size())));
    }
    const ssize_t n = ::read(file.fd, text.data() + got, text.size() - got);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw InputError(name + ": cannot read " + what + ": " + std::strerror(errno));
    }
    if (n == 0) break;
    got += static_cast<size_t>(n);
  }
  text.resize(got);
  return text;
}

json read_json_file(const std::filesystem::path& path, const std::string& what, const JsonLimits& limits) {
  return parse_json_text(read_regular_file(path, what, limits), path.string(), limits);
}

std::string nearest_word(const std::string& word, const std::vector<std::string>& candidates) {
  if (word.size() > 64) return "";  // no typo is that long, and the distance is quadratic
  std::string best;
  size_t best_distance = SIZE_MAX;
  std::vector<size_t> row(word.size() + 1), previous(word.size() + 1);
  for (const std::string& candidate : candidates) {
    // Levenshtein distance, two rows at a time, case-insensitively.
    for (size_t j = 0; j <= word.size(); ++j) previous[j] = j;
    for (size_t i = 1; i <= candidate.size(); ++i) {
      row[0] = i;
      for (size_t j = 1; j <= word.size(); ++j) {
        const bool same = std::tolower(static_cast<unsigned char>(candidate[i - 1])) ==
                          std::tolower(static_cast<unsigned char>(word[j - 1]));
        row[j] = std::min({previous[j] + 1, row[j - 1] + 1, previous[j - 1] + (same ? 0 : 1)});
      }
      std::swap(row, previous);
    }
    if (previous[word.size()] < best_distance) {
      best_distance = previous[word.size()];
      best = candidate;
    }
  }
  // Close enough to be a typo: a third of the word's letters, and at least two edits allowed.
  return best_distance <= std::max<size_t>(2, word.size() / 3) ? best : "";
}

}  // namespace aicbench
