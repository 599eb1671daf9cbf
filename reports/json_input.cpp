#include "reports/json_input.hpp"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>

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

// Builds the document from nlohmann's SAX events (as its own DOM parser does) and checks the
// bounds on the way: the depth before an object or array is opened, a key against the keys the
// object already has, every number finite. The path of the value being read is kept as a stack of
// frames (a key pointer or an array index each) and spelled out only for a message, so reading a
// valid file builds no path strings at all.
class GuardedBuilder {
 public:
  GuardedBuilder(const std::string& origin, const JsonLimits& limits) : origin_(origin), limits_(limits) {}

  json& result() { return root_; }

  // The field being read when the parser stopped, for errors the parser raises itself.
  std::string current_path() const {
    std::string path;
    for (const Frame& frame : frames_) {
      path = frame.container->is_object() ? json_path_join(path, frame.key ? *frame.key : std::string())
                                          : json_path_index(path, frame.index);
    }
    return path;
  }

  // What the parser reported when it stopped at bad input: the caller turns it into a message.
  int error_id = 0;
  std::string error_what;

  bool null() { return place(json(nullptr)); }
  bool boolean(bool v) { return place(json(v)); }
  bool number_integer(json::number_integer_t v) { return place(json(v)); }
  bool number_unsigned(json::number_unsigned_t v) { return place(json(v)); }
  bool number_float(json::number_float_t v, const json::string_t& /*text*/) {
    if (!std::isfinite(v)) {
      fail(current_path(), "is a number out of range (" + std::string(v > 0 ? "+" : "-") +
                               "infinity as a double); expected a finite number");
    }
    return place(json(v));
  }
  bool string(json::string_t& v) { return place(json(std::move(v))); }
  bool binary(json::binary_t& v) { return place(json(std::move(v))); }

  bool start_object(std::size_t /*elements*/) { return open(json::value_t::object); }
  bool start_array(std::size_t /*elements*/) { return open(json::value_t::array); }
  bool end_object() { return close(); }
  bool end_array() { return close(); }

  bool key(json::string_t& k) {
    Frame& frame = frames_.back();
    auto& members = frame.container->get_ref<json::object_t&>();
    auto [it, fresh] = members.try_emplace(std::move(k));  // k is left as it was when the key exists
    if (!fresh) {
      frame.key = &k;
      fail(current_path(), "appears twice in one object");
    }
    frame.key = &it->first;
    frame.member = &it->second;
    return true;
  }

  bool parse_error(std::size_t /*position*/, const std::string& /*last_token*/, const nlohmann::detail::exception& e) {
    error_id = e.id;
    error_what = e.what();
    return false;
  }

 private:
  struct Frame {
    json* container;
    const std::string* key = nullptr;  // objects: the key of the value being read
    json* member = nullptr;            // objects: where that value goes
    size_t index = 0;                  // arrays: the index of the value being read
  };

  // Puts a value where the parse is: the document, the next array element, the current member.
  json* put(json&& value) {
    if (frames_.empty()) {
      root_ = std::move(value);
      return &root_;
    }
    Frame& frame = frames_.back();
    if (frame.container->is_array()) {
      auto& elements = frame.container->get_ref<json::array_t&>();
      elements.push_back(std::move(value));
      return &elements.back();
    }
    *frame.member = std::move(value);
    return frame.member;
  }
  bool place(json&& value) {
    put(std::move(value));
    child_done();
    return true;
  }
  bool open(json::value_t type) {
    if (static_cast<int>(frames_.size()) >= limits_.max_depth) {
      fail(current_path(), "nests deeper than " + std::to_string(limits_.max_depth) + " levels of objects and arrays");
    }
    json* container = put(json(type));
    frames_.push_back({container});
    return true;
  }
  bool close() {
    frames_.pop_back();
    child_done();
    return true;
  }
  void child_done() {
    if (!frames_.empty() && frames_.back().container->is_array()) ++frames_.back().index;
  }
  [[noreturn]] void fail(const std::string& path, const std::string& what) const {
    throw InputError(origin_ + ": " + field_phrase(path) + " " + what);
  }

  const std::string& origin_;
  const JsonLimits& limits_;
  json root_;
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
  GuardedBuilder builder(origin, limits);
  bool parsed = false;
  try {
    parsed = json::sax_parse(text.begin(), text.end(), &builder);
  } catch (const json::exception& e) {
    throw InputError(origin + ": not JSON: " + without_exception_id(e.what()));
  }
  if (!parsed) {
    // 406: a number beyond double's range (1e999); every other id is a syntax error.
    if (builder.error_id == 406) {
      throw InputError(origin + ": " + field_phrase(builder.current_path()) + " is a number out of range (" +
                       without_exception_id(builder.error_what) + "); expected a finite number");
    }
    throw InputError(origin + ": not JSON: " + without_exception_id(builder.error_what));
  }
  return std::move(builder.result());
}

json read_json_file(const std::filesystem::path& path, const std::string& what, const JsonLimits& limits) {
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
  return parse_json_text(text, name, limits);
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
