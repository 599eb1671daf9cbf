#include "reports/json_input.hpp"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdint>
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

// A fast, strict reader for the common case, a well-formed file: it scans the text in place
// (strings without escapes copied in one piece, numbers converted with from_chars) and sends the
// handler the same events, in the same order and at the same points, as nlohmann's parser. At
// anything it does not take, which includes everything that is not valid JSON, it stops and
// returns false; the caller then parses the text again with nlohmann, whose behaviour and messages
// stay the reference. It is never more lenient than nlohmann: every token it accepts, nlohmann
// accepts as the same value (unsigned for a non-negative integer, signed for a negative one, a
// double otherwise or when the integer does not fit), so a document it reads is the document
// nlohmann builds, and an error the handler raises is one nlohmann's pass would raise there too.
template <class Handler>
class FastReader {
 public:
  FastReader(std::string_view text, Handler& handler)
      : p_(text.data()), end_(text.data() + text.size()), handler_(handler) {}

  bool read() {
    skip_space();
    if (!value()) return false;
    skip_space();
    return p_ == end_;
  }

 private:
  void skip_space() {
    while (p_ != end_ && (*p_ == ' ' || *p_ == '\n' || *p_ == '\r' || *p_ == '\t')) ++p_;
  }

  // Recursion is bounded: the handler refuses to open an object or array past the depth limit.
  bool value() {
    if (p_ == end_) return false;
    switch (*p_) {
      case '{': return object();
      case '[': return array();
      case '"': {
        std::string s;
        return string(s) && handler_.string(s);
      }
      case 't': return literal("true") && handler_.boolean(true);
      case 'f': return literal("false") && handler_.boolean(false);
      case 'n': return literal("null") && handler_.null();
      default: return number();
    }
  }

  bool literal(std::string_view word) {
    if (static_cast<size_t>(end_ - p_) < word.size() || std::string_view(p_, word.size()) != word) return false;
    p_ += word.size();
    return true;
  }

  bool object() {
    ++p_;
    if (!handler_.start_object(static_cast<std::size_t>(-1))) return false;
    skip_space();
    if (p_ != end_ && *p_ == '}') {
      ++p_;
      return handler_.end_object();
    }
    for (;;) {
      if (p_ == end_ || *p_ != '"') return false;
      std::string key;
      if (!string(key) || !handler_.key(key)) return false;  // the key's event comes before its ':'
      skip_space();
      if (p_ == end_ || *p_ != ':') return false;
      ++p_;
      skip_space();
      if (!value()) return false;
      skip_space();
      if (p_ == end_) return false;
      if (*p_ == ',') {
        ++p_;
        skip_space();
        continue;
      }
      if (*p_ != '}') return false;
      ++p_;
      return handler_.end_object();
    }
  }

  bool array() {
    ++p_;
    if (!handler_.start_array(static_cast<std::size_t>(-1))) return false;
    skip_space();
    if (p_ != end_ && *p_ == ']') {
      ++p_;
      return handler_.end_array();
    }
    for (;;) {
      if (!value()) return false;
      skip_space();
      if (p_ == end_) return false;
      if (*p_ == ',') {
        ++p_;
        skip_space();
        continue;
      }
      if (*p_ != ']') return false;
      ++p_;
      return handler_.end_array();
    }
  }

  static int hex(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  }
  bool hex4(unsigned& code) {
    if (end_ - p_ < 4) return false;
    code = 0;
    for (int i = 0; i < 4; ++i) {
      const int h = hex(p_[i]);
      if (h < 0) return false;
      code = code * 16 + static_cast<unsigned>(h);
    }
    p_ += 4;
    return true;
  }
  static void append_utf8(std::string& out, unsigned code) {
    if (code < 0x80) {
      out += static_cast<char>(code);
    } else if (code < 0x800) {
      out += static_cast<char>(0xC0 | (code >> 6));
      out += static_cast<char>(0x80 | (code & 0x3F));
    } else if (code < 0x10000) {
      out += static_cast<char>(0xE0 | (code >> 12));
      out += static_cast<char>(0x80 | ((code >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (code & 0x3F));
    } else {
      out += static_cast<char>(0xF0 | (code >> 18));
      out += static_cast<char>(0x80 | ((code >> 12) & 0x3F));
      out += static_cast<char>(0x80 | ((code >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (code & 0x3F));
    }
  }

  // The length of the well-formed UTF-8 sequence at p (RFC 3629, as nlohmann checks it), 0 if
  // there is none.
  size_t utf8_sequence(const unsigned char* p) const {
    const auto left = static_cast<size_t>(reinterpret_cast<const unsigned char*>(end_) - p);
    auto in = [](unsigned char c, unsigned lo, unsigned hi) { return c >= lo && c <= hi; };
    const unsigned char c = p[0];
    if (in(c, 0xC2, 0xDF)) return left >= 2 && in(p[1], 0x80, 0xBF) ? 2 : 0;
    if (c == 0xE0) return left >= 3 && in(p[1], 0xA0, 0xBF) && in(p[2], 0x80, 0xBF) ? 3 : 0;
    if (in(c, 0xE1, 0xEC) || in(c, 0xEE, 0xEF)) return left >= 3 && in(p[1], 0x80, 0xBF) && in(p[2], 0x80, 0xBF) ? 3 : 0;
    if (c == 0xED) return left >= 3 && in(p[1], 0x80, 0x9F) && in(p[2], 0x80, 0xBF) ? 3 : 0;
    if (c == 0xF0) return left >= 4 && in(p[1], 0x90, 0xBF) && in(p[2], 0x80, 0xBF) && in(p[3], 0x80, 0xBF) ? 4 : 0;
    if (in(c, 0xF1, 0xF3)) return left >= 4 && in(p[1], 0x80, 0xBF) && in(p[2], 0x80, 0xBF) && in(p[3], 0x80, 0xBF) ? 4 : 0;
    if (c == 0xF4) return left >= 4 && in(p[1], 0x80, 0x8F) && in(p[2], 0x80, 0xBF) && in(p[3], 0x80, 0xBF) ? 4 : 0;
    return 0;
  }

  bool string(std::string& out) {
    ++p_;  // the opening quote
    for (;;) {
      // A run of plain characters, copied in one piece.
      const char* run = p_;
      while (p_ != end_) {
        const auto c = static_cast<unsigned char>(*p_);
        if (c == '"' || c == '\\' || c < 0x20) break;
        if (c < 0x80) {
          ++p_;
          continue;
        }
        const size_t n = utf8_sequence(reinterpret_cast<const unsigned char*>(p_));
        if (n == 0) return false;
        p_ += n;
      }
      out.append(run, p_);
      if (p_ == end_) return false;
      const char c = *p_++;
      if (c == '"') return true;
      if (c != '\\') return false;  // a control character
      if (p_ == end_) return false;
      switch (*p_++) {
        case '"': out += '"'; break;
        case '\\': out += '\\'; break;
        case '/': out += '/'; break;
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case 'n': out += '\n'; break;
        case 'r': out += '\r'; break;
        case 't': out += '\t'; break;
        case 'u': {
          unsigned code = 0;
          if (!hex4(code)) return false;
          if (code >= 0xDC00 && code <= 0xDFFF) return false;  // a low surrogate alone
          if (code >= 0xD800 && code <= 0xDBFF) {
            unsigned low = 0;
            if (end_ - p_ < 2 || p_[0] != '\\' || p_[1] != 'u') return false;
            p_ += 2;
            if (!hex4(low) || low < 0xDC00 || low > 0xDFFF) return false;
            code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00);
          }
          append_utf8(out, code);
          break;
        }
        default: return false;
      }
    }
  }

  // -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?, as nlohmann's lexer takes it; its value as
  // nlohmann gives it. The token must end where nlohmann's would: a digit right after a leading
  // 0 is left to nlohmann (which reads 0, then fails).
  bool number() {
    const char* start = p_;
    const bool negative = *p_ == '-';
    if (negative) ++p_;
    if (p_ == end_ || *p_ < '0' || *p_ > '9') return false;
    if (*p_ == '0') {
      ++p_;
      if (p_ != end_ && *p_ >= '0' && *p_ <= '9') return false;
    } else {
      while (p_ != end_ && *p_ >= '0' && *p_ <= '9') ++p_;
    }
    bool integer = true;
    if (p_ != end_ && *p_ == '.') {
      integer = false;
      ++p_;
      if (p_ == end_ || *p_ < '0' || *p_ > '9') return false;
      while (p_ != end_ && *p_ >= '0' && *p_ <= '9') ++p_;
    }
    if (p_ != end_ && (*p_ == 'e' || *p_ == 'E')) {
      integer = false;
      ++p_;
      if (p_ != end_ && (*p_ == '+' || *p_ == '-')) ++p_;
      if (p_ == end_ || *p_ < '0' || *p_ > '9') return false;
      while (p_ != end_ && *p_ >= '0' && *p_ <= '9') ++p_;
    }
    if (integer) {
      // Up to 19 digits always fit in 64 bits; longer ones are checked as they accumulate.
      uint64_t magnitude = 0;
      bool fits = true;
      for (const char* d = start + negative; d != p_; ++d) {
        const auto digit = static_cast<uint64_t>(*d - '0');
        if (magnitude > (UINT64_MAX - digit) / 10) {
          fits = false;
          break;
        }
        magnitude = magnitude * 10 + digit;
      }
      if (fits && !negative) return handler_.number_unsigned(magnitude);
      if (fits && magnitude <= uint64_t{1} << 63) {
        return handler_.number_integer(magnitude == uint64_t{1} << 63 ? INT64_MIN : -static_cast<int64_t>(magnitude));
      }
      // Too large for its integer type: nlohmann reads it as a double, as below.
    }
    double v = 0;
    const auto [end, error] = std::from_chars(start, p_, v);
    // Out of range (overflow to infinity, underflow): nlohmann's business, and its message.
    if (error != std::errc() || end != p_ || !std::isfinite(v)) return false;
    static const json::string_t kUnusedText;
    return handler_.number_float(v, kUnusedText);
  }

  const char* p_;
  const char* const end_;
  Handler& handler_;
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
  {
    GuardedBuilder fast(origin, limits);
    if (FastReader<GuardedBuilder>(text, fast).read()) return std::move(fast.result());
  }
  // Not read by the fast path: anything unusual, and every error the parser reports, goes
  // through nlohmann's parser, the reference for what is JSON and how a mistake is told.
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
