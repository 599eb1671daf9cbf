// Result files from outside: every class of malformed or hostile input a new user fed aicbench is
// rejected with InputError (exit 2) naming the file, the field path and what was expected, and
// never crashes, hangs or reads wrong. The schema in docs/ and the reader agree (JsonSchema tests).
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "reports/json_input.hpp"
#include "reports/json_schema.hpp"
#include "reports/result_file.hpp"
#include "reports/result_rows.hpp"
#include "tests/test_dir.hpp"

namespace aicbench {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

json valid_row(const std::string& impl = "simt") {
  const std::string name = "gemm/" + impl + "/fp32/M:64/N:64/K:64";
  return {{"name", name}, {"run_name", name}, {"run_type", "iteration"}, {"repetitions", 1},
          {"repetition_index", 0}, {"iterations", 1}, {"real_time", 41000.0}, {"cpu_time", 41000.0},
          {"time_unit", "ns"}, {"tflops", 1.5}, {"max_rel_err", 1e-7},
          {"aicbench", {{"family", "gemm"}, {"impl", impl}, {"dtype", "fp32"}, {"backend", "cpu"},
                        {"params", {{"M", 64}, {"N", 64}, {"K", 64}}}, {"mode", "cold"}, {"status", "ok"},
                        {"validation", {{"max_rel_err", 1e-7}, {"tolerance", 1e-5}}},
                        {"measurement", {{"samples", 10}, {"min_s", 4e-5}, {"q1_s", 4.05e-5}, {"median_s", 4.1e-5},
                                         {"q3_s", 4.2e-5}, {"max_s", 5e-5}, {"rel_stddev", 0.01}}}}}};
}

json valid_file() {
  return {{"context", {{"date", "2026-11-30"},
                       {"aicbench", {{"format_version", kResultFormatVersion}, {"aicbench_version", "0.1.0"},
                                     {"start_time", "2026-11-30T08:00:00Z"}, {"complete", true}, {"backend", "cpu"},
                                     {"suite", "quick"}, {"suite_version", 3}, {"host", {{"hostname", "node-a"}}},
                                     // format 3: one process, as `aicbench run` without mpirun writes it
                                     {"job", {{"launcher", "none"}, {"ranks", 1}, {"nodes", 1}, {"node", "node-a"},
                                              {"node_index", 0}, {"node_ranks", {0}}, {"ranks_per_node", {1}}}},
                                     {"telemetry", {{"available", false}, {"reason", "cpu backend"}}}}}}},
          {"benchmarks", json::array({valid_row("cpu_blocked"), valid_row("simt")})}};
}

class ResultInput : public ::testing::Test {
 protected:
  fs::path write(const std::string& content, const std::string& name = "run.json") {
    const fs::path path = dir_ / name;
    std::ofstream(path, std::ios::binary) << content;
    return path;
  }
  // Loads `content` and returns the error, which must be an exit-2 InputError naming the file.
  std::string error_of(const std::string& content) { return error_loading(write(content)); }
  std::string error_of(const json& document) { return error_of(document.dump()); }
  static std::string error_loading(const fs::path& path) {
    try {
      load_result_file(path);
    } catch (const InputError& e) {
      EXPECT_EQ(e.exit_code(), 2) << e.what();
      EXPECT_NE(std::string(e.what()).find(path.string()), std::string::npos) << "names the file: " << e.what();
      return e.what();
    }
    ADD_FAILURE() << path << " was accepted";
    return "";
  }
  testing::TestDir dir_;
};

#define EXPECT_MENTIONS(message, fragment) \
  EXPECT_NE((message).find(fragment), std::string::npos) << "expected '" << (fragment) << "' in: " << (message)

TEST_F(ResultInput, ValidFileLoads) {
  const ResultFile file = load_result_file(write(valid_file().dump()));
  EXPECT_EQ(file.benchmarks().size(), 2u);
  // Version 1 (aggregates under the bare name) is still read.
  json v1 = valid_file();
  v1["context"]["aicbench"]["format_version"] = 1;
  EXPECT_NO_THROW(load_result_file(write(v1.dump(), "v1.json")));
}

TEST_F(ResultInput, NotRegularFilesAreNamedNotReadOrWaitedOn) {
  EXPECT_MENTIONS(error_loading(dir_ / "absent.json"), "no such file");
  fs::create_directory(dir_ / "dir.json");
  EXPECT_MENTIONS(error_loading(dir_ / "dir.json"), "is a directory, expected a result file");
  // A FIFO with no writer would block a plain open() forever.
  ASSERT_EQ(::mkfifo((dir_ / "fifo.json").c_str(), 0600), 0);
  EXPECT_MENTIONS(error_loading(dir_ / "fifo.json"), "is a FIFO");
  // /dev/zero is endless: never read.
  EXPECT_MENTIONS(error_loading("/dev/zero"), "is a character device");
  fs::create_symlink(dir_ / "loop-b.json", dir_ / "loop-a.json");
  fs::create_symlink(dir_ / "loop-a.json", dir_ / "loop-b.json");
  EXPECT_MENTIONS(error_loading(dir_ / "loop-a.json"), "symlink loop");
  // A symlink to a good file is followed.
  fs::create_symlink(write(valid_file().dump(), "real.json"), dir_ / "link.json");
  EXPECT_NO_THROW(load_result_file(dir_ / "link.json"));
}

TEST_F(ResultInput, SizeBoundIsAppliedBeforeReading) {
  const fs::path big = write(std::string(4096, ' ') + "{}");
  try {
    read_json_file(big, "result file", {1024, 8});
    FAIL();
  } catch (const InputError& e) {
    EXPECT_MENTIONS(std::string(e.what()), "more than the 1024-byte limit for a result file");
  }
}

TEST_F(ResultInput, NotJsonOrNotAnAicbenchResult) {
  EXPECT_MENTIONS(error_of(std::string("")), "not JSON");
  EXPECT_MENTIONS(error_of(std::string("{\"context\": ")), "not JSON");
  EXPECT_MENTIONS(error_of(std::string("[1, 2]")), "not an aicbench result");
  EXPECT_MENTIONS(error_of(std::string("\"\xff\xfe\"")), "not JSON");  // invalid UTF-8
  EXPECT_MENTIONS(error_of(json{{"context", {{"date", "x"}}}, {"benchmarks", json::array()}}),
                  "plain Google Benchmark output");
}

TEST_F(ResultInput, DeepNestingInAnyFieldIsBoundedWhileParsing) {
  // ~65,000 levels crashed report and run through a recursive dump; now the parser stops early.
  const std::string deep = std::string(65000, '[') + std::string(65000, ']');
  for (const char* field : {"hostname", "suite", "aicbench_version"}) {
    std::string text = valid_file().dump();
    const std::string key = std::string("\"") + field + "\":";
    const size_t at = text.find(key);
    ASSERT_NE(at, std::string::npos) << field;
    const size_t value_end = text.find_first_of(",}", text.find('"', at + key.size() + 1));
    text.replace(at + key.size(), value_end - at - key.size(), deep);
    const std::string message = error_of(text);
    EXPECT_MENTIONS(message, "nests deeper than");
    EXPECT_MENTIONS(message, std::string("context.aicbench.") + (std::string(field) == "hostname" ? "host.hostname" : field));
  }
  // Objects as deep, even left unterminated: the bound is met before the end is looked for.
  std::string objects = valid_file().dump();
  std::string nested;
  for (int i = 0; i < 40000; ++i) nested += "{\"a\":";
  objects.replace(objects.find("],\"context\""), 1, "," + nested);
  EXPECT_MENTIONS(error_of(objects), "field 'benchmarks[2].a.a.a");
}

TEST_F(ResultInput, NumbersMustBeFiniteAnywhere) {
  std::string text = valid_file().dump();
  text.replace(text.find("1.5"), 3, "1e999");
  EXPECT_MENTIONS(error_of(text), "field 'benchmarks[0].tflops' is a number out of range");
  text = valid_file().dump();
  text.replace(text.find("\"date\":\"2026-11-30\""), 19, "\"date\":-1e400");
  EXPECT_MENTIONS(error_of(text), "field 'context.date' is a number out of range");
}

TEST_F(ResultInput, DuplicateKeysAndRowsAreRejected) {
  std::string text = valid_file().dump();
  text.replace(text.find("\"tflops\":1.5"), 12, "\"tflops\":1.5,\"tflops\":900");
  EXPECT_MENTIONS(error_of(text), "field 'benchmarks[0].tflops' appears twice in one object");
  json twice = valid_file();
  twice["benchmarks"].push_back(valid_row("simt"));
  EXPECT_MENTIONS(error_of(twice), "benchmarks[2] repeats benchmarks[1]");
  // Repetitions of one benchmark are distinct rows.
  json reps = valid_file();
  json second = valid_row("simt");
  second["repetition_index"] = 1;
  reps["benchmarks"].push_back(second);
  EXPECT_NO_THROW(load_result_file(write(reps.dump(), "reps.json")));
}

TEST_F(ResultInput, TypesRangesAndEnumsNameTheField) {
  struct Case {
    std::string pointer;
    json value;
    std::string expected;
  };
  const std::vector<Case> cases = {
      {"/benchmarks/0/tflops", -3.0, "field 'benchmarks[0].tflops' is -3.0, expected a number >= 0"},
      {"/benchmarks/0/real_time", -1.0, "field 'benchmarks[0].real_time' is -1.0, expected a number >= 0"},
      {"/benchmarks/0/aicbench/measurement/rel_stddev", -0.5, "measurement.rel_stddev' is -0.5, expected a number >= 0"},
      {"/benchmarks/0/aicbench/status", "okay", "field 'benchmarks[0].aicbench.status' is \"okay\", expected one of ok, failed, skipped, error"},
      {"/benchmarks/0/time_unit", "fortnights", "expected one of ns, us, ms, s"},
      {"/benchmarks/0/aicbench/params/M", 1e300, "field 'benchmarks[0].aicbench.params.M' is 1e+300, expected a number <= 9007199254740992"},
      {"/benchmarks/0/aicbench/params/M", 64.5, "field 'benchmarks[0].aicbench.params.M' is number 64.5, expected an integer"},
      {"/benchmarks/0/aicbench/params/M", -64, "expected a number >= 0"},
      {"/benchmarks/0/aicbench/params/M", 0, "field 'benchmarks[0].aicbench.params.M' is 0, expected a number >= 1 (a size"},
      {"/benchmarks/0/aicbench/measurement/samples", 1e300, "measurement.samples' is 1e+300, expected a number <= 9007199254740992"},
      {"/benchmarks/0/repetition_index", 1e19, "expected a number <= 1000000"},
      {"/benchmarks/0/name", std::string("gemm/simt\0/fp32", 15), "expected a name without control characters"},
      {"/benchmarks/0/name", 42, "field 'benchmarks[0].name' is integer 42, expected a string"},
      {"/context/aicbench/format_version", 0, "field 'context.aicbench.format_version' is 0, expected 1 to"},
      {"/context/aicbench/format_version", 99, "written by a newer aicbench"},
      {"/context/aicbench/format_version", "2", "field 'context.aicbench.format_version' is string \"2\", expected an integer"},
      {"/context/aicbench/suite_version", 3.7, "field 'context.aicbench.suite_version' is number 3.7, expected an integer"},
      {"/context/aicbench/telemetry/available", "yes", "field 'context.aicbench.telemetry.available' is string \"yes\", expected a boolean"},
      {"/context/aicbench/complete", nullptr, "field 'context.aicbench.complete' is null, expected a boolean"},
      {"/context/aicbench/host/hostname", json::object(), "field 'context.aicbench.host.hostname' is object, expected a string"},
      {"/context/aicbench/gpus", json::object(), "field 'context.aicbench.gpus' is object, expected an array"},
      {"/context/aicbench/backend", "tpu", "expected one of cuda, cpu"},
      {"/benchmarks", json::object(), "field 'benchmarks' is object, expected an array"},
      {"/context/aicbench", json::array(), "field 'context.aicbench' is array, expected an object"},
  };
  for (const Case& c : cases) {
    json document = valid_file();
    document[json::json_pointer(c.pointer)] = c.value;
    EXPECT_MENTIONS(error_of(document), c.expected);
  }
  json missing = valid_file();
  missing["benchmarks"][0]["aicbench"].erase("status");
  EXPECT_MENTIONS(error_of(missing), "missing field 'benchmarks[0].aicbench.status'");
}

TEST_F(ResultInput, InconsistentRowsAreRejected) {
  json beyond = valid_file();
  beyond["benchmarks"][0]["aicbench"]["validation"]["max_rel_err"] = 0.6;  // 60,000 x the tolerance
  EXPECT_MENTIONS(error_of(beyond), "benchmarks[0] is inconsistent: status is ok but aicbench.validation.max_rel_err 0.6 exceeds its tolerance");
  json counter = valid_file();
  counter["benchmarks"][0]["max_rel_err"] = 0.6;
  EXPECT_MENTIONS(error_of(counter), "status is ok but max_rel_err 0.6 exceeds");
  json failed_number = valid_file();
  failed_number["benchmarks"][1]["aicbench"]["status"] = "failed";
  EXPECT_MENTIONS(error_of(failed_number), "benchmarks[1] is inconsistent: status is 'failed' but the row carries 'tflops'");
  json flagged = valid_file();
  flagged["benchmarks"][0]["error_occurred"] = true;
  EXPECT_MENTIONS(error_of(flagged), "status is ok but error_occurred is true");
  json order = valid_file();
  order["benchmarks"][0]["aicbench"]["measurement"]["q1_s"] = 1.0;
  EXPECT_MENTIONS(error_of(order), "aicbench.measurement.median_s 4.1e-05 is below q1_s 1");
  json renamed = valid_file();
  renamed["benchmarks"][0]["aicbench"]["impl"] = "cublas";
  EXPECT_MENTIONS(error_of(renamed), "does not start with 'gemm/cublas/fp32'");
}

TEST_F(ResultInput, RowsCarryTheTypedNumbers) {
  json document = valid_file();
  json aggregate = valid_row("simt");
  aggregate["name"] = "gemm/simt/fp32/M:64/N:64/K:64_median";
  aggregate["run_type"] = "aggregate";
  aggregate["aggregate_name"] = "median";
  aggregate["repetition_index"] = -1;
  document["benchmarks"].push_back(aggregate);
  json failed = valid_row("cublas");
  failed["aicbench"]["status"] = "failed";
  failed["aicbench"]["reason"] = "validation failed";
  for (const char* counter : {"tflops", "max_rel_err"}) failed.erase(counter);
  document["benchmarks"].push_back(failed);
  const std::vector<ResultFile> files = {load_result_file(write(document.dump()))};
  const std::vector<ResultRow> rows = result_rows(files);
  ASSERT_EQ(rows.size(), 4u);
  EXPECT_EQ(rows[1].name, "gemm/simt/fp32/M:64/N:64/K:64");
  EXPECT_EQ(rows[1].origin.host, "node-a");
  EXPECT_EQ(rows[1].params.at("K"), 64);
  EXPECT_DOUBLE_EQ(*rows[1].median_s, 4.1e-5);
  EXPECT_DOUBLE_EQ(*rows[1].throughput(), 1.5);
  EXPECT_EQ(rows[1].throughput_unit(), "TFLOP/s");
  EXPECT_TRUE(rows[2].aggregate);
  EXPECT_EQ(rows[2].name, "gemm/simt/fp32/M:64/N:64/K:64") << "aggregate suffix dropped";
  EXPECT_EQ(rows[2].repetition_index, -1);
  EXPECT_FALSE(rows[3].ok());
  EXPECT_EQ(rows[3].reason, "validation failed");
  EXPECT_FALSE(rows[3].throughput());
  EXPECT_EQ(measurement_rows(files).size(), 3u);
}

TEST(JsonSchema, RefusesKeywordsItDoesNotImplement) {
  EXPECT_THROW(JsonSchema(json{{"type", "string"}, {"pattern", "^a"}}, "test"), std::logic_error);
  EXPECT_THROW(JsonSchema(json{{"$ref", "#/$defs/missing"}}, "test"), std::logic_error);
  EXPECT_THROW(JsonSchema(json{{"format", "email"}}, "test"), std::logic_error);
  EXPECT_NO_THROW(JsonSchema(json{{"type", "object"}, {"description", "x"}, {"properties", {{"a", {{"enum", {1, 2}}}}}}}, "test"));
}

TEST(JsonSchema, UnknownFieldsSuggestTheNearest) {
  const JsonSchema schema(json{{"type", "object"}, {"additionalProperties", false},
                               {"properties", {{"measurement", json::object()}, {"groups", json::object()}}}},
                          "test");
  try {
    schema.validate(json{{"measurment", 1}}, "suite.json");
    FAIL();
  } catch (const InputError& e) {
    EXPECT_MENTIONS(std::string(e.what()), "suite.json: field 'measurment' is unknown; did you mean 'measurement'?");
  }
  EXPECT_NO_THROW(schema.validate(json{{"groups", 1}}, "suite.json"));
  EXPECT_EQ(nearest_word("qiuck", {"quick", "smoke", "gemm"}), "quick");
  EXPECT_EQ(nearest_word("zzzzzz", {"quick", "smoke", "gemm"}), "");
}

}  // namespace
}  // namespace aicbench
