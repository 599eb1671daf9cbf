#pragma once
// Names that become parts of file names (a suite name, a host name): only [A-Za-z0-9._-] and no
// leading dot, so that no name can reach outside its directory, hide a file, or need quoting.
#include <algorithm>
#include <cstddef>
#include <string>
#include <string_view>

namespace aicbench {

inline bool is_file_name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '_' || c == '-';
}

// A name usable as it is: 1 to `max_length` characters of [A-Za-z0-9._-], not starting with a dot.
inline bool is_plain_name(std::string_view name, size_t max_length) {
  return !name.empty() && name.size() <= max_length && name.front() != '.' &&
         std::all_of(name.begin(), name.end(), is_file_name_char);
}

// `text` made plain: other characters become '_', a leading dot too, cut to `max_length`;
// "unknown" when nothing is left.
inline std::string plain_name_part(std::string_view text, size_t max_length) {
  std::string part(text.substr(0, max_length));
  for (char& c : part) {
    if (!is_file_name_char(c)) c = '_';
  }
  if (!part.empty() && part.front() == '.') part.front() = '_';
  return part.empty() ? "unknown" : part;
}

// For messages about text that may be huge or hold control characters: the text itself when
// short, else its start and its length. "'abc'" or "'abcd...' (5000 characters)".
inline std::string quoted_excerpt(std::string_view text, size_t max_length = 80, const char* quote = "'") {
  std::string shown(text.substr(0, max_length));
  for (char& c : shown) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';
  }
  if (text.size() <= max_length) return quote + shown + quote;
  return quote + shown + "..." + quote + " (" + std::to_string(text.size()) + " characters)";
}

}  // namespace aicbench
