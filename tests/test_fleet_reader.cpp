// The result reader's fast path (reports/json_input.cpp: FastReader, for `aicbench fleet` reading
// thousands of files) against nlohmann's parser, the reference: every document it reads is the
// document nlohmann builds, value types included; every text that is not JSON gets nlohmann's own
// message, because the fast path hands everything it does not take back to nlohmann.
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "reports/json_input.hpp"
#include "reports/result_file.hpp"

namespace aicbench {
namespace {

using nlohmann::json;

// Equal values of equal types: json's operator== calls 5 (unsigned) and 5 (signed) equal.
bool same(const json& a, const json& b) {
  if (a.type() != b.type()) return false;
  if (a.is_object()) {
    if (a.size() != b.size()) return false;
    for (auto x = a.begin(), y = b.begin(); x != a.end(); ++x, ++y) {
      if (x.key() != y.key() || !same(*x, *y)) return false;
    }
    return true;
  }
  if (a.is_array()) {
    if (a.size() != b.size()) return false;
    for (size_t i = 0; i < a.size(); ++i) {
      if (!same(a[i], b[i])) return false;
    }
    return true;
  }
  if (a.is_number_float()) {
    const double x = a.get<double>(), y = b.get<double>();
    return x == y && std::signbit(x) == std::signbit(y);
  }
  return a == b;
}

// What parse_json_text says about `text`: the document, or the message.
struct Read {
  bool ok;
  json document;
  std::string message;
};
Read ours(const std::string& text) {
  try {
    return {true, parse_json_text(text, "doc.json", kResultFileLimits), ""};
  } catch (const InputError& e) {
    return {false, json(), e.what()};
  }
}

// Checks `text` against nlohmann's own parse. Skips texts whose only trouble is one our reader
// adds (a key twice, nesting too deep): nlohmann's plain parse accepts those.
void expect_as_nlohmann(const std::string& text) {
  const Read read = ours(text);
  if (!read.ok && (read.message.find("appears twice") != std::string::npos ||
                   read.message.find("nests deeper") != std::string::npos)) {
    return;
  }
  try {
    const json reference = json::parse(text);
    ASSERT_TRUE(read.ok) << "nlohmann reads it, ours says: " << read.message << "\ntext: " << text.substr(0, 300);
    EXPECT_TRUE(same(read.document, reference)) << "ours:      " << read.document.dump().substr(0, 300)
                                                << "\nnlohmann:  " << reference.dump().substr(0, 300);
  } catch (const json::parse_error& e) {
    ASSERT_FALSE(read.ok) << "nlohmann refuses it (" << e.what() << "), ours read it\ntext: " << text.substr(0, 300);
    std::string what = e.what();
    what = what.substr(what.find("] ") + 2);
    EXPECT_EQ(read.message, "doc.json: not JSON: " + what);
  } catch (const json::out_of_range&) {
    ASSERT_FALSE(read.ok);
    EXPECT_NE(read.message.find("is a number out of range"), std::string::npos) << read.message;
  }
}

// A document with every kind of value the grammar has, the awkward numbers and strings included.
json random_document(std::mt19937_64& rng, int depth) {
  static const std::vector<json> leaves = {
      json(0), json(-0.0), json(0.0), json(1), json(-1), json(1.5), json(-2.25e-7), json(1e308), json(4.9e-324),
      json(2.2250738585072014e-308), json(9007199254740993.0), json(int64_t{INT64_MIN}), json(int64_t{INT64_MAX}),
      json(uint64_t{UINT64_MAX}), json(0.1), json(123456.789e3), json(true), json(false), json(nullptr), json(""),
      json("plain"), json("é 中 😀"), json(std::string("nul\0inside", 10)), json("\"quoted\" \\ / \b\f\n\r\t"),
      json("\x7f\x1f"), json(std::string(300, 'x'))};
  const int kind = depth > 4 ? 0 : static_cast<int>(rng() % 4);
  if (kind == 1) {
    json object = json::object();
    const int n = static_cast<int>(rng() % 6);
    for (int i = 0; i < n; ++i) {
      std::string key = "k";
      key += std::to_string(rng() % 50);
      if (rng() % 3 == 0) key += "é\t\"";
      object[key] = random_document(rng, depth + 1);
    }
    return object;
  }
  if (kind == 2) {
    json array = json::array();
    const int n = static_cast<int>(rng() % 6);
    for (int i = 0; i < n; ++i) array.push_back(random_document(rng, depth + 1));
    return array;
  }
  return leaves[rng() % leaves.size()];
}

TEST(FastReader, ReadsWhatNlohmannReads) {
  std::mt19937_64 rng(11);
  for (int i = 0; i < 3000; ++i) {
    const json document = random_document(rng, 0);
    expect_as_nlohmann(document.dump());
    expect_as_nlohmann(document.dump(2));
    expect_as_nlohmann(document.dump(-1, ' ', true));  // \u escapes for everything beyond ASCII
  }
}

TEST(FastReader, NumbersAndStringsAsNlohmannTypesThem) {
  for (const char* text : {"0", "-0", "-0.0", "1", "-1", "18446744073709551615", "18446744073709551616",
                           "-9223372036854775808", "-9223372036854775809", "9223372036854775808",
                           "123456789012345678901234567890", "1e400", "-1e400", "1e-400", "4.9e-324", "2.5e-324",
                           "1E5", "1e+5", "1.0e-5", "0.1", "17.000000000000001", "1.7976931348623157e308",
                           "[1,2.0,-3]", "\"\\u00e9\\ud83d\\ude00\\u0000\\/\"", "\"\\uDBFF\\uDFFF\"",
                           " \t\r\n{ \"a\" : [ ] , \"b\" : { } } \n", "\"\xc3\xa9\xe4\xb8\xad\xf0\x9f\x98\x80\""}) {
    SCOPED_TRACE(text);
    expect_as_nlohmann(text);
  }
}

TEST(FastReader, NotJsonGetsNlohmannsMessage) {
  for (const char* text : {"", " ", "{", "[", "]", "{]", "[1,]", "{\"a\":1,}", "{\"a\" 1}", "{\"a\":}", "{1:2}",
                           "01", "-01", "1.", ".5", "1e", "1e+", "-", "+1", "0x10", "NaN", "Infinity", "tru", "nul",
                           "truex", "[1 2]", "\"unterminated", "\"bad \\x escape\"", "\"\\u12\"", "\"\\uD800\"",
                           "\"\\uDC00\"", "\"\\uD800\\u0041\"", "\"\x01\"", "\"\xff\"", "\"\xc0\xaf\"", "\"\xed\xa0\x80\"",
                           "\"\xf4\x90\x80\x80\"", "\"\xe0\x80\xaf\"", "\xef\xbb\xbf{}", "{} {}", "[1]x", "/* c */ 1",
                           "{\"a\":1}x"}) {
    SCOPED_TRACE(text);
    expect_as_nlohmann(text);
  }
  EXPECT_TRUE(ours("\xef\xbb\xbf{}").ok) << "nlohmann skips a byte order mark, and so the reader does";
}

TEST(FastReader, EveryTruncationAndCorruptionOfAResult) {
  const json result = {{"context", {{"aicbench", {{"format_version", 2}, {"host", {{"hostname", "node-é"}}}}}}},
                       {"benchmarks", json::array({{{"name", "gemm/simt/fp32"}, {"real_time", 41000.5},
                                                    {"iterations", 1}, {"tflops", 1.5e-3}, {"ok", true},
                                                    {"note", "a \"quoted\" \\ path\n"}, {"none", nullptr}}})}};
  const std::string text = result.dump(2);
  for (size_t n = 0; n <= text.size(); ++n) expect_as_nlohmann(text.substr(0, n));
  std::mt19937_64 rng(5);
  for (int i = 0; i < 3000; ++i) {
    std::string corrupt = text;
    corrupt[rng() % corrupt.size()] = static_cast<char>(rng() % 256);
    expect_as_nlohmann(corrupt);
  }
}

}  // namespace
}  // namespace aicbench
