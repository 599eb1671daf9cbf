// `aicbench history` from the library: the database add writes (idempotent, all or nothing, safe
// under concurrent writers), the trend (series, folded repetitions, change marks), the baseline
// (selection and byte-exact export), refused databases, and the rendered outputs.
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include "reports/history.hpp"
#include "reports/result_file.hpp"
#include "reports/result_rows.hpp"
#include "reports/sha256.hpp"
#include "tests/history_data.hpp"
#include "tests/test_dir.hpp"

namespace {

namespace fs = std::filesystem;
namespace history = aicbench::history;
using aicbench::InputError;
using aicbench::testing::make_run;
using aicbench::testing::query_int;
using aicbench::testing::read_text;
using aicbench::testing::RunSpec;
using nlohmann::json;

const std::string kCublas = "gemm/cublaslt/bf16/M:4096/N:4096/K:4096";
const std::string kWgmma = "gemm/wgmma_sm90/bf16/M:4096/N:4096/K:4096";

void exec(const fs::path& db, const std::string& sql) {
  sqlite3* handle = nullptr;
  ASSERT_EQ(sqlite3_open(db.c_str(), &handle), SQLITE_OK);
  char* error = nullptr;
  EXPECT_EQ(sqlite3_exec(handle, sql.c_str(), nullptr, nullptr, &error), SQLITE_OK) << (error ? error : "");
  sqlite3_free(error);
  sqlite3_close(handle);
}

// The InputError that `f` throws; fails the test if it throws nothing or something else.
template <typename F>
std::optional<InputError> input_error(F&& f) {
  try {
    f();
  } catch (const InputError& e) {
    return e;
  }
  ADD_FAILURE() << "expected an InputError";
  return std::nullopt;
}

using reports_drawer = aicbench::reports::ChartDrawer;

bool gnuplot_available() {
  if (const char* env = std::getenv("AICBENCH_GNUPLOT"); env && *env) return fs::exists(env);
  return std::system("command -v gnuplot >/dev/null 2>&1") == 0;
}

class HistoryTest : public ::testing::Test {
 protected:
  fs::path write_run(const std::string& name, const RunSpec& spec) {
    const fs::path path = dir_ / name;
    aicbench::write_file_atomically(path, make_run(spec).dump(1));
    return path;
  }
  // Four nights on two GPUs of two nodes; GPU-aaaa on node-a got 10 % slower on night 3.
  std::vector<fs::path> four_nights() {
    std::vector<fs::path> files;
    for (int night = 1; night <= 4; ++night) {
      const std::string start = "2026-11-2" + std::to_string(night) + "T22:00:00Z";
      const std::string n = std::to_string(night);
      files.push_back(write_run(std::string("a") + n + ".json",
                                {.host = "node-a", .gpu_uuid = "GPU-aaaa", .start = start, .slowdown = night >= 3 ? 1.1 : 1.0}));
      files.push_back(write_run(std::string("b") + n + ".json",
                                {.host = "node-b", .gpu_uuid = "GPU-bbbb", .start = start}));
    }
    return files;
  }
  fs::path db() const { return dir_ / "history.db"; }

  aicbench::testing::TestDir dir_;
};

// ---------------------------------------------------------------------------------------------
// SHA-256: the run's identity
// ---------------------------------------------------------------------------------------------

TEST(Sha256, MatchesKnownDigestsAcrossBlockBoundaries) {
  // FIPS 180-4 examples and lengths around the padding boundary (55, 56, 63, 64, 119 bytes).
  EXPECT_EQ(aicbench::sha256_hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(aicbench::sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(aicbench::sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  const std::map<size_t, std::string> a_times = {
      {55, "9f4390f8d30c2dd92ec9f095b65e2b9ae9b0a925a5258e241c9f1e910f734318"},
      {56, "b35439a4ac6f0948b6d6f9e3c6af0f5f590ce20f1bde7090ef7970686ec6738a"},
      {63, "7d3e74a05d7db15bce4ad9ec0658ea98e3f06eeecf16b4c6fff2da457ddc2f34"},
      {64, "ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb"},
      {119, "31eba51c313a5c08226adf18d4a359cfdfd8d2e816b13f4af952f7ea6584dcfb"},
      {1000000, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"}};
  for (const auto& [n, digest] : a_times) EXPECT_EQ(aicbench::sha256_hex(std::string(n, 'a')), digest) << n;
}

// ---------------------------------------------------------------------------------------------
// add
// ---------------------------------------------------------------------------------------------

TEST_F(HistoryTest, AddingTheSameFileTwiceLeavesOneCopy) {
  const fs::path one = write_run("one.json", {});
  const fs::path two = write_run("two.json", {.start = "2026-11-25T22:00:00Z"});
  // The same file twice in one call, then again in a second call.
  const auto first = history::add_runs(db(), {one, one});
  ASSERT_EQ(first.runs.size(), 2u);
  EXPECT_TRUE(first.runs[0].added);
  EXPECT_FALSE(first.runs[1].added);
  EXPECT_EQ(first.runs[1].run_id, first.runs[0].run_id);
  EXPECT_EQ(first.runs[0].sha256, aicbench::sha256_hex(read_text(one)));
  EXPECT_EQ(first.runs[0].results, 2u);

  const auto second = history::add_runs(db(), {one, two});
  EXPECT_FALSE(second.runs[0].added);
  EXPECT_TRUE(second.runs[1].added);
  // A copy under another name is the same run: identity is the content.
  fs::copy_file(one, dir_ / "copy-of-one.json");
  EXPECT_FALSE(history::add_runs(db(), {dir_ / "copy-of-one.json"}).runs[0].added);

  EXPECT_EQ(query_int(db(), "SELECT count(*) FROM runs"), 2);
  EXPECT_EQ(query_int(db(), "SELECT count(*) FROM results"), 4);
  EXPECT_EQ(query_int(db(), "SELECT count(*) FROM aicbench_schema"), 1);
  EXPECT_EQ(query_int(db(), "SELECT version FROM aicbench_schema"), history::kSchemaVersion);
  EXPECT_EQ(first.journal_mode, "wal");
}

TEST_F(HistoryTest, RecordsProvenanceAndEveryRowVerbatim) {
  const fs::path file = write_run("rep.json", {.repetitions = 3, .failed_benchmark = kWgmma});
  const int64_t id = history::add_runs(db(), {file}).runs[0].run_id;
  EXPECT_EQ(query_int(db(), "SELECT count(*) FROM results WHERE run_id = " + std::to_string(id)), 6);
  EXPECT_EQ(query_int(db(), "SELECT count(*) FROM runs WHERE host = 'node-a' AND gpu_uuid = 'GPU-aaaa' AND "
                            "device_name = 'NVIDIA H200' AND backend = 'cuda' AND driver = '580.65' AND "
                            "suite = 'nightly' AND suite_version = 3 AND complete = 1 AND format_version = 2 AND "
                            "start_time = '2026-11-24T22:00:00Z' AND git_commit = 'abc1234' AND gpu_count = 1"),
            1);
  EXPECT_EQ(query_int(db(), "SELECT count(*) FROM results WHERE status = 'failed' AND throughput IS NULL AND "
                            "reason LIKE 'validation failed%' AND max_rel_err = 0.3 AND tolerance = 0.01"),
            3);
  EXPECT_EQ(query_int(db(), "SELECT count(*) FROM results WHERE name = '" + kCublas + "' AND throughput_unit = "
                            "'TFLOP/s' AND throughput > 600 AND sm_clock_mhz = 1980 AND temp_c = 61 AND "
                            "throttle_reasons = '[]' AND json_extract(params, '$.M') = 4096"),
            3);
  EXPECT_EQ(query_int(db(), "SELECT max(repetition_index) FROM results"), 2);
  // The file is kept byte for byte.
  sqlite3* handle = nullptr;
  ASSERT_EQ(sqlite3_open(db().c_str(), &handle), SQLITE_OK);
  sqlite3_stmt* stmt = nullptr;
  sqlite3_prepare_v2(handle, "SELECT result_json, sha256 FROM runs", -1, &stmt, nullptr);
  ASSERT_EQ(sqlite3_step(stmt), SQLITE_ROW);
  const std::string stored(reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0)),
                           static_cast<size_t>(sqlite3_column_bytes(stmt, 0)));
  EXPECT_EQ(stored, read_text(file));
  EXPECT_EQ(reinterpret_cast<const char*>(sqlite3_column_text(stmt, 1)), aicbench::sha256_hex(read_text(file)));
  sqlite3_finalize(stmt);
  sqlite3_close(handle);
}

TEST_F(HistoryTest, ABadFileAddsNothing) {
  const fs::path good = write_run("good.json", {});
  const fs::path bad = dir_ / "bad.json";
  aicbench::write_file_atomically(bad, "{\"context\": {}, \"benchmarks\": 3}");
  history::add_runs(db(), {write_run("earlier.json", {.start = "2026-11-20T22:00:00Z"})});
  auto e = input_error([&] { history::add_runs(db(), {good, bad}); });
  ASSERT_TRUE(e);
  EXPECT_EQ(e->exit_code(), 2);
  EXPECT_NE(std::string(e->what()).find("bad.json"), std::string::npos) << e->what();
  EXPECT_EQ(query_int(db(), "SELECT count(*) FROM runs"), 1) << "the good file of the failed add was rolled back";
}

// Several processes add at once, the same files and their own, to a database none of them has
// created yet: every add succeeds, and each file is recorded exactly once.
TEST_F(HistoryTest, ConcurrentAddsFromManyProcessesAreSafe) {
  std::vector<fs::path> shared;
  for (int i = 0; i < 4; ++i) {
    shared.push_back(write_run("shared" + std::to_string(i) + ".json", {.start = "2026-11-2" + std::to_string(i) + "T22:00:00Z"}));
  }
  constexpr int kProcesses = 8;
  // A start line: every child waits on the pipe until the parent closes it, so they all meet the
  // new database at the same moment (creating the schema, switching it to WAL).
  int start[2];
  ASSERT_EQ(::pipe(start), 0);
  std::vector<pid_t> children;
  for (int p = 0; p < kProcesses; ++p) {
    std::vector<fs::path> files = shared;
    files.push_back(write_run("own" + std::to_string(p) + ".json",
                              {.host = "node-" + std::to_string(p), .gpu_uuid = "GPU-" + std::to_string(p)}));
    std::reverse(files.begin() + (p % 2), files.end());  // in different orders
    const pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      ::close(start[1]);
      char byte;
      while (::read(start[0], &byte, 1) > 0) {}
      int code = 0;
      try {
        for (int round = 0; round < 3; ++round) history::add_runs(db(), files, {.busy_timeout_s = 120});
      } catch (const InputError& e) {
        std::fprintf(stderr, "child %d: %s\n", p, e.what());
        code = 10 + e.exit_code();
      } catch (const std::exception& e) {
        std::fprintf(stderr, "child %d: %s\n", p, e.what());
        code = 9;
      }
      std::fflush(stderr);
      ::_exit(code);
    }
    children.push_back(pid);
  }
  ::close(start[0]);
  ::close(start[1]);  // go
  for (pid_t pid : children) {
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "a concurrent add failed: status " << status;
  }
  EXPECT_EQ(query_int(db(), "SELECT count(*) FROM runs"), 4 + kProcesses);
  EXPECT_EQ(query_int(db(), "SELECT count(*) FROM results"), 2 * (4 + kProcesses));
  EXPECT_EQ(query_int(db(), "SELECT count(*) FROM aicbench_schema"), 1);
  EXPECT_EQ(query_int(db(), "SELECT count(*) FROM (SELECT sha256 FROM runs GROUP BY sha256 HAVING count(*) > 1)"), 0);
}

// Another connection about to write a new database (as a second first adder is) while add
// switches it to WAL: SQLite refuses the switch at once (SQLITE_BUSY, without the busy handler,
// to avoid a deadlock), so add waits and retries within its timeout.
TEST_F(HistoryTest, AddWaitsForAWriterToSwitchANewDatabaseToWal) {
  sqlite3* writer = nullptr;
  ASSERT_EQ(sqlite3_open(db().c_str(), &writer), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(writer, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr), SQLITE_OK);
  std::thread release([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    sqlite3_exec(writer, "COMMIT", nullptr, nullptr, nullptr);
  });
  history::AddReport report;
  std::string error;
  try {
    report = history::add_runs(db(), {write_run("one.json", {})}, {.busy_timeout_s = 30});
  } catch (const std::exception& e) {
    error = e.what();
  }
  release.join();
  sqlite3_close(writer);
  ASSERT_EQ(error, "");
  EXPECT_EQ(report.journal_mode, "wal");
  EXPECT_TRUE(report.runs.at(0).added);
}

// ---------------------------------------------------------------------------------------------
// Databases that are refused
// ---------------------------------------------------------------------------------------------

TEST_F(HistoryTest, RefusesWhatIsNotAnAicbenchDatabaseOfAKnownVersion) {
  const fs::path run = write_run("run.json", {});
  auto expect_refused = [&](const fs::path& path, const std::string& words) {
    for (auto attempt : {0, 1}) {
      auto e = input_error([&] {
        if (attempt == 0) history::add_runs(path, {run});
        else history::history_trend(path, {.filter = "."}, {});
      });
      ASSERT_TRUE(e);
      EXPECT_EQ(e->exit_code(), 2) << e->what();
      EXPECT_NE(std::string(e->what()).find(words), std::string::npos) << e->what();
      EXPECT_NE(std::string(e->what()).find(path.string()), std::string::npos) << e->what();
    }
  };
  const fs::path text = dir_ / "notes.txt";
  aicbench::write_file_atomically(text, std::string(4096, 'x'));
  expect_refused(text, "not an SQLite database");
  EXPECT_EQ(read_text(text), std::string(4096, 'x')) << "a refused file is left as it was";

  const fs::path other = dir_ / "other.db";
  exec(other, "CREATE TABLE inventory (id INTEGER)");
  expect_refused(other, "not an aicbench history database");

  const fs::path newer = dir_ / "newer.db";
  history::add_runs(newer, {run});
  exec(newer, "UPDATE aicbench_schema SET version = 99");
  expect_refused(newer, "newer aicbench");

  fs::create_directories(dir_ / "a-directory");
  expect_refused(dir_ / "a-directory", "not a regular file");

  auto missing = input_error([&] { history::history_trend(dir_ / "absent.db", {.filter = "."}, {}); });
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->exit_code(), 2);
  EXPECT_NE(std::string(missing->what()).find("no such database"), std::string::npos) << missing->what();
  EXPECT_FALSE(fs::exists(dir_ / "absent.db")) << "reading never creates a database";
}

TEST_F(HistoryTest, FilterIsRe2WithBoundedMemory) {
  EXPECT_TRUE(history::NameFilter("wgmma.*bf16").matches(kWgmma));
  EXPECT_FALSE(history::NameFilter("^cublas").matches(kWgmma));
  auto bad = input_error([] { history::NameFilter("(unclosed"); });
  ASSERT_TRUE(bad);
  EXPECT_EQ(bad->exit_code(), 2);
  EXPECT_NE(std::string(bad->what()).find("RE2"), std::string::npos);
  // A pattern whose automaton would need more memory than the bound is refused, not built.
  auto huge = input_error([] { history::NameFilter("((a{1,100}){1,100}){1,100}"); });
  ASSERT_TRUE(huge);
  EXPECT_EQ(huge->exit_code(), 2);
}

// ---------------------------------------------------------------------------------------------
// trend
// ---------------------------------------------------------------------------------------------

TEST_F(HistoryTest, TrendIsOneSeriesPerBenchmarkAndGpuInTimeOrder) {
  auto files = four_nights();
  std::reverse(files.begin(), files.end());  // added out of order: the trend orders by start time
  history::add_runs(db(), files);
  const history::Trend trend = history::history_trend(db(), {.filter = "bf16"}, {});
  ASSERT_EQ(trend.series.size(), 4u);  // 2 benchmarks x 2 GPUs
  EXPECT_FALSE(trend.changes_marked);
  const history::TrendSeries& a = trend.series[0];
  EXPECT_EQ(a.benchmark, kCublas);
  EXPECT_EQ(a.gpu_uuid, "GPU-aaaa");
  EXPECT_EQ(a.host, "node-a");
  EXPECT_EQ(a.throughput_unit, "TFLOP/s");
  ASSERT_EQ(a.points.size(), 4u);
  for (size_t i = 0; i < 4; ++i) {
    EXPECT_EQ(a.points[i].start_time, "2026-11-2" + std::to_string(i + 1) + "T22:00:00Z");
    ASSERT_TRUE(a.points[i].median_s);
    EXPECT_NEAR(*a.points[i].median_s, 2.0e-4 * (i >= 2 ? 1.1 : 1.0), 1e-12);
    EXPECT_NEAR(*a.points[i].throughput, 2.0 * 4096.0 * 4096 * 4096 / *a.points[i].median_s / 1e12, 1e-6);
  }
  EXPECT_EQ(trend.series[1].gpu_uuid, "GPU-bbbb");
  EXPECT_EQ(trend.series[2].benchmark, kWgmma);

  const history::Trend one_node = history::history_trend(db(), {.filter = "wgmma", .node = "node-b"}, {});
  ASSERT_EQ(one_node.series.size(), 1u);
  EXPECT_EQ(one_node.series[0].benchmark, kWgmma);
  EXPECT_EQ(one_node.series[0].host, "node-b");

  auto none = input_error([&] { history::history_trend(db(), {.filter = "attention"}, {}); });
  ASSERT_TRUE(none);
  EXPECT_EQ(none->exit_code(), 2);
  EXPECT_NE(std::string(none->what()).find("2 benchmarks recorded"), std::string::npos) << none->what();
  EXPECT_TRUE(input_error([&] { history::history_trend(db(), {.filter = "bf16", .node = "node-z"}, {}); }));
}

TEST_F(HistoryTest, AGpuMovedBetweenNodesIsOneSeriesInTimeOrder) {
  history::add_runs(db(), {write_run("x1.json", {.host = "node-x", .gpu_uuid = "GPU-mmmm", .start = "2026-11-21T22:00:00Z"}),
                           write_run("y2.json", {.host = "node-y", .gpu_uuid = "GPU-mmmm", .start = "2026-11-22T22:00:00Z"}),
                           write_run("x3.json", {.host = "node-x", .gpu_uuid = "GPU-mmmm", .start = "2026-11-23T22:00:00Z"})});
  const history::Trend trend = history::history_trend(db(), {.filter = "cublaslt"}, {});
  ASSERT_EQ(trend.series.size(), 1u);
  const auto& points = trend.series[0].points;
  ASSERT_EQ(points.size(), 3u);
  EXPECT_EQ(points[0].host, "node-x");
  EXPECT_EQ(points[1].host, "node-y");
  EXPECT_EQ(points[2].host, "node-x");
  EXPECT_LT(points[0].start_time, points[1].start_time);
  EXPECT_LT(points[1].start_time, points[2].start_time);
  EXPECT_EQ(trend.series[0].host, "node-x") << "the host of its latest run";
}

TEST_F(HistoryTest, TrendFoldsRepetitionsAndNeverShowsANumberForAFailure) {
  history::add_runs(db(), {write_run("rep.json", {.repetitions = 3, .failed_benchmark = kWgmma})});
  const history::Trend trend = history::history_trend(db(), {.filter = "."}, {});
  ASSERT_EQ(trend.series.size(), 2u);
  const history::TrendPoint& ok = trend.series[0].points.at(0);
  EXPECT_EQ(ok.repetitions, 3);
  EXPECT_EQ(ok.status, "ok");
  EXPECT_NEAR(*ok.median_s, 2.0e-4 * 1.01, 1e-12);  // the median of 1.00, 1.01, 1.02
  const history::TrendPoint& failed = trend.series[1].points.at(0);
  EXPECT_EQ(failed.status, "failed");
  EXPECT_NE(failed.reason.find("max_rel_err 0.3"), std::string::npos);
  EXPECT_FALSE(failed.median_s);
  EXPECT_FALSE(failed.throughput);
}

TEST_F(HistoryTest, TrendMarksWhatTheChangeDetectorFindsComparingConsecutiveRuns) {
  history::add_runs(db(), four_nights());
  // A stand-in for compare's decision: SLOWER where the median time grew by more than 5 %.
  int calls = 0;
  history::ChangeDetector detect = [&](const aicbench::ResultFile& before, const aicbench::ResultFile& after) {
    ++calls;
    std::map<std::string, double> old_times;
    for (const auto& row : aicbench::measurement_rows({before})) old_times[row.name] = row.median_s.value_or(0);
    std::map<std::string, history::Change> changes;
    for (const auto& row : aicbench::measurement_rows({after})) {
      if (row.median_s && *row.median_s > 1.05 * old_times[row.name]) changes[row.name] = history::Change::slower;
    }
    return changes;
  };
  const history::Trend trend = history::history_trend(db(), {.filter = "."}, detect);
  EXPECT_TRUE(trend.changes_marked);
  EXPECT_EQ(calls, 6) << "each pair of consecutive runs of a GPU compared once, for all its benchmarks";
  for (const auto& series : trend.series) {
    for (size_t i = 0; i < series.points.size(); ++i) {
      const bool expected = series.gpu_uuid == "GPU-aaaa" && i == 2;
      EXPECT_EQ(series.points[i].change, expected ? history::Change::slower : history::Change::none)
          << series.label() << " point " << i;
    }
  }
}

// The marks `aicbench compare` itself gives consecutive runs: 10 % slower (code), slower again
// with a new driver (the machine), and back to the first speed.
TEST_F(HistoryTest, TrendMarksWithComparesDecision) {
  const std::vector<std::tuple<std::string, double, std::string>> nights = {
      {"2026-11-21T22:00:00Z", 1.0, "580.65"}, {"2026-11-22T22:00:00Z", 1.0, "580.65"},
      {"2026-11-23T22:00:00Z", 1.1, "580.65"}, {"2026-11-24T22:00:00Z", 1.25, "590.10"},
      {"2026-11-25T22:00:00Z", 1.0, "590.10"}};
  std::vector<fs::path> files;
  for (const auto& [start, slowdown, driver] : nights) {
    files.push_back(write_run(start.substr(0, 10) + ".json",
                              {.start = start, .driver = driver, .slowdown = slowdown, .repetitions = 3}));
  }
  history::add_runs(db(), files);
  const history::ChangeDetector compare = history::compare_change_detector();
  ASSERT_TRUE(compare);
  const history::Trend trend = history::history_trend(db(), {.filter = "cublaslt"}, compare);
  ASSERT_EQ(trend.series.size(), 1u);
  std::vector<std::string> marks;
  for (const auto& point : trend.series[0].points) marks.push_back(history::change_label(point.change));
  EXPECT_EQ(marks, (std::vector<std::string>{"", "", "SLOWER", "ENVIRONMENT CHANGED", "FASTER"}));
  EXPECT_NE(history::render_trend_markdown(trend).find("marked where aicbench compare finds one"), std::string::npos);
}

TEST_F(HistoryTest, TrendRendersMarkdownCsvAndHtml) {
  history::add_runs(db(), four_nights());
  history::add_runs(db(), {write_run("failed.json", {.host = "node-a", .gpu_uuid = "GPU-aaaa",
                                                     .start = "2026-11-25T22:00:00Z", .failed_benchmark = kCublas,
                                                     .reason = "max_rel_err, \"0.3\" <b>bad</b>"})});
  history::Trend trend = history::history_trend(db(), {.filter = "cublaslt"}, {});
  trend.series[0].points[2].change = history::Change::slower;

  const std::string md = history::render_trend_markdown(trend);
  EXPECT_NE(md.find("## gemm/cublaslt/bf16/M:4096/N:4096/K:4096"), std::string::npos) << md;
  EXPECT_NE(md.find("### NVIDIA H200 GPU-aaaa on node-a"), std::string::npos) << md;
  EXPECT_NE(md.find("| SLOWER |"), std::string::npos) << md;
  EXPECT_NE(md.find("+10.0 %"), std::string::npos) << "night 3 is 10 % slower than night 2\n" << md;
  EXPECT_NE(md.find("not marked"), std::string::npos) << md;

  const std::string csv = history::render_trend_csv(trend);
  EXPECT_EQ(std::count(csv.begin(), csv.end(), '\n'), 1 + 9) << csv;  // header + 5 + 4 points
  EXPECT_NE(csv.find("\"max_rel_err, \"\"0.3\"\" <b>bad</b>\""), std::string::npos) << csv;
  EXPECT_NE(csv.find(",SLOWER,0,,\r\n"), std::string::npos) << csv;  // then rank, gpu_index, span_ranks

  const std::string html = history::render_trend_html(trend);
  EXPECT_EQ(html.find("<b>bad"), std::string::npos) << "reasons are escaped";
  EXPECT_NE(html.find("&lt;b&gt;bad"), std::string::npos);
  EXPECT_NE(html.find("<td class=\"SLOWER\">SLOWER</td>"), std::string::npos);
  if (gnuplot_available()) {
    EXPECT_NE(html.find("<svg"), std::string::npos);
    EXPECT_EQ(html.find("<?xml"), std::string::npos);
    EXPECT_EQ(html.find("not drawn"), std::string::npos);
  }
  // Without gnuplot: the page, its tables, and why there are no charts.
  const std::string without = history::render_trend_html(trend, {{}, "gnuplot not found on PATH"});
  EXPECT_EQ(without.find("<svg"), std::string::npos);
  EXPECT_NE(without.find("Charts are not drawn: gnuplot not found on PATH"), std::string::npos);
  // A chart that fails says so in its place.
  const reports_drawer failing{[](const std::string&) -> std::string { throw std::runtime_error("gnuplot: line 3: bad"); }, ""};
  EXPECT_NE(history::render_trend_html(trend, failing).find("This chart was not drawn: gnuplot: line 3: bad"),
            std::string::npos);
  EXPECT_NE(without.find("<td class=\"SLOWER\">SLOWER</td>"), std::string::npos) << "the tables are still there";
}

// ---------------------------------------------------------------------------------------------
// baseline
// ---------------------------------------------------------------------------------------------

TEST_F(HistoryTest, BaselineTakesTheLastCompleteRunsOfEachGpu) {
  history::add_runs(db(), four_nights());
  history::add_runs(db(), {write_run("crashed.json", {.start = "2026-11-25T22:00:00Z", .complete = false}),
                           write_run("other-suite.json", {.start = "2026-11-26T22:00:00Z", .suite = "quick"})});
  auto starts = [](const std::vector<history::BaselineRun>& runs) {
    std::vector<std::string> out;
    for (const auto& r : runs) out.push_back(r.gpu_uuid + " " + r.start_time.substr(0, 10));
    return out;
  };
  using V = std::vector<std::string>;
  EXPECT_EQ(starts(history::select_baseline(db(), {.suite = "nightly", .last = 2})),
            (V{"GPU-aaaa 2026-11-23", "GPU-aaaa 2026-11-24", "GPU-bbbb 2026-11-23", "GPU-bbbb 2026-11-24"}));
  EXPECT_EQ(starts(history::select_baseline(db(), {.node = "node-a", .last = 2})),
            (V{"GPU-aaaa 2026-11-24", "GPU-aaaa 2026-11-26"}))
      << "the incomplete run is never a baseline";
  EXPECT_EQ(starts(history::select_baseline(db(), {.node = "node-b", .before = "2026-11-23T22:00:00Z", .last = 5})),
            (V{"GPU-bbbb 2026-11-21", "GPU-bbbb 2026-11-22"}));
  EXPECT_EQ(starts(history::select_baseline(db(), {.filter = "wgmma", .node = "node-b", .last = 1})),
            (V{"GPU-bbbb 2026-11-24"}));
  auto none = input_error([&] { history::select_baseline(db(), {.filter = "attention", .last = 3}); });
  ASSERT_TRUE(none);
  EXPECT_EQ(none->exit_code(), 2);
  EXPECT_NE(std::string(none->what()).find("nothing to export"), std::string::npos);
  EXPECT_TRUE(input_error([&] { history::select_baseline(db(), {.last = 0}); }));
  EXPECT_TRUE(input_error([&] { history::select_baseline(db(), {.before = "yesterday", .last = 1}); }));
}

TEST_F(HistoryTest, BaselineExportRoundTripsAndNeverOverwrites) {
  const auto files = four_nights();
  history::add_runs(db(), files);
  std::map<std::string, std::string> originals;  // bytes -> name
  for (const auto& f : files) originals[read_text(f)] = f.filename().string();

  const fs::path out = dir_ / "baseline";
  const auto runs = history::select_baseline(db(), {.last = 4});
  ASSERT_EQ(runs.size(), 8u);
  const auto exported = history::export_runs(db(), runs, out);
  ASSERT_EQ(exported.size(), 8u);
  std::set<fs::path> names;
  for (const auto& e : exported) {
    names.insert(e.path);
    const std::string bytes = read_text(e.path);
    EXPECT_TRUE(originals.count(bytes)) << e.path << " is not byte for byte one of the added files";
    const aicbench::ResultFile loaded = aicbench::load_result_file(e.path);  // and loads as a result file
    EXPECT_EQ(loaded.json, json::parse(bytes));
    EXPECT_EQ(aicbench::run_facts(loaded, 0).start_time, e.run.start_time);
  }
  EXPECT_EQ(names.size(), 8u);

  // Exporting again into the same directory: eight new names, the first eight untouched.
  const std::string before = read_text(exported[0].path);
  const auto again = history::export_runs(db(), runs, out);
  for (const auto& e : again) EXPECT_FALSE(names.count(e.path)) << e.path << " was written over";
  EXPECT_EQ(read_text(exported[0].path), before);
  size_t json_files = 0;
  for (const auto& entry : fs::directory_iterator(out)) json_files += entry.path().extension() == ".json";
  EXPECT_EQ(json_files, 16u) << "and no temporary file is left behind";
  EXPECT_EQ(std::distance(fs::directory_iterator(out), fs::directory_iterator()), 16);
}

}  // namespace
