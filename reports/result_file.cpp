#include "reports/result_file.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>

#include <fcntl.h>
#include <unistd.h>

namespace aicbench {

void write_file_atomically(const std::filesystem::path& path, const std::string& content) {
  namespace fs = std::filesystem;
  if (path.has_parent_path()) {
    std::error_code ec;
    fs::create_directories(path.parent_path(), ec);
    if (ec) {
      throw InputError("cannot write " + path.string() + ": cannot create its directory (" +
                           ec.message() + ")", 2);
    }
  }
  fs::path tmp = path;
  tmp += ".tmp." + std::to_string(::getpid());

  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0) {
    throw InputError("cannot write " + tmp.string() + ": " + std::strerror(errno), 2);
  }
  const char* data = content.data();
  size_t left = content.size();
  while (left > 0) {
    ssize_t n = ::write(fd, data, left);
    if (n < 0) {
      if (errno == EINTR) continue;
      int err = errno;
      ::close(fd);
      ::unlink(tmp.c_str());
      throw InputError("cannot write " + tmp.string() + ": " + std::strerror(err), 2);
    }
    data += n;
    left -= static_cast<size_t>(n);
  }
  // fsync before rename: otherwise a crash can leave the new name pointing at empty data.
  ::fsync(fd);
  ::close(fd);
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    int err = errno;
    ::unlink(tmp.c_str());
    throw InputError("cannot move " + tmp.string() + " to " + path.string() + ": " +
                         std::strerror(err), 2);
  }
}

namespace {

[[noreturn]] void fail(const std::string& origin, const std::string& what) {
  throw InputError(origin + ": " + what, 2);
}

void expect_type(const nlohmann::json& value, nlohmann::json::value_t type, const std::string& origin,
                 const std::string& field, const char* expected) {
  if (value.type() != type) {
    fail(origin, "field '" + field + "' is " + std::string(value.type_name()) + ", expected " +
                     expected);
  }
}

}  // namespace

void check_result_json(const nlohmann::json& json, const std::string& origin) {
  using vt = nlohmann::json::value_t;
  if (!json.is_object()) fail(origin, "not an aicbench result: top level is " + std::string(json.type_name()) + ", expected an object with 'context' and 'benchmarks'");
  if (!json.contains("context")) fail(origin, "not an aicbench result: missing field 'context' (Google Benchmark JSON expected)");
  if (!json.contains("benchmarks")) fail(origin, "not an aicbench result: missing field 'benchmarks' (Google Benchmark JSON expected)");
  expect_type(json["context"], vt::object, origin, "context", "an object");
  expect_type(json["benchmarks"], vt::array, origin, "benchmarks", "an array");
  const auto& context = json["context"];
  if (!context.contains(ResultFile::kProvenanceKey)) {
    fail(origin, "not an aicbench result: missing field 'context.aicbench' (this looks like plain "
                 "Google Benchmark output, without aicbench's provenance)");
  }
  const auto& prov = context[ResultFile::kProvenanceKey];
  expect_type(prov, vt::object, origin, "context.aicbench", "an object");
  if (!prov.contains("format_version") || !prov["format_version"].is_number_integer()) {
    fail(origin, "missing or non-integer field 'context.aicbench.format_version'");
  }
  int version = prov["format_version"].get<int>();
  if (version > kResultFormatVersion) {
    fail(origin, "field 'context.aicbench.format_version' is " + std::to_string(version) +
                     ", this aicbench reads up to " + std::to_string(kResultFormatVersion));
  }
  const auto& benchmarks = json["benchmarks"];
  for (size_t i = 0; i < benchmarks.size(); ++i) {
    const std::string where = "benchmarks[" + std::to_string(i) + "]";
    const auto& b = benchmarks[i];
    expect_type(b, vt::object, origin, where, "an object");
    if (!b.contains("name") || !b["name"].is_string()) {
      fail(origin, "field '" + where + ".name' is missing or not a string");
    }
    if (!b.contains("aicbench") || !b["aicbench"].is_object()) {
      fail(origin, "field '" + where + ".aicbench' (benchmark '" + b["name"].get<std::string>() +
                       "') is missing or not an object");
    }
    const auto& info = b["aicbench"];
    for (const char* key : {"family", "impl", "dtype", "status"}) {
      if (!info.contains(key) || !info[key].is_string()) {
        fail(origin, "field '" + where + ".aicbench." + key + "' is missing or not a string");
      }
    }
  }
}

ResultFile load_result_file(const std::filesystem::path& path) {
  std::ifstream in(path);
  if (!in) {
    throw InputError(path.string() + ": cannot open result file (" +
                         (std::filesystem::exists(path) ? "not readable" : "no such file") + ")",
                     2);
  }
  std::stringstream buffer;
  buffer << in.rdbuf();
  ResultFile file;
  file.path = path;
  try {
    file.json = nlohmann::json::parse(buffer.str());
  } catch (const nlohmann::json::parse_error& e) {
    throw InputError(path.string() + ": not JSON (" + e.what() + ")", 2);
  }
  check_result_json(file.json, path.string());
  return file;
}

}  // namespace aicbench
